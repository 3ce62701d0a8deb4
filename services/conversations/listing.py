"""Conversations for the API: who they are with, on which channel, what was said last and
how many customer messages wait, filtered and searched in one SQL statement.

`q` is PostgreSQL full text over message text (`simple` configuration without accents:
no stemming, so it works in every language a customer writes), ranked by how well the
best message of the conversation matches; a conversation whose customer's name, username,
number or user id holds the text matches too, and ranks first.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, literal_column, or_, select
from sqlalchemy.orm import Session, aliased

from persistence.models import (
    Conversation,
    ConversationMode,
    ConversationStatus,
    Customer,
    Message,
    PhoneNumber,
)
from services.conversations.inbox import (
    last_message_subquery,
    message_preview,
    unanswered_subquery,
)
from services.customers.identity import identity_contains, is_customer
from services.errors import NotFound

# The channel of today's conversations: every business number is a WhatsApp Cloud API one.
WHATSAPP_CLOUD = "whatsapp_cloud"
Q_MAX = 200

_SIMPLE: ColumnElement[str] = literal_column("'simple'")
# Identical to the expression of the index `ix_messages_text_search` (migration 0011).
MESSAGE_VECTOR = func.to_tsvector(
    _SIMPLE, func.switchboard_unaccent(func.coalesce(Message.text, literal_column("''")))
)


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


@dataclass(frozen=True)
class ConversationFilter:
    mode: ConversationMode | None = None
    needs_human: bool | None = None
    merchant_id: int | None = None
    updated_since: datetime | None = None
    customer: str | None = None  # a wa_id (with or without "+") or a user id
    q: str | None = None
    # the desk: "none" for unassigned conversations, else an operator id
    assigned_to: int | Literal["none"] | None = None
    label: str | None = None  # normalised (services.desk.labels)
    status: ConversationStatus | None = None


def list_conversations(
    session: Session, filters: ConversationFilter, *, limit: int = 100, offset: int = 0
) -> list[ConversationSummary]:
    """Matching conversations, best match first when searching, else most recently
    updated first. One statement, whatever the page size."""
    stmt = conversations_query(filters).limit(limit).offset(offset)
    return [_summary(row) for row in session.execute(stmt)]


def conversations_query(filters: ConversationFilter) -> Select:
    stmt = _filtered(_summaries(), filters)
    if filters.q:
        stmt = _searched(stmt, filters.q)
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


def _filtered(stmt: Select, filters: ConversationFilter) -> Select:
    conditions: list[ColumnElement[bool]] = []
    if filters.mode is not None:
        conditions.append(Conversation.mode == filters.mode)
    if filters.needs_human is not None:
        conditions.append(Conversation.needs_human == filters.needs_human)
    if filters.merchant_id is not None:
        conditions.append(PhoneNumber.merchant_id == filters.merchant_id)
    if filters.updated_since is not None:
        conditions.append(Conversation.updated_at >= filters.updated_since)
    if filters.customer:
        conditions.append(is_customer(filters.customer))
    conditions.extend(_desk_conditions(filters))
    return stmt.where(and_(*conditions)) if conditions else stmt


def _desk_conditions(filters: ConversationFilter) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if filters.assigned_to == "none":
        conditions.append(Conversation.assignee_id.is_(None))
    elif filters.assigned_to is not None:
        conditions.append(Conversation.assignee_id == filters.assigned_to)
    if filters.label:
        conditions.append(Conversation.labels.contains([filters.label]))
    if filters.status is not None:
        conditions.append(Conversation.status == filters.status)
    return conditions


def _searched(stmt: Select, q: str) -> Select:
    """Conversations with a message matching `q` (the messages' full-text index finds them)
    or whose customer's identity holds it. Rank: the best message's ts_rank; 1 for an
    identity match."""
    query = func.websearch_to_tsquery(_SIMPLE, func.switchboard_unaccent(literal(q[:Q_MAX])))
    hits = (
        select(Message.conversation_id, func.max(func.ts_rank(MESSAGE_VECTOR, query)).label("rank"))
        .where(Message.text.is_not(None), MESSAGE_VECTOR.op("@@")(query))
        .group_by(Message.conversation_id)
        .subquery()
    )
    who = identity_contains(q)
    rank = func.greatest(func.coalesce(hits.c.rank, 0.0), case((who, 1.0), else_=0.0))
    return (
        stmt.outerjoin(hits, hits.c.conversation_id == Conversation.id)
        .where(or_(hits.c.conversation_id.is_not(None), who))
        .order_by(rank.desc())
    )


def _summary(row: tuple) -> ConversationSummary:
    conversation, customer, phone, last, unanswered = row[:5]
    return ConversationSummary(
        conversation=conversation,
        customer=customer,
        phone=phone,
        channel=WHATSAPP_CLOUD,
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
