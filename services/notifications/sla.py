"""Notification SLAs: a request that waits too long gets a reminder, then the merchant's
admins, then it closes and the customer is told a person will follow up.

Targets are per merchant and notification type (services.hours.business.NotificationSla),
counted in business time from when the staff were asked (`dispatched_at`). Beat finds what is due
(`due_steps`); each step runs in its own task (`advance`), which moves `sla_stage`
forward under a row lock, so a step happens once however often beat runs.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence import jobs
from persistence.models import (
    Author,
    Merchant,
    Notification,
    NotificationRecipient,
    NotificationStatus,
)
from services.conversations import audit
from services.conversations.conversation import conversation_parties, lock_conversation
from services.conversations.window import within_service_window
from services.delivery.outbox import enqueue_message
from services.handoff.handoff import request_human
from services.handoff.phrases import phrase
from services.hours.business import NotificationSla, schedule_of
from services.hours.schedule import business_time_between
from services.notifications.dispatch import ask, staff_for, template_values
from services.notifications.kinds import kind_of
from services.notifications.notifications import asked_text, ref
from services.notifications.routing import ADMIN
from services.templates import templates

log = get_logger(__name__)


class Stage(enum.IntEnum):
    WAITING = 0
    REMINDED = 1  # half the target gone: the staff asked get a reminder
    ESCALATED = 2  # the target gone: the merchant's admins are asked too
    CLOSED = 3  # close_after gone: closed, the customer told an operator will follow up


REMINDER = (
    "Reminder: {ref} is still waiting for your answer ({asked}). Reply to its message or "
    "write {ref} with your answer."
)
OVERDUE = "{ref} is overdue: nobody has answered it yet ({asked}). Please answer it here."
CLOSED_FOR_CUSTOMER = {
    "en": "We couldn't get an answer from our team in time, sorry. An operator will follow "
    "up with you here.",
    "es": "No hemos conseguido una respuesta de nuestro equipo a tiempo, lo sentimos. Un "
    "operador te responderá aquí.",
    "pt": "Não conseguimos uma resposta da nossa equipe a tempo, desculpe. Um atendente vai "
    "responder aqui.",
    "fr": "Nous n'avons pas pu obtenir de réponse de notre équipe à temps, désolés. Un "
    "conseiller vous répondra ici.",
    "de": "Wir konnten leider nicht rechtzeitig eine Antwort von unserem Team bekommen. Ein "
    "Mitarbeiter meldet sich hier bei Ihnen.",
    "it": "Non siamo riusciti ad avere una risposta dal nostro team in tempo, ci scusiamo. "
    "Un operatore ti risponderà qui.",
    "nl": "We konden niet op tijd een antwoord van ons team krijgen, sorry. Een medewerker "
    "neemt hier contact met je op.",
}


def stage_for(sla: NotificationSla, elapsed: timedelta) -> Stage:
    minutes = elapsed / timedelta(minutes=1)
    if sla.close_after_minutes is not None and minutes >= sla.close_after_minutes:
        return Stage.CLOSED
    if minutes >= sla.target_minutes:
        return Stage.ESCALATED
    if minutes >= sla.target_minutes / 2:
        return Stage.REMINDED
    return Stage.WAITING


@dataclass(frozen=True)
class Step:
    notification_id: int
    stage: Stage


def due_steps(session: Session, *, now: datetime, limit: int = 500) -> list[Step]:
    """Open requests whose SLA has reached a further stage, for merchants that set one."""
    rows = session.execute(
        select(Notification, Merchant)
        .join(Merchant, Merchant.id == Notification.merchant_id)
        .where(
            Notification.status == NotificationStatus.REQUESTED,
            Notification.dispatched_at.is_not(None),
            Notification.sla_stage < Stage.CLOSED,
            Merchant.notification_slas != {},
        )
        .order_by(Notification.id)
        .limit(limit)
    ).all()
    steps = []
    for notification, merchant in rows:
        raw = (merchant.notification_slas or {}).get(notification.type)
        if raw is None:
            continue
        asked = notification.dispatched_at
        assert asked is not None
        elapsed = business_time_between(schedule_of(merchant), asked, now)
        stage = stage_for(NotificationSla.model_validate(raw), elapsed)
        if stage > notification.sla_stage:
            steps.append(Step(notification.id, stage))
    return steps


def advance(session: Session, step: Step) -> list[int]:
    """Take the step if nobody took it (or answered) meanwhile; the outbox ids to send."""
    notification = session.get(Notification, step.notification_id, with_for_update=True)
    if (
        notification is None
        or notification.status != NotificationStatus.REQUESTED
        or notification.sla_stage >= step.stage
    ):
        return []
    notification.sla_stage = step.stage
    audit.record(
        session, conversation_id=notification.conversation_id, action="notification_sla",
        detail={"notification_id": notification.id, "stage": step.stage.name.lower()},
    )  # fmt: skip
    log.info("notification.sla", notification_id=notification.id, stage=step.stage.name)
    if step.stage == Stage.CLOSED:
        return _close(session, notification)
    sent = _remind(session, notification, overdue=step.stage == Stage.ESCALATED)
    if step.stage == Stage.ESCALATED:
        _ask_admins(session, notification)
    return sent


def _remind(session: Session, notification: Notification, *, overdue: bool) -> list[int]:
    """A text to each staff member asked, in their window; else their request template again."""
    recipients = session.scalars(
        select(NotificationRecipient).where(
            NotificationRecipient.notification_id == notification.id
        )
    ).all()
    kind = kind_of(notification.type)
    asked = _asked(notification)
    text = (OVERDUE if overdue else REMINDER).format(ref=ref(notification.id), asked=asked)
    sent = []
    for recipient in recipients:
        conversation = lock_conversation(session, recipient.conversation_id)
        if within_service_window(conversation):
            sent.append(enqueue_message(
                session, conversation_id=conversation.id, text=text, author=Author.SYSTEM
            ))  # fmt: skip
            continue
        merchant = session.get(Merchant, notification.merchant_id)
        assert merchant is not None
        sent.append(templates.enqueue_template(
            session, conversation_id=conversation.id, role=kind.request_template,
            language=merchant.default_language, values=template_values(notification),
            merchant_id=merchant.id,
        ))  # fmt: skip
    return sent


def _ask_admins(session: Session, notification: Notification) -> None:
    """The merchant's admins not asked yet get the request (sent by the dispatch task)."""
    asked = set(
        session.scalars(
            select(NotificationRecipient.merchant_user_id).where(
                NotificationRecipient.notification_id == notification.id
            )
        )
    )
    _, _, phone = conversation_parties(session, notification.conversation_id)
    merchant = session.get(Merchant, notification.merchant_id)
    assert merchant is not None
    kind = kind_of(notification.type)
    for admin in staff_for(session, notification.merchant_id, ADMIN):
        if admin.id not in asked:
            ask(session, notification, kind, admin, phone_id=phone.id, merchant=merchant)
    jobs.enqueue(session, "switchboard.notifications.dispatch", notification.id)


def _close(session: Session, notification: Notification) -> list[int]:
    notification.status = NotificationStatus.EXPIRED
    reason = f"{ref(notification.id)} got no answer from the team in time ({_asked(notification)})"
    request_human(session, notification.conversation_id, reason)
    conversation, customer, _ = conversation_parties(session, notification.conversation_id)
    if not within_service_window(conversation):
        return []  # the operator who picks it up writes with a template
    merchant = session.get(Merchant, notification.merchant_id)
    assert merchant is not None
    text = phrase(CLOSED_FOR_CUSTOMER, customer.language or merchant.default_language)
    return [enqueue_message(
        session, conversation_id=conversation.id, text=text, author=Author.SYSTEM
    )]  # fmt: skip


def _asked(notification: Notification) -> str:
    return f'"{asked_text(notification)[:200]}"'
