"""What POST /webhook does once the signature is good: store, then schedule.

Storing commits before anything is scheduled, so every 200 stands on durable rows.
Scheduling is best effort: when Redis is down, the sweeper schedules from PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import redis
from kombu.exceptions import OperationalError as BrokerError

from channels.webhook import Notification
from observability.logs import get_logger
from persistence.buffer import Buffer
from persistence.db import session_scope
from services.ingest.ingest import IngestResult, record_notification

log = get_logger(__name__)


@dataclass(frozen=True)
class Scheduler:
    buffer: Callable[[], Buffer]
    schedule_flush: Callable[[int, float], None]
    apply_statuses_later: Callable[[Notification], None]
    apply_statuses_now: Callable[[Notification], int]
    fetch_media: Callable[[int], None]


def intake(notification: Notification, scheduler: Scheduler) -> IngestResult:
    with session_scope() as session:
        result = record_notification(session, notification)
    for conversation_id in sorted(result.to_buffer):
        _buffer(conversation_id, scheduler)
    for message_id in result.media:
        _fetch_media(message_id, scheduler)
    if notification.statuses:
        try:
            scheduler.apply_statuses_later(notification)
        except (BrokerError, redis.RedisError, OSError) as exc:
            log.warning("whatsapp.status.queue_unavailable", error=exc)
            scheduler.apply_statuses_now(notification)
    return result


def _buffer(conversation_id: int, scheduler: Scheduler) -> None:
    try:
        noted = scheduler.buffer().note(conversation_id)
        if noted.is_new_burst:
            scheduler.schedule_flush(conversation_id, noted.seconds_left)
    except (BrokerError, redis.RedisError, OSError) as exc:
        log.warning("buffer.unavailable", conversation_id=conversation_id, error=exc)


def _fetch_media(message_id: int, scheduler: Scheduler) -> None:
    try:
        scheduler.fetch_media(message_id)
    except (BrokerError, redis.RedisError, OSError) as exc:  # the sweeper schedules it later
        log.warning("media.fetch.queue_unavailable", message_id=message_id, error=exc)
