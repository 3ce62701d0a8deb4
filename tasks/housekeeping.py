"""The sweeper: Redis schedules, PostgreSQL remembers. Whatever Redis lost, this finds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import redis

from observability.logs import get_logger
from persistence.db import session_scope
from services.delivery.outbox import unresolved_sends
from services.events.events import undelivered
from services.media.flows import pending_media
from services.notifications.answers import unfinished
from services.notifications.dispatch import undispatched
from services.turns.opening import conversations_needing_turns
from settings import get_settings
from tasks import app, runtime
from tasks.delivery import reconcile
from tasks.events import deliver_event
from tasks.media import fetch as fetch_media
from tasks.notifications import deliver_answer, dispatch
from tasks.turn import schedule_flush

log = get_logger(__name__)


@app.task(name="switchboard.housekeeping.sweep", ignore_result=True)
def sweep() -> dict[str, int]:
    settings = get_settings()
    now = datetime.now(UTC)
    late = timedelta(seconds=settings.buffer_max_seconds + settings.sweeper_interval_seconds)
    with session_scope() as session:
        conversations = set(conversations_needing_turns(session, older_than=now - late))
        sends = unresolved_sends(
            session, older_than=now - timedelta(seconds=settings.send_reconcile_seconds)
        )
        # past the task's own retries: its task was lost with Redis
        lost_events = undelivered(
            session, older_than=now - timedelta(hours=1), max_attempts=settings.events_max_attempts
        )
        # the enqueue at intake was lost (broker down); a day on, WhatsApp may have dropped it
        media = pending_media(
            session, older_than=now - timedelta(minutes=1), newer_than=now - timedelta(days=1)
        )
        # notification tasks lost with the broker
        minute_ago = now - timedelta(minutes=1)
        notifications_to_dispatch = undispatched(session, older_than=minute_ago)
        answers_to_deliver = unfinished(session, older_than=minute_ago)
    try:
        conversations |= set(runtime.buffer().overdue(grace=settings.sweeper_interval_seconds))
    except redis.RedisError as exc:
        log.warning("sweeper.redis_unavailable", error=exc)
    for conversation_id in sorted(conversations):
        schedule_flush(conversation_id)
    for message_id in sends:
        reconcile.delay(message_id)
    for event_id in lost_events:
        deliver_event.delay(event_id)
    for message_id in media:
        fetch_media.delay(message_id)
    for notification_id in notifications_to_dispatch:
        dispatch.delay(notification_id)
    for notification_id in answers_to_deliver:
        deliver_answer.delay(notification_id)
    if conversations or sends:
        log.info("sweeper.rescheduled", conversations=len(conversations), sends=len(sends))
    return {"conversations": len(conversations), "sends": len(sends), "media": len(media)}
