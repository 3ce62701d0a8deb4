"""Handoff timers on the `state` queue: unclaimed escalations and idle takeovers, counted
in the merchant's business time.

Timestamps live in PostgreSQL, so the timers survive restarts of every process."""

from __future__ import annotations

import logging
from datetime import timedelta

from persistence.db import session_scope
from persistence.models import Author
from services import clock
from services.delivery.flows import send_pending
from services.delivery.outbox import enqueue_message
from services.handoff import handoff
from services.handoff.business_time import due_in_business_time
from services.turns.followup import follow_up_text
from settings import get_settings
from tasks import app

log = logging.getLogger(__name__)


@app.task(name="switchboard.housekeeping.handoff_timers", ignore_result=True)
def handoff_timers() -> dict[str, int]:
    settings = get_settings()
    now = clock.now()
    unclaimed_after, idle_after = settings.handoff_unclaimed_seconds, settings.operator_idle_seconds
    with session_scope() as session:
        waiting = handoff.unclaimed_escalations(
            session, older_than=now - timedelta(seconds=unclaimed_after)
        )
        unclaimed = due_in_business_time(
            session, waiting, since="announced_at", seconds=unclaimed_after, now=now
        )
        quiet = handoff.idle_takeovers(session, older_than=now - timedelta(seconds=idle_after))
        idle = due_in_business_time(
            session, quiet, since="operator_active_at", seconds=idle_after, now=now
        )
    for conversation_id in unclaimed:
        remind_unclaimed.delay(conversation_id)
    for conversation_id in idle:
        hand_back_idle.delay(conversation_id)
    return {"unclaimed": len(unclaimed), "idle": len(idle)}


@app.task(name="switchboard.housekeeping.remind_unclaimed")
def remind_unclaimed(conversation_id: int) -> str:
    with session_scope() as session:
        if not handoff.reannounce(session, conversation_id):
            return "reannounced"
        message_id = enqueue_message(
            session,
            conversation_id=conversation_id,
            text=follow_up_text(session, conversation_id),
            author=Author.SYSTEM,
        )
    send_pending(message_id, only_in_ai_mode=True)
    return "followed_up"


@app.task(name="switchboard.housekeeping.hand_back_idle")
def hand_back_idle(conversation_id: int) -> str:
    idle = get_settings().operator_idle_seconds
    with session_scope() as session:
        answer_now = handoff.hand_back_if_idle(session, conversation_id, idle_seconds=idle)
    return "active" if answer_now is None else "handed_back"
