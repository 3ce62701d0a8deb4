"""The away message (#18 point 4): a customer who writes while the business is closed and
nobody answers them (no model configured, or the conversation waits for a person while no
operator of the merchant is at the console) gets the merchant's away message, once per
closed period, inside their 24-hour window, through the outbox.

Business hours follow the frozen-able clock (services.clock); the service window and
console presence are facts of the real world and follow real time, as everywhere else.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import or_, update
from sqlalchemy.orm import Session

from graph.llm import configured_providers
from persistence.models import Author, Conversation, ConversationMode, Merchant
from services.conversations.conversation import Parties
from services.conversations.window import within_service_window
from services.delivery.outbox import enqueue_message
from services.desk.presence import online_operators
from services.hours.business import schedule_of
from services.hours.schedule import is_open, last_closing
from services.merchants.merchant import find_merchant_user
from settings import get_settings


def queue_away_message(session: Session, parties: Parties, *, now: datetime) -> int | None:
    """The outbox id of the away message if this customer is due one now (`now`: the
    business clock), else None. Claimed with a conditional update, so it goes out once per
    closed period however many messages or turns there are."""
    conversation, customer, phone = parties
    merchant = session.get(Merchant, phone.merchant_id)
    if merchant is None or not merchant.away_message:
        return None
    schedule = schedule_of(merchant)
    if schedule.always_open or is_open(schedule, now):
        return None
    if not within_service_window(conversation) or _someone_answers(session, conversation, merchant):
        return None
    if find_merchant_user(
        session, merchant_id=merchant.id, wa_id=customer.wa_id, user_id=customer.user_id
    ):
        return None  # the merchant's own staff writing in
    closed_since = last_closing(schedule, now)
    not_yet = Conversation.away_sent_at.is_(None)
    claimed = session.scalar(
        update(Conversation)
        .where(
            Conversation.id == conversation.id,
            or_(not_yet, Conversation.away_sent_at < closed_since) if closed_since else not_yet,
        )
        .values(away_sent_at=now)
        .returning(Conversation.id)
    )
    if claimed is None:
        return None
    return enqueue_message(
        session, conversation_id=conversation.id, text=merchant.away_message, author=Author.SYSTEM
    )


def _someone_answers(session: Session, conversation: Conversation, merchant: Merchant) -> bool:
    """Whether the AI answers this conversation, or an operator of the merchant is online."""
    settings = get_settings()
    waits_for_person = conversation.mode != ConversationMode.AI or (
        conversation.needs_human and settings.handoff_pauses_ai
    )
    if configured_providers(settings) and not waits_for_person:
        return True
    online = online_operators(session, now=datetime.now(UTC), merchant_id=merchant.id)
    return bool(online)

