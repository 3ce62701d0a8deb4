"""Delivery statuses from webhooks, applied to the outbox in one transaction."""

from __future__ import annotations

from channels.webhook import StatusUpdate
from persistence.db import session_scope
from services.delivery.outbox import apply_status


def apply_statuses(statuses: list[StatusUpdate]) -> int:
    """Apply what WhatsApp reported; how many outbound messages it matched."""
    with session_scope() as session:
        return sum(1 for status in statuses if apply_status(session, status))
