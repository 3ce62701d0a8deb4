"""Tenant isolation: a caller tied to one merchant never reaches another merchant's rows.

Requests name objects by id (in the path, the query, a JSON body or a form), under a few
conventional names. `check_references` looks up which merchant owns each one named and
refuses, as NotFound, any that belongs to another merchant: the same answer as for an id
that does not exist, so nothing reveals another merchant's data or even its existence.
It runs once per request, in the caller dependencies (api.deps.get_principal and the
console's get_console_user), so every route is covered, including routes added later that
use these names. Lists are limited with `Principal.scope` in their queries.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Select, literal, select
from sqlalchemy.orm import Session

from persistence.models import (
    CannedResponse,
    Conversation,
    Customer,
    Document,
    MediaAsset,
    MerchantUser,
    Message,
    MessageTemplate,
    Notification,
    Operator,
    PhoneNumber,
)
from services.access.auth import Principal
from services.errors import NotFound

INT32_MAX = 2**31 - 1


def _by_merchant_column(model: Any) -> Callable[[Any], Select[Any]]:
    return lambda value: select(model.merchant_id).where(model.id == value)


def _conversation(value: Any) -> Select[Any]:
    return (
        select(PhoneNumber.merchant_id)
        .join(Conversation, Conversation.phone_number_id == PhoneNumber.id)
        .where(Conversation.id == value)
    )


def _message(value: Any) -> Select[Any]:
    return (
        select(PhoneNumber.merchant_id)
        .join(Conversation, Conversation.phone_number_id == PhoneNumber.id)
        .join(Message, Message.conversation_id == Conversation.id)
        .where(Message.id == value)
    )


def _identity(value: int) -> Select[Any]:
    return select(literal(value))


# Reference name -> (label for the error, query of the owning merchant's id, integer id?)
OWNERS: dict[str, tuple[str, Callable[[Any], Select[Any]], bool]] = {
    "merchant_id": ("merchant", _identity, True),
    "conversation_id": ("conversation", _conversation, True),
    "message_id": ("message", _message, True),
    "document_id": ("document", _by_merchant_column(Document), True),
    "notification_id": ("notification", _by_merchant_column(Notification), True),
    "asset_id": ("media asset", _by_merchant_column(MediaAsset), True),
    "operator_id": ("operator", _by_merchant_column(Operator), True),
    "customer_id": ("customer", _by_merchant_column(Customer), True),
    "merchant_user_id": ("merchant user", _by_merchant_column(MerchantUser), True),
    "template_id": ("template", _by_merchant_column(MessageTemplate), True),
    "canned_id": ("canned response", _by_merchant_column(CannedResponse), True),
    "channel_id": ("channel", _by_merchant_column(PhoneNumber), True),
    # Meta's id of a business number (a string), as handoff bodies name it
    "phone_number_id": (
        "phone number",
        lambda value: select(PhoneNumber.merchant_id).where(PhoneNumber.phone_number_id == value),
        False,
    ),
}


def _id(value: Any, integer: bool) -> Any:
    """The id as the database compares it, or None for a value the route itself refuses."""
    if not integer:
        return value if isinstance(value, str) and 0 < len(value) <= 64 else None
    if isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError):
        return None
    return number if 1 <= number <= INT32_MAX else None


def _foreign(session: Session, name: str, value: Any, merchant_id: int) -> str | None:
    """The error message when the object named exists and belongs to another merchant."""
    label, owner_query, integer = OWNERS[name]
    key = _id(value, integer)
    if key is None:
        return None
    if name == "merchant_id":
        return None if key == merchant_id else f"merchant {key} does not exist"
    row = session.execute(owner_query(key)).first()
    if row is None or row[0] == merchant_id:
        return None  # unknown ids get the route's own 404
    return f"{label} {key} does not exist"


def references(*sources: Iterable[tuple[str, Any]]) -> Iterable[tuple[str, Any]]:
    """The (name, value) pairs of a request's parameters that name objects by id."""
    for source in sources:
        for name, value in source:
            if name in OWNERS:
                yield name, value


def check_references(
    session: Session, principal: Principal, refs: Iterable[tuple[str, Any]]
) -> None:
    """NotFound for the first object named that belongs to another merchant than the
    caller's; nothing to check for an all-merchant caller."""
    if principal.merchant_id is None:
        return
    for name, value in refs:
        message = _foreign(session, name, value, principal.merchant_id)
        if message is not None:
            raise NotFound(message)
