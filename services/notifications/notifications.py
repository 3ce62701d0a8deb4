"""Notifications: a customer's question or support request, escalated to the merchant's staff.

This module opens them and answers queries about them. Sending them to the staff lives in
services.notifications.dispatch; answering them in services.notifications.answers.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import ARRAY, ColumnElement, DateTime, ScalarSelect, String, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import SQLColumnExpression
from sqlalchemy.types import TypeEngine

from observability.metrics import ESCALATIONS_OPENED
from persistence import jobs
from persistence.models import (
    Merchant,
    MerchantUser,
    Message,
    Notification,
    NotificationRecipient,
    NotificationStatus,
)
from services.conversations import audit
from services.conversations.conversation import conversation_parties
from services.errors import InvalidInput, NotFound
from services.events import events
from services.handoff.handoff import request_human
from services.notifications.kinds import NotificationType, kind_of

PREFIX = "NOTIF_"
INT32_MAX = 2**31 - 1
_REF = re.compile(r"^\s*NOTIF_(\d{1,19})\s*$", re.IGNORECASE)
_MENTION = re.compile(r"\bNOTIF[_\s#-]*(\d{1,10})\b", re.IGNORECASE)


def ref(notification_id: int) -> str:
    return f"{PREFIX}{notification_id}"


def parse_ref(value: str | int) -> int:
    """`NOTIF_123` -> 123, refusing other prefixes and ids outside PostgreSQL's int32."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    else:
        match = _REF.match(str(value))
        if match is None:
            raise InvalidInput(
                f"{str(value)[:40]!r} is not a notification id: it must look like {PREFIX}123"
            )
        number = int(match[1])
    if not 1 <= number <= INT32_MAX:
        raise InvalidInput(f"notification id {number} is out of range (1 to {INT32_MAX})")
    return number


def mentioned_ids(text: str) -> set[int]:
    """Notification ids a person named in free text (NOTIF_12, notif 12, NOTIF#12)."""
    found = {int(m) for m in _MENTION.findall(text or "")}
    return {n for n in found if 1 <= n <= INT32_MAX}


def open_notification(
    session: Session,
    *,
    conversation_id: int,
    notification_type: str,
    context: Any,
    turn_id: int | None = None,
) -> Notification:
    """Validate and store a new notification (status `requested`). Sending it to the staff
    happens after commit (tasks.notifications.dispatch). A turn that is redone gets the
    notification it opened the first time."""
    kind = kind_of(notification_type)
    if not isinstance(context, dict):
        raise InvalidInput("context must be a JSON object")
    missing = [name for name in kind.requested_fields if not context.get(name)]
    if missing:
        raise InvalidInput(
            f"a {kind.notification_type.value} needs {', '.join(missing)} in its context "
            f"(required: {', '.join(kind.requested_fields)})"
        )
    try:
        request = kind.request_schema.model_validate(
            {name: context[name] for name in kind.request_schema.model_fields if name in context}
        )
    except ValidationError as exc:
        raise InvalidInput(
            f"invalid {kind.notification_type.value} context: {_first_error(exc)}"
        ) from None
    dedupe_key = _dedupe_key(kind.notification_type, request.model_dump())
    if turn_id is not None and (
        existing := _opened_in_turn(session, turn_id, kind.notification_type, dedupe_key)
    ):
        return existing
    if dedupe_key and (
        pending := _pending_like(session, conversation_id, kind.notification_type, dedupe_key)
    ):
        return pending  # the same question, still waiting: asking again adds nothing
    conversation, customer, phone = conversation_parties(session, conversation_id)
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    data: dict[str, Any] = {
        **request.model_dump(),
        "lead_phone": customer.wa_id or customer.user_id,
        "customer_name": customer.profile_name,
    }
    notification = Notification(
        merchant_id=merchant.id,
        conversation_id=conversation.id,
        turn_id=turn_id,
        type=kind.notification_type.value,
        dedupe_key=dedupe_key,
        status=NotificationStatus.REQUESTED,
        context=data,
        answer_schema=kind.answer_json_schema(),
        allow_multiple_answers=kind.allow_multiple_answers,
    )
    try:
        with session.begin_nested():
            session.add(notification)
    except IntegrityError:  # the same turn, run twice at once
        existing = _opened_in_turn(session, turn_id or 0, kind.notification_type, dedupe_key)
        if existing is None:
            raise
        return existing
    jobs.enqueue(session, "switchboard.notifications.dispatch", notification.id)
    ESCALATIONS_OPENED.labels(kind.notification_type.value).inc()
    audit.record(
        session, conversation_id=conversation.id, action="notification_requested",
        detail={"notification_id": notification.id, "type": kind.notification_type.value},
    )  # fmt: skip
    events.emit(
        session, "notification_requested", conversation_id=conversation.id,
        notification_id=notification.id, notification_type=kind.notification_type.value,
    )  # fmt: skip
    return notification


def request_intervention(
    session: Session, *, conversation_id: int, reason: str, turn_id: int | None = None
) -> Notification:
    """The AI asks for a person: the conversation is flagged for operators and a support
    request goes to the merchant's staff (sent after commit: tasks.notifications)."""
    request_human(session, conversation_id, reason)
    return open_notification(
        session, conversation_id=conversation_id,
        notification_type=NotificationType.USER_SUPPORT_REQUEST,
        context={"support_request_reason": reason}, turn_id=turn_id,
    )  # fmt: skip


def _opened_in_turn(
    session: Session, turn_id: int, type_: NotificationType, dedupe_key: str
) -> Notification | None:
    return session.scalar(
        select(Notification).where(
            Notification.turn_id == turn_id,
            Notification.type == type_.value,
            Notification.dedupe_key == dedupe_key,
        )
    )


def _pending_like(
    session: Session, conversation_id: int, type_: NotificationType, dedupe_key: str
) -> Notification | None:
    return session.scalar(
        select(Notification)
        .where(
            Notification.conversation_id == conversation_id,
            Notification.type == type_.value,
            Notification.dedupe_key == dedupe_key,
            Notification.status == NotificationStatus.REQUESTED,
        )
        .order_by(Notification.id)
        .limit(1)
    )


def _dedupe_key(type_: NotificationType, request: dict[str, Any]) -> str:
    """A question's words in a normal form (case, accents, punctuation and spacing aside);
    empty for other requests, which stay one per turn."""
    question = request.get("question")
    if type_ != NotificationType.USER_QUESTION_REQUEST or not isinstance(question, str):
        return ""
    decomposed = unicodedata.normalize("NFKD", question.casefold())
    words = "".join(c for c in decomposed if c.isalnum() or c.isspace()).split()
    return hashlib.sha256(" ".join(words).encode()).hexdigest()[:32]


def pending_questions(session: Session, conversation_id: int) -> list[Notification]:
    """The conversation's questions the team has not answered yet, oldest first."""
    return list(
        session.scalars(
            select(Notification).where(*_pending(conversation_id)).order_by(Notification.id)
        )
    )


def pending_question_arrays(
    conversation_id: SQLColumnExpression[int],
) -> tuple[ScalarSelect[list[str | None]], ScalarSelect[list[datetime]]]:
    """pending_questions' questions and when each was asked, oldest first: two arrays (NULL
    for none) to read with other rows."""

    def oldest_first(column: SQLColumnExpression[Any], of: TypeEngine[Any]) -> ScalarSelect[Any]:
        ordered = aggregate_order_by(column, Notification.id)
        return (
            select(func.array_agg(ordered, type_=ARRAY(of)))
            .where(*_pending(conversation_id))
            .scalar_subquery()
        )

    return (
        oldest_first(Notification.context["question"].astext, String()),
        oldest_first(Notification.created_at, DateTime(timezone=True)),
    )


def _pending(conversation_id: int | SQLColumnExpression[int]) -> tuple[ColumnElement[bool], ...]:
    return (
        Notification.conversation_id == conversation_id,
        Notification.type == NotificationType.USER_QUESTION_REQUEST.value,
        Notification.status == NotificationStatus.REQUESTED,
    )


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(part) for part in error.get("loc", ())) or "context"
    return f"{where}: {error.get('msg', 'invalid')}"


def get_notification(
    session: Session, notification_id: int, *, merchant_id: int | None = None
) -> Notification:
    notification = session.get(Notification, notification_id)
    if notification is None or (
        merchant_id is not None and notification.merchant_id != merchant_id
    ):
        raise NotFound(f"{ref(notification_id)} does not exist")
    return notification


def list_notifications(
    session: Session,
    *,
    merchant_id: int | None = None,
    status: str | None = None,
    notification_type: str | None = None,
    conversation_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[Notification]:
    stmt = select(Notification)
    if merchant_id is not None:
        stmt = stmt.where(Notification.merchant_id == merchant_id)
    if status:
        stmt = stmt.where(Notification.status == NotificationStatus(status))
    if notification_type:
        stmt = stmt.where(Notification.type == kind_of(notification_type).notification_type.value)
    if conversation_id is not None:
        stmt = stmt.where(Notification.conversation_id == conversation_id)
    stmt = stmt.order_by(Notification.id.desc()).limit(limit).offset(offset)
    return list(session.scalars(stmt))


@dataclass(frozen=True)
class RecipientView:
    merchant_user_id: int
    name: str
    type: str
    conversation_id: int
    request_message_id: int | None
    request_status: str | None


def recipients_of(session: Session, notification_id: int) -> list[RecipientView]:
    stmt = (
        select(NotificationRecipient, MerchantUser, Message.status)
        .join(MerchantUser, MerchantUser.id == NotificationRecipient.merchant_user_id)
        .outerjoin(Message, Message.id == NotificationRecipient.request_message_id)
        .where(NotificationRecipient.notification_id == notification_id)
        .order_by(NotificationRecipient.id)
    )
    return [
        RecipientView(
            merchant_user_id=user.id,
            name=user.name,
            type=user.type,
            conversation_id=recipient.conversation_id,
            request_message_id=recipient.request_message_id,
            request_status=str(status) if status else None,
        )  # fmt: skip
        for recipient, user, status in session.execute(stmt)
    ]


@dataclass(frozen=True)
class OpenRequest:
    """A notification waiting for one staff member's answer, as their agent sees it."""

    notification_id: int
    summary: str
    request_wamid: str | None


def open_for_staff(session: Session, merchant_user_id: int) -> list[OpenRequest]:
    stmt = (
        select(Notification, Message.wamid)
        .join(NotificationRecipient, NotificationRecipient.notification_id == Notification.id)
        .outerjoin(Message, Message.id == NotificationRecipient.request_message_id)
        .where(
            NotificationRecipient.merchant_user_id == merchant_user_id,
            Notification.status == NotificationStatus.REQUESTED,
        )
        .order_by(Notification.id)
    )
    return [
        OpenRequest(notification.id, summary(notification), wamid)
        for notification, wamid in session.execute(stmt)
    ]


def asked_text(notification: Notification) -> str:
    """What the customer asked, in their words."""
    data = notification.context or {}
    fields = kind_of(notification.type).requested_fields
    return " ".join(str(data.get(name, "")) for name in fields).strip()


def summary(notification: Notification) -> str:
    """One line: what was asked (and its translation for the staff), by whom (for staff
    prompts, notes and listings)."""
    data = notification.context or {}
    who = " ".join(str(x) for x in (data.get("customer_name"), data.get("lead_phone")) if x)
    kind_label = data.get("support_request_type") or kind_of(notification.type).title
    asked = f'"{asked_text(notification)}"'
    if data.get("translation"):
        asked += f' (translated: "{data["translation"]}")'
    return f'{ref(notification.id)} ({kind_label} from {who or "a customer"}): {asked}'


def ambiguity(
    session: Session, *, merchant_user_id: int, turn_id: int, notification_id: int
) -> str | None:
    """Why answering `notification_id` from this turn would be a guess, or None.

    With several requests open for the staff member, the turn's messages must name the
    one answered: a WhatsApp reply to its request message, or its id in the text."""
    waiting = open_for_staff(session, merchant_user_id)
    if len(waiting) < 2 or notification_id not in {w.notification_id for w in waiting}:
        return None
    inbound = session.execute(
        select(Message.text, Message.context_wamid).where(
            Message.turn_id == turn_id, Message.direction == "in"
        )
    ).all()
    by_wamid = {w.request_wamid: w.notification_id for w in waiting if w.request_wamid}
    named: set[int] = set()
    for text, context_wamid in inbound:
        named |= mentioned_ids(text or "")
        if context_wamid in by_wamid:
            named.add(by_wamid[context_wamid])
    if notification_id in named:
        return None
    listing = "; ".join(w.summary for w in waiting)
    return (
        f"Not recorded: {len(waiting)} requests are waiting for this staff member ({listing}) "
        "and their message does not say which one it answers. Ask them which request they "
        "mean (they can reply to its message or write its id); do not guess."
    )


def replied_requests(session: Session, wamids: set[str]) -> dict[str, int]:
    """Which notification each quoted WhatsApp message asked about (request templates)."""
    if not wamids:
        return {}
    stmt = (
        select(Message.wamid, NotificationRecipient.notification_id)
        .join(NotificationRecipient, NotificationRecipient.request_message_id == Message.id)
        .where(Message.wamid.in_(wamids))
    )
    rows = session.execute(stmt)
    return {wamid: notification_id for wamid, notification_id in rows if wamid is not None}
