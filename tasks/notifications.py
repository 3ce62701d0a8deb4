"""Notification tasks: send a request to the staff, deliver an answer to the customer, and
draft the lasting public facts of an answer for review."""

from __future__ import annotations

from sqlalchemy.exc import OperationalError

from observability.logs import get_logger
from persistence.db import session_scope
from services import clock
from services.delivery.flows import send_pending
from services.notifications import flows as escalations
from services.notifications import sla
from tasks import app

log = get_logger(__name__)

_RETRY = {
    "autoretry_for": (OperationalError,),
    "retry_backoff": 1,
    "retry_backoff_max": 30,
    "max_retries": 8,
}


@app.task(name="switchboard.notifications.dispatch", **_RETRY)
def dispatch(notification_id: int) -> int:
    ids = escalations.dispatch(notification_id)
    for message_id in ids:
        send_pending(message_id, only_in_ai_mode=False)
    return len(ids)


@app.task(name="switchboard.notifications.deliver_answer", **_RETRY)
def deliver_answer(notification_id: int) -> str | None:
    for message_id in escalations.closure_notices(notification_id):
        send_pending(message_id, only_in_ai_mode=False)
    plan = escalations.deliver_answer(notification_id)
    for message_id in plan.send:
        send_pending(message_id, only_in_ai_mode=False)
    return plan.method


@app.task(name="switchboard.notifications.sla_check", ignore_result=True)
def sla_check() -> int:
    """Beat: find the requests whose SLA reached a further stage; one task per step."""
    with session_scope() as session:
        steps = sla.due_steps(session, now=clock.now())
    for step in steps:
        sla_step.delay(step.notification_id, int(step.stage))
    return len(steps)


@app.task(name="switchboard.notifications.sla_step", **_RETRY)
def sla_step(notification_id: int, stage: int) -> int:
    with session_scope() as session:
        ids = sla.advance(session, sla.Step(notification_id, sla.Stage(stage)))
    for message_id in ids:
        send_pending(message_id, only_in_ai_mode=False)
    return len(ids)


@app.task(name="switchboard.notifications.draft_knowledge", **_RETRY)
def draft_knowledge(notification_id: int) -> int | None:
    return escalations.draft_from_answer(notification_id)

