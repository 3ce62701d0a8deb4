"""Finding customers: by a substring of their name, username, number or user id, each with
their conversations and when they were last active. Two statements per page: the page of
customers, then their conversations."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from persistence.models import Conversation, Customer, Message
from services.customers.identity import identity_contains
from services.errors import NotFound

Q_MAX = 200


@dataclass(frozen=True)
class CustomerActivity:
    customer: Customer
    last_activity: datetime | None  # their conversations' latest message
    conversations: list[tuple[int, datetime | None]]  # (conversation id, its latest message)


def _activity() -> Select:
    """Per conversation: when its latest message was written."""
    return select(
        Message.conversation_id, func.max(Message.created_at).label("last_at")
    ).group_by(Message.conversation_id)


def search_customers(
    session: Session,
    *,
    q: str | None = None,
    merchant_id: int | None = None,
    limit: int = 50,
    offset: int = 0,
) -> list[CustomerActivity]:
    """Customers whose identity holds `q` (all without it), the most recently active first."""
    activity = _activity().subquery()
    last = (
        select(Conversation.customer_id, func.max(activity.c.last_at).label("last_at"))
        .join(activity, activity.c.conversation_id == Conversation.id)
        .group_by(Conversation.customer_id)
        .subquery()
    )
    stmt = (
        select(Customer, last.c.last_at)
        .outerjoin(last, last.c.customer_id == Customer.id)
        .order_by(last.c.last_at.desc().nulls_last(), Customer.id.desc())
    )
    if q and q.strip():
        stmt = stmt.where(identity_contains(q[:Q_MAX]))
    if merchant_id is not None:
        stmt = stmt.where(Customer.merchant_id == merchant_id)
    page = session.execute(stmt.limit(limit).offset(offset)).all()
    return _with_conversations(session, [(c, at) for c, at in page])


def customer_activity(session: Session, customer_id: int) -> CustomerActivity:
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise NotFound(f"customer {customer_id} does not exist")
    (found,) = _with_conversations(session, [(customer, None)])
    return found


def _with_conversations(
    session: Session, page: list[tuple[Customer, datetime | None]]
) -> list[CustomerActivity]:
    if not page:
        return []
    ids = [c.id for c, _ in page]
    theirs = select(Conversation.id).where(Conversation.customer_id.in_(ids))
    activity = _activity().where(Message.conversation_id.in_(theirs)).subquery()
    rows = session.execute(
        select(Conversation.customer_id, Conversation.id, activity.c.last_at)
        .outerjoin(activity, activity.c.conversation_id == Conversation.id)
        .where(Conversation.customer_id.in_(ids))
        .order_by(activity.c.last_at.desc().nulls_last(), Conversation.id.desc())
    ).all()
    by_customer: dict[int, list[tuple[int, datetime | None]]] = {}
    for customer_id, conversation_id, at in rows:
        by_customer.setdefault(customer_id, []).append((conversation_id, at))
    result = []
    for customer, _ in page:
        conversations = by_customer.get(customer.id, [])
        latest = max((at for _, at in conversations if at), default=None)
        result.append(CustomerActivity(customer, latest, conversations))
    return result
