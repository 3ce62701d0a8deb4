"""What POST /webhook does once the signature is good: store, then schedule.

Storing commits before anything is scheduled, so every 200 stands on durable rows.
Scheduling is best effort: when Redis is down, the sweeper schedules from PostgreSQL.
Statuses that cannot be queued are applied at once instead.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from kombu.exceptions import OperationalError as BrokerError

from channels.webhook import Notification, status_to_json
from observability.logs import get_logger
from persistence import jobs
from persistence.buffer import Buffer, process_buffer
from persistence.db import session_scope
from services.ingest.ingest import IngestResult, record_notification
from services.parking.flows import apply_statuses

log = get_logger(__name__)


@dataclass(frozen=True)
class Scheduler:
    """What intake hands work to; tests swap a part to simulate a lost schedule."""

    buffer: Callable[[], Buffer]
    schedule_flush: Callable[[int, float], None]
    apply_statuses_later: Callable[[Notification], bool]
    apply_statuses_now: Callable[[Notification], int]


def default_scheduler() -> Scheduler:
    """The process's Redis buffer and Celery, by task name."""

    def flush(conversation_id: int, countdown: float) -> None:
        jobs.send(jobs.Job("switchboard.turn.flush", (conversation_id,), max(0.0, countdown)))

    def later(notification: Notification) -> bool:
        statuses = [status_to_json(s) for s in notification.statuses]
        return jobs.send(jobs.Job("switchboard.status.apply", (statuses,)))

    def now(notification: Notification) -> int:
        return apply_statuses(list(notification.statuses))

    return Scheduler(process_buffer, flush, later, now)


def intake(notification: Notification, scheduler: Scheduler) -> IngestResult:
    with session_scope() as session:
        result = record_notification(session, notification)
        for message_id in result.media:
            jobs.enqueue(session, "switchboard.media.fetch", message_id)
    for conversation_id in sorted(result.to_buffer):
        _buffer(conversation_id, scheduler)
    if notification.statuses and not scheduler.apply_statuses_later(notification):
        log.warning("whatsapp.status.queue_unavailable")
        scheduler.apply_statuses_now(notification)
    return result


def _buffer(conversation_id: int, scheduler: Scheduler) -> None:
    try:
        noted = scheduler.buffer().note(conversation_id)
        if noted.is_new_burst:
            scheduler.schedule_flush(conversation_id, noted.seconds_left)
    except (BrokerError, redis.RedisError, OSError) as exc:
        log.warning("buffer.unavailable", conversation_id=conversation_id, error=exc)
