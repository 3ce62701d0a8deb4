"""Figures for the console's stats page: traffic per hour, who answers, what waits; for one
merchant (`merchant_id`) or, when it is None, for all."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from persistence.models import (
    Author,
    Conversation,
    ConversationMode,
    DeliveryStatus,
    Direction,
    Message,
    Notification,
    NotificationStatus,
    PhoneNumber,
)
from services.conversations.inbox import waiting_for_a_person


def conversations_of(merchant_id: int | None) -> list[ColumnElement[bool]]:
    if merchant_id is None:
        return []
    numbers = select(PhoneNumber.id).where(PhoneNumber.merchant_id == merchant_id)
    return [Conversation.phone_number_id.in_(numbers)]


def messages_of(merchant_id: int | None) -> list[ColumnElement[bool]]:
    if merchant_id is None:
        return []
    conversations = select(Conversation.id).where(*conversations_of(merchant_id))
    return [Message.conversation_id.in_(conversations)]


@dataclass(frozen=True)
class HourBucket:
    start: datetime
    customer: int
    ai: int
    operator: int
    automatic: int = 0  # no model: knowledge-base answers and holding messages

    @property
    def total(self) -> int:
        return self.customer + self.ai + self.operator + self.automatic


@dataclass(frozen=True)
class Share:
    """Who answered customers: the model, the knowledge base without a model (degraded
    mode), the holding message (no model, nothing sure to say), and people."""

    ai: int
    human: int
    auto_answer: int = 0
    holding: int = 0

    @property
    def total(self) -> int:
        return self.ai + self.human + self.auto_answer + self.holding

    def percent(self, part: int) -> int:
        return round(100 * part / self.total) if self.total else 0

    def as_dict(self) -> dict[str, int]:
        return {"ai": self.ai, "auto_answer": self.auto_answer, "holding": self.holding,
                "human": self.human}  # fmt: skip


ANSWER_AUTHORS = (Author.AI, Author.AUTO_ANSWER, Author.HOLDING, Author.OPERATOR)


def messages_per_hour(
    session: Session, *, hours: int = 24, merchant_id: int | None = None
) -> list[HourBucket]:
    """Customer, AI and operator messages in each of the last `hours` hours (oldest first)."""
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    first = now - timedelta(hours=hours - 1)
    hour = func.date_trunc("hour", Message.created_at)
    rows = session.execute(
        select(hour, Message.author, func.count())
        .where(
            Message.created_at >= first,
            Message.direction != Direction.NOTE,
            Message.status != DeliveryStatus.DROPPED,
            *messages_of(merchant_id),
        )
        .group_by(hour, Message.author)
    ).all()
    counts: dict[tuple[datetime, str], int] = {
        (start.astimezone(UTC), str(author)): n for start, author, n in rows
    }
    buckets = []
    for i in range(hours):
        start = first + timedelta(hours=i)
        buckets.append(
            HourBucket(
                start=start,
                customer=counts.get((start, Author.CUSTOMER), 0),
                ai=counts.get((start, Author.AI), 0),
                automatic=counts.get((start, Author.AUTO_ANSWER), 0)
                + counts.get((start, Author.HOLDING), 0),
                operator=counts.get((start, Author.OPERATOR), 0),
            )
        )
    return buckets


def answer_share(
    session: Session, *, since: datetime | None = None, merchant_id: int | None = None
) -> Share:
    """Messages that reached customers, by who wrote them: the model, the knowledge base,
    the holding message, people. Only the first counts as "answered by the AI"."""
    stmt = (
        select(Message.author, func.count())
        .where(
            Message.direction == Direction.OUTBOUND,
            Message.status.not_in([DeliveryStatus.DROPPED, DeliveryStatus.FAILED]),
            Message.author.in_(ANSWER_AUTHORS),
            *messages_of(merchant_id),
        )
        .group_by(Message.author)
    )
    if since is not None:
        stmt = stmt.where(Message.created_at >= since)
    counts = {str(author): n for author, n in session.execute(stmt).all()}
    return Share(
        ai=counts.get(Author.AI, 0),
        human=counts.get(Author.OPERATOR, 0),
        auto_answer=counts.get(Author.AUTO_ANSWER, 0),
        holding=counts.get(Author.HOLDING, 0),
    )


def open_escalations(session: Session, *, merchant_id: int | None = None) -> int:
    """Conversations waiting for a person to take over: the inbox's "Needs human" tab."""
    stmt = select(func.count()).where(waiting_for_a_person(), *conversations_of(merchant_id))
    return session.scalar(stmt) or 0


def taken_over(session: Session, *, merchant_id: int | None = None) -> int:
    stmt = select(func.count()).where(
        Conversation.mode == ConversationMode.OPERATOR, *conversations_of(merchant_id)
    )
    return session.scalar(stmt) or 0


def open_notifications(session: Session, *, merchant_id: int | None = None) -> int:
    """Questions and support requests still waiting for the merchant's staff."""
    stmt = select(func.count()).where(Notification.status == NotificationStatus.REQUESTED)
    if merchant_id is not None:
        stmt = stmt.where(Notification.merchant_id == merchant_id)
    return session.scalar(stmt) or 0
