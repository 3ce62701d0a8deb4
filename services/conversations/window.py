"""The customer service window: free-form messages reach a customer only within 24 hours
of their last message; after that, only approved templates on WhatsApp. Instagram has no
templates, but lets a person (an operator, staff answering an escalation) answer for 7
days with the HUMAN_AGENT tag."""

from __future__ import annotations

import enum
from datetime import UTC, datetime, timedelta

from persistence.models import ChannelType, Conversation, PhoneNumber

SERVICE_WINDOW = timedelta(hours=24)
HUMAN_AGENT_WINDOW = timedelta(days=7)
HUMAN_AGENT = "human_agent"  # raw key of an outbox row sent with Instagram's HUMAN_AGENT tag


class PersonReach(enum.StrEnum):
    """How a message written by a person can reach the customer now."""

    OPEN = "open"  # the 24 h window is open: as any message
    HUMAN_AGENT = "human_agent"  # Instagram, within 7 days: tagged HUMAN_AGENT
    TEMPLATE = "template"  # WhatsApp outside the window: a template (or parked text)
    CLOSED = "closed"  # Instagram beyond 7 days: nothing reaches them until they write


def within_service_window(conversation: Conversation, now: datetime | None = None) -> bool:
    last = conversation.last_inbound_at
    return last is not None and (now or datetime.now(UTC)) - last < SERVICE_WINDOW


def person_reach(
    conversation: Conversation, phone: PhoneNumber, now: datetime | None = None
) -> PersonReach:
    now = now or datetime.now(UTC)
    if within_service_window(conversation, now):
        return PersonReach.OPEN
    if phone.type != ChannelType.INSTAGRAM:
        return PersonReach.TEMPLATE
    last = conversation.last_inbound_at
    if last is not None and now - last < HUMAN_AGENT_WINDOW:
        return PersonReach.HUMAN_AGENT
    return PersonReach.CLOSED
