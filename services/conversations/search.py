"""Which conversations an operator asks for: filters (mode, merchant, customer, the desk's
assignee, label and status) and `q`, PostgreSQL full text over message text (`simple`
configuration without accents: no stemming, so it works in every language a customer
writes), ranked by how well the best message of the conversation matches; a conversation
whose customer's name, username, number or user id holds the text matches too, and ranks
first. Shared by the API's list (listing) and the console's inbox (inbox); statements given
here must join Conversation, Customer and PhoneNumber."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import ColumnElement, Select, and_, case, func, literal, literal_column, or_, select

from persistence.models import (
    Conversation,
    ConversationMode,
    ConversationStatus,
    Message,
    PhoneNumber,
)
from services.customers.identity import identity_contains, is_customer

Q_MAX = 200

_SIMPLE: ColumnElement[str] = literal_column("'simple'")
# The stored vector of a message's text, GIN-indexed (`ix_messages_search_vector`, migration
# 0026): matched through the index and ranked without computing a vector per message.
MESSAGE_VECTOR = Message.search_vector


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
    channel: str | None = None  # a channel account type (whatsapp_cloud, twilio_whatsapp...)


def filtered(stmt: Select, filters: ConversationFilter) -> Select:
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
    if filters.channel:
        conditions.append(PhoneNumber.type == filters.channel)
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


def searched(stmt: Select, q: str) -> Select:
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
