"""Turn tasks: close a burst and run the conversation's turn."""

from __future__ import annotations

import psycopg
import redis
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy.exc import OperationalError

from observability.logs import get_logger
from tasks import app
from tasks import runner as conversation_turn
from tasks.time_limit import TurnTimeLimit, soft_limit_as_base_exception

log = get_logger(__name__)


@app.task(
    name="switchboard.turn.flush",
    # a database that restarted: the pools reconnect, the turn is redone with the same input
    autoretry_for=(OperationalError, psycopg.OperationalError),
    retry_backoff=1,
    retry_backoff_max=30,
    max_retries=8,
)
def flush(conversation_id: int) -> str:
    """Run the turn once the burst is due; reschedule itself while it is not."""
    left = conversation_turn.seconds_until_due(conversation_id)
    if left:
        schedule_flush(conversation_id, left)
        return "waiting"
    try:
        with soft_limit_as_base_exception():
            outcome = conversation_turn.run(conversation_id)
    except (SoftTimeLimitExceeded, TurnTimeLimit):
        log.warning("turn.soft_time_limit", conversation_id=conversation_id)
        conversation_turn.give_up_stuck_turn(conversation_id)
        follow_up(conversation_id)
        return "timeout"
    if outcome.status != "busy":
        follow_up(conversation_id)
    return outcome.status


def schedule_flush(conversation_id: int, countdown: float = 0.0) -> None:
    flush.apply_async((conversation_id,), countdown=max(0.0, countdown))


def follow_up(conversation_id: int) -> None:
    """Messages that arrived during the turn start the next burst."""
    try:
        left = conversation_turn.next_burst_countdown(conversation_id)
    except redis.RedisError:
        left = 0.0
    if left is not None:
        schedule_flush(conversation_id, left)
