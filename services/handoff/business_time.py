"""Handoff timers count business time: an escalation left unclaimed overnight is not
"unclaimed for 12 hours" when the shop opened an hour ago, and an operator is not idle
while the business is closed."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from persistence.models import Conversation, Merchant, PhoneNumber
from services.hours.business import schedule_of
from services.hours.schedule import business_time_between


def due_in_business_time(
    session: Session,
    conversation_ids: list[int],
    *,
    since: Literal["announced_at", "operator_active_at"],
    seconds: float,
    now: datetime,
) -> list[int]:
    """Those of `conversation_ids` (found with plain time, which is never shorter) whose
    `since` timestamp is at least `seconds` of their merchant's business time ago."""
    if not conversation_ids:
        return []
    rows = session.execute(
        select(Conversation.id, getattr(Conversation, since), Merchant)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .join(Merchant, Merchant.id == PhoneNumber.merchant_id)
        .where(Conversation.id.in_(conversation_ids))
        .order_by(Conversation.id)
    ).all()
    wanted = timedelta(seconds=seconds)
    return [
        conversation_id
        for conversation_id, started, merchant in rows
        if started is not None
        and business_time_between(schedule_of(merchant), started, now) >= wanted
    ]
