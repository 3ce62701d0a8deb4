"""Delivering outgoing events: a signed POST, its own transactions around it."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx

from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import OutgoingEvent
from services.events.events import EventDeliveryFailed, signature
from settings import get_settings

log = get_logger(__name__)


def deliver(event_id: int, *, http: httpx.Client | None = None) -> bool:
    """POST one event. True when delivered (or nothing to do); raises to be retried."""
    settings = get_settings()
    with session_scope() as session:
        event = session.get(OutgoingEvent, event_id)
        if event is None or event.delivered_at is not None or not settings.events_webhook_url:
            return True
        body = json.dumps(event.payload, separators=(",", ":"), default=str).encode()
        event.attempts += 1
        event_type = event.type
    headers = {
        "Content-Type": "application/json",
        "X-Switchboard-Event": event_type,
        "X-Switchboard-Delivery": str(event_id),
    }
    if settings.events_webhook_secret:
        headers["X-Switchboard-Signature-256"] = signature(
            body, settings.events_webhook_secret.get_secret_value()
        )
    try:
        client = http or httpx.Client(timeout=10)
        response = client.post(settings.events_webhook_url, content=body, headers=headers)
        ok = 200 <= response.status_code < 300
        error = None if ok else f"HTTP {response.status_code}"
    except httpx.HTTPError as exc:
        ok, error = False, f"{type(exc).__name__}: {exc}"
    _record_result(event_id, error)
    if not ok:
        log.warning("events.delivery.failed", event_id=event_id, error=error)
        raise EventDeliveryFailed(error)
    return True


def _record_result(event_id: int, error: str | None) -> None:
    with session_scope() as session:
        event = session.get(OutgoingEvent, event_id)
        if event is None:
            return
        if error is None:
            event.delivered_at = datetime.now(UTC)
        event.last_error = error
