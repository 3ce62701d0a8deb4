"""WhatsApp's customer service window: free-form messages reach a customer only within 24
hours of their last message; after that, only approved templates."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from persistence.models import Conversation

SERVICE_WINDOW = timedelta(hours=24)


def within_service_window(conversation: Conversation, now: datetime | None = None) -> bool:
    last = conversation.last_inbound_at
    return last is not None and (now or datetime.now(UTC)) - last < SERVICE_WINDOW
