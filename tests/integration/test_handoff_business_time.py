"""Handoff timers count the merchant's business time (services.handoff.business_time), on
the real database: a weekend does not make an escalation "unclaimed for 60 hours"."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from persistence.db import session_scope
from persistence.models import Merchant
from services.handoff.business_time import due_in_business_time
from tests.factories import make_conversation

pytestmark = pytest.mark.integration
MADRID = ZoneInfo("Europe/Madrid")
FRIDAY_1630 = datetime(2026, 12, 4, 16, 30, tzinfo=MADRID)
MONDAY_0910 = datetime(2026, 12, 7, 9, 10, tzinfo=MADRID)


def _escalated(merchant: dict, *, hours: dict | None) -> int:
    with session_scope() as session:
        session.get(Merchant, merchant["id"]).opening_hours = hours
        session.get(Merchant, merchant["id"]).timezone = "Europe/Madrid"
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"]
        )
        conversation.needs_human, conversation.announced_at = True, FRIDAY_1630
        return conversation.id


def _due(conversation_id: int, seconds: float) -> bool:
    with session_scope() as session:
        found = due_in_business_time(
            session, [conversation_id], since="announced_at", seconds=seconds, now=MONDAY_0910
        )
    return found == [conversation_id]


def test_the_weekend_does_not_count_towards_an_unclaimed_escalation(merchant):
    weekdays = {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
    conversation_id = _escalated(merchant, hours=weekdays)
    assert _due(conversation_id, 30 * 60)  # 30 min on Friday + 10 on Monday = 40 min
    assert not _due(conversation_id, 45 * 60)  # though 64 hours went by on the clock


def test_without_hours_the_timers_count_plain_time(merchant):
    conversation_id = _escalated(merchant, hours=None)
    assert _due(conversation_id, 60 * 60 * 64)
    assert not _due(conversation_id, 60 * 60 * 65)
