"""What POST /webhook does once the signature is good: store, then schedule.

Storing commits before anything is scheduled, so every 200 stands on durable rows.
Scheduling is best effort: when Redis is down, the sweeper schedules from PostgreSQL.
Delivery statuses are applied here, one monotonic UPDATE each, so no status waits in a
queue (one lost while its reply was `sending` could make a redone turn send it again);
only a late 131047 failure, whose message gets parked and a template sent, goes to the
`status` queue, and is parked here when the queue is unavailable.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from kombu.exceptions import OperationalError as BrokerError

from channels.webhook import Notification, StatusUpdate, status_to_json
from observability.logs import get_logger
from persistence import jobs
from persistence.buffer import Buffer, process_buffer
from persistence.db import session_scope
from persistence.models import ChannelType
from services.delivery.flows import apply_statuses as apply_delivery_statuses
from services.ingest.ingest import IngestResult, record_notification
from services.parking.flows import apply_statuses, late_refusals

log = get_logger(__name__)


@dataclass(frozen=True)
class Scheduler:
    """What intake hands work to; tests swap a part to simulate a lost schedule."""

    buffer: Callable[[], Buffer]
    schedule_flush: Callable[[int, float], None]
    apply_statuses: Callable[[list[StatusUpdate]], int]
    park_later: Callable[[list[StatusUpdate]], bool]
    park_now: Callable[[list[StatusUpdate]], int]


def default_scheduler() -> Scheduler:
    """The process's Redis buffer and Celery, by task name."""

    def flush(conversation_id: int, countdown: float) -> None:
        jobs.send(jobs.Job("switchboard.turn.flush", (conversation_id,), max(0.0, countdown)))

    def park_later(statuses: list[StatusUpdate]) -> bool:
        payload = [status_to_json(s) for s in statuses]
        return jobs.send(jobs.Job("switchboard.status.apply", (payload,)))

    return Scheduler(process_buffer, flush, apply_delivery_statuses, park_later, apply_statuses)


def intake(
    notification: Notification, scheduler: Scheduler, *, channel: str = ChannelType.WHATSAPP_CLOUD
) -> IngestResult:
    """Store, then schedule; `channel`: the type of the accounts the notification names."""
    result = IngestResult()
    if notification.messages or notification.others:  # a status alone stores nothing here
        with session_scope() as session:
            result = record_notification(session, notification, channel=channel)
            for message_id in result.media:
                jobs.enqueue(session, "switchboard.media.fetch", message_id)
    for conversation_id in sorted(result.to_buffer):
        _buffer(conversation_id, scheduler)
    if notification.statuses:
        _statuses(list(notification.statuses), scheduler)
    return result


def _statuses(statuses: list[StatusUpdate], scheduler: Scheduler) -> None:
    scheduler.apply_statuses(statuses)
    refusals = late_refusals(statuses)
    if refusals and not scheduler.park_later(refusals):
        log.warning("whatsapp.status.queue_unavailable")
        scheduler.park_now(refusals)


def _buffer(conversation_id: int, scheduler: Scheduler) -> None:
    try:
        noted = scheduler.buffer().note(conversation_id)
        if noted.is_new_burst:
            scheduler.schedule_flush(conversation_id, noted.seconds_left)
    except (BrokerError, redis.RedisError, OSError) as exc:
        log.warning("buffer.unavailable", conversation_id=conversation_id, error=exc)
