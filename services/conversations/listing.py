"""Conversations for the API: who they are with, on which channel, what was said last and
how many customer messages wait, filtered and searched (services.conversations.search)
in one SQL statement."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, aliased

from persistence.models import (
    Conversation,
    Customer,
    Message,
    PhoneNumber,
)
from services.conversations.inbox import (
    last_message_subquery,
    message_preview,
    unanswered_subquery,
)
from services.conversations.search import ConversationFilter, filtered, searched
from services.errors import NotFound

__all__ = ["ConversationFilter", "conversation_summary", "list_conversations"]


@dataclass(frozen=True)
class LastMessage:
    text: str
    at: datetime
    direction: str
    author: str


@dataclass(frozen=True)
class ConversationSummary:
    conversation: Conversation
    customer: Customer
    phone: PhoneNumber
    channel: str
    last_message: LastMessage | None
    unanswered: int


def list_conversations(
    session: Session, filters: ConversationFilter, *, limit: int = 100, offset: int = 0
) -> list[ConversationSummary]:
    """Matching conversations, best match first when searching, else most recently
    updated first. One statement, whatever the page size."""
    stmt = conversations_query(filters).limit(limit).offset(offset)
    return [_summary(row) for row in session.execute(stmt)]


def conversations_query(filters: ConversationFilter) -> Select:
    stmt = filtered(_summaries(), filters)
    if filters.q:
        stmt = searched(stmt, filters.q)
    return stmt.order_by(Conversation.updated_at.desc(), Conversation.id.desc())


def conversation_summary(session: Session, conversation_id: int) -> ConversationSummary:
    row = session.execute(_summaries().where(Conversation.id == conversation_id)).first()
    if row is None:
        raise NotFound(f"conversation {conversation_id} does not exist")
    return _summary(row)


def _summaries() -> Select:
    waiting = unanswered_subquery()
    last_id = last_message_subquery()
    last = aliased(Message)
    return (
        select(Conversation, Customer, PhoneNumber, last, waiting.c.unanswered)
        .join(Customer, Customer.id == Conversation.customer_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .outerjoin(last_id, last_id.c.conversation_id == Conversation.id)
        .outerjoin(last, last.id == last_id.c.last_id)
        .outerjoin(waiting, waiting.c.conversation_id == Conversation.id)
    )


def _summary(row: tuple) -> ConversationSummary:
    conversation, customer, phone, last, unanswered = row[:5]
    return ConversationSummary(
        conversation=conversation,
        customer=customer,
        phone=phone,
        channel=phone.type,
        last_message=LastMessage(
            text=message_preview(last),
            at=last.wa_timestamp or last.created_at,
            direction=str(last.direction),
            author=str(last.author),
        )
        if last is not None
        else None,
        unanswered=unanswered or 0,
    )
