"""Who is responsible for a conversation (`assignee_id`): set by hand, by a takeover, or by
the round-robin among online operators (ASSIGNMENT=round_robin); an operator gone offline
gives back the conversations still waiting for them."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Conversation, ConversationMode, Operator, PhoneNumber
from services.access.auth import Principal
from services.conversations import audit
from services.conversations.conversation import lock_conversation
from services.desk import presence
from services.errors import InvalidInput
from settings import get_settings


def assign(
    session: Session, conversation_id: int, operator_id: int | None, principal: Principal | None
) -> Conversation:
    """Assign to an operator, or unassign with None."""
    conversation = lock_conversation(session, conversation_id)
    if operator_id is not None:
        operator = session.get(Operator, operator_id)
        # another merchant's operator could never open the conversation: as if unknown
        if (
            operator is None
            or operator.revoked_at is not None
            or operator.merchant_id not in (None, _merchant_of(session, conversation))
        ):
            raise InvalidInput(f"operator {operator_id} does not exist or is revoked")
    _set(session, conversation, operator_id, principal, why="manual")
    return conversation


def assignee_filter(value: str | None, principal: Principal) -> int | Literal["none"] | None:
    """`?assigned_to=`: "me", "none" or an operator id."""
    if value is None:
        return None
    if value == "none":
        return "none"
    if value == "me":
        if principal.operator_id is None:
            raise InvalidInput("assigned_to=me needs an operator's token, not ADMIN_API_TOKEN")
        return principal.operator_id
    return int(value)


def route(session: Session, conversation_id: int, *, now: datetime | None = None) -> int | None:
    """Round-robin: a conversation that needs a person and has nobody goes to the online
    operator whose last assignment is oldest. The operator's id, or None."""
    if get_settings().assignment != "round_robin":
        return None
    conversation = lock_conversation(session, conversation_id)
    if conversation.assignee_id is not None or not conversation.needs_human:
        return None
    now = now or datetime.now(UTC)
    online = presence.online_operators(
        session, now=now, merchant_id=_merchant_of(session, conversation)
    )
    if not online:
        return None
    chosen = online[0]
    chosen.last_assigned_at = now
    _set(session, conversation, chosen.id, None, why="round_robin")
    return chosen.id


def _merchant_of(session: Session, conversation: Conversation) -> int:
    merchant_id = session.scalar(
        select(PhoneNumber.merchant_id).where(PhoneNumber.id == conversation.phone_number_id)
    )
    assert merchant_id is not None
    return merchant_id


def queued(session: Session) -> list[int]:
    """Conversations that need a person, with nobody assigned."""
    stmt = select(Conversation.id).where(
        Conversation.needs_human.is_(True), Conversation.assignee_id.is_(None)
    )
    return list(session.scalars(stmt.order_by(Conversation.needs_human_since).limit(200)))


def return_from_offline(session: Session, *, now: datetime) -> list[int]:
    """Unassign the waiting conversations (needing a person, not taken over) of operators
    without presence for OPERATOR_OFFLINE_SECONDS; the ids returned to the queue."""
    gone = select(Operator.id).where(presence.offline(now=now))
    stmt = (
        select(Conversation)
        .where(
            Conversation.assignee_id.in_(gone),
            Conversation.needs_human.is_(True),
            Conversation.mode == ConversationMode.AI,
        )
        .with_for_update(skip_locked=True)
    )
    returned = []
    for conversation in session.scalars(stmt.limit(200)):
        _set(session, conversation, None, None, why="offline")
        returned.append(conversation.id)
    return returned


def _set(
    session: Session,
    conversation: Conversation,
    operator_id: int | None,
    principal: Principal | None,
    *,
    why: str,
) -> None:
    if conversation.assignee_id == operator_id:
        return
    detail = {"from": conversation.assignee_id, "to": operator_id, "by": why}
    conversation.assignee_id = operator_id
    action = "assigned" if operator_id is not None else "unassigned"
    audit.record(session, conversation_id=conversation.id, action=action, principal=principal,
                 detail=detail)  # fmt: skip
