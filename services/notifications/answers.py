"""Answering a notification, and getting the answer to the customer.

`answer_notification` validates and records an answer under the notification's row lock,
so of two staff members answering at once exactly one wins. Delivery runs after commit
(tasks.notifications): the answer is localized by a small model, then, inside the 24-hour
window (from the WhatsApp timestamp of the customer's last message), it becomes a note in
the customer's conversation and the customer's graph runs to relay it in the
conversation's tone; outside the window it goes out as the answer template. The other
staff asked are told it is closed.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import jsonschema
from sqlalchemy import exists, or_, select
from sqlalchemy.orm import Session

from observability.logs import get_logger
from observability.metrics import ESCALATION_ANSWER_SECONDS, ESCALATIONS_ANSWERED
from persistence import jobs
from persistence.models import (
    MerchantUser,
    Notification,
    NotificationRecipient,
    NotificationStatus,
)
from services.conversations import audit
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.events import events
from services.handoff.handoff import lock
from services.notifications.kinds import NotificationType, kind_of
from services.notifications.notifications import parse_ref, ref

log = get_logger(__name__)


@dataclass(frozen=True)
class Answerer:
    """Who answers: a staff member from WhatsApp, or an operator through the API."""

    name: str
    merchant_user_id: int | None = None
    operator_id: int | None = None


def answer_notification(
    session: Session,
    *,
    notification_id: int | str,
    answer: str | dict[str, Any],
    answerer: Answerer,
    merchant_id: int | None = None,
) -> Notification:
    """Validate and record an answer. Delivery is the caller's to schedule after commit."""
    number = parse_ref(notification_id)
    notification = session.scalar(
        select(Notification).where(Notification.id == number).with_for_update()
    )
    if notification is None or (
        merchant_id is not None and notification.merchant_id != merchant_id
    ):
        raise NotFound(f"{ref(number)} does not exist")
    kind = kind_of(notification.type)
    if answerer.merchant_user_id is not None:
        _check_asked(session, notification, answerer.merchant_user_id)
    if (
        notification.status == NotificationStatus.ANSWERED
        and not notification.allow_multiple_answers
    ):
        by = f" by {notification.answered_by}" if notification.answered_by else ""
        raise Conflict(f"{ref(number)} has already been answered{by} and is now closed.")
    data = _parse(answer)
    missing = [name for name in kind.answered_fields if not data.get(name)]
    if missing:
        raise InvalidInput(
            f"the answer to {ref(number)} needs {', '.join(missing)} "
            f"(required: {', '.join(kind.answered_fields)})"
        )
    _validate(notification.answer_schema, data, ref(number))
    now = datetime.now(UTC)
    notification.status = NotificationStatus.ANSWERED
    notification.answer = data
    notification.context = {**notification.context, **data}
    notification.answered_at = now
    notification.answered_by = answerer.name[:200]
    notification.answered_by_user_id = answerer.merchant_user_id
    notification.delivered_at = None
    notification.delivery_method = None
    if kind.notification_type == NotificationType.USER_SUPPORT_REQUEST:
        conversation = lock(session, notification.conversation_id)
        conversation.needs_human = False  # handled: the AI may speak again
        conversation.needs_human_since = None
    audit.record(
        session, conversation_id=notification.conversation_id, action="notification_answered",
        detail={"notification_id": number, "by": answerer.name},
    )  # fmt: skip
    events.emit(
        session, "notification_answered", conversation_id=notification.conversation_id,
        notification_id=number, answered_by=answerer.name,
    )  # fmt: skip
    jobs.enqueue(session, "switchboard.notifications.deliver_answer", number)
    jobs.enqueue(session, "switchboard.notifications.draft_knowledge", number)
    ESCALATIONS_ANSWERED.labels(kind.notification_type.value).inc()
    ESCALATION_ANSWER_SECONDS.labels(kind.notification_type.value).observe(
        (now - notification.created_at).total_seconds()
    )
    log.info("notification.answered", notification_id=number)
    return notification


def _check_asked(session: Session, notification: Notification, merchant_user_id: int) -> None:
    """Staff answer what they were asked; admins of the merchant may answer anything."""
    asked = exists().where(
        NotificationRecipient.notification_id == notification.id,
        NotificationRecipient.merchant_user_id == merchant_user_id,
    )
    admin = exists().where(
        MerchantUser.id == merchant_user_id,
        MerchantUser.merchant_id == notification.merchant_id,
        MerchantUser.type == "admin",
    )
    if not session.scalar(select(or_(asked, admin))):
        raise Forbidden(f"{ref(notification.id)} was not sent to you")


def _parse(answer: str | dict[str, Any]) -> dict[str, Any]:
    if isinstance(answer, str):
        try:
            answer = json.loads(answer)
        except json.JSONDecodeError as exc:
            raise InvalidInput(f"answer_json is not valid JSON: {exc.msg} (at {exc.pos})") from None
    if not isinstance(answer, dict):
        raise InvalidInput('answer_json must be a JSON object, e.g. {"answer": "..."}')
    return answer


def _validate(schema: dict[str, Any], data: dict[str, Any], label: str) -> None:
    validator = jsonschema.Draft202012Validator(schema)
    error = jsonschema.exceptions.best_match(validator.iter_errors(data))
    if error is not None:
        where = "/".join(str(part) for part in error.absolute_path) or "answer"
        raise InvalidInput(
            f"the answer to {label} does not match its schema: {where}: {error.message}"
        )


# --- delivery -------------------------------------------------------------------------


def unfinished(session: Session, *, older_than: datetime) -> list[int]:
    """For the sweeper: answered notifications whose delivery task was lost."""
    stmt = select(Notification.id).where(
        Notification.status == NotificationStatus.ANSWERED,
        Notification.answered_at < older_than,
        Notification.delivered_at.is_(None),
    )
    return list(session.scalars(stmt.order_by(Notification.id).limit(200)))
