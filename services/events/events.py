"""Outgoing conversation events (needs_human, taken_over, handed_back, message_received).

Each event is a row first (written in the same transaction as the change it reports),
then a signed POST to EVENTS_WEBHOOK_URL, retried with backoff; the sweeper re-sends any
event whose task was lost. Receivers verify `X-Switchboard-Signature-256`, an HMAC-SHA256
of the raw body with EVENTS_WEBHOOK_SECRET, exactly like WhatsApp's own webhooks.
"""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence import jobs
from persistence.models import OutgoingEvent
from settings import get_settings

log = get_logger(__name__)

EVENT_TYPES = (
    "needs_human",
    "taken_over",
    "handed_back",
    "message_received",
    "notification_requested",
    "notification_answered",
)


class EventDeliveryFailed(Exception):
    """The receiver did not take the event; the caller retries with backoff."""


def emit(session: Session, event_type: str, *, conversation_id: int, **data: Any) -> int | None:
    """Record an event for delivery; None when no receiver is configured."""
    assert event_type in EVENT_TYPES, event_type
    if not get_settings().events_webhook_url:
        return None
    event = OutgoingEvent(
        type=event_type,
        conversation_id=conversation_id,
        payload={**data, "type": event_type, "conversation_id": conversation_id},
    )
    session.add(event)
    session.flush()
    event.payload = {**event.payload, "id": event.id, "occurred_at": _now_iso()}
    jobs.enqueue(session, "switchboard.events.deliver", event.id)
    return event.id


def signature(body: bytes, secret: str) -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def undelivered(session: Session, *, older_than: datetime, max_attempts: int) -> list[int]:
    stmt = (
        select(OutgoingEvent.id)
        .where(
            OutgoingEvent.delivered_at.is_(None),
            OutgoingEvent.created_at < older_than,
            OutgoingEvent.attempts < max_attempts,
        )
        .order_by(OutgoingEvent.id)
        .limit(200)
    )
    return list(session.scalars(stmt))


def _now_iso() -> str:
    return datetime.now(UTC).isoformat()
