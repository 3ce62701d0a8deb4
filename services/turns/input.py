"""What a turn reads: its inbound burst, the notes written since the last turn, and when
the conversation last spoke before the burst."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, func, or_, select
from sqlalchemy.orm import Session

from persistence.models import Author, DeliveryStatus, Direction, Message


def inbound_of_turn(session: Session, turn_id: int) -> list[Message]:
    """The burst in WhatsApp order (timestamp, then arrival)."""
    stmt = (
        select(Message)
        .where(Message.turn_id == turn_id, Message.direction == Direction.INBOUND)
        .order_by(Message.wa_timestamp, Message.id)
    )
    return list(session.scalars(stmt))


def notes_since(session: Session, conversation_id: int, after_id: int) -> list[Message]:
    """Operator and Business-app messages and system notes the model has not seen yet."""
    stmt = (
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.id > after_id,
            or_(
                Message.author.in_([Author.OPERATOR, Author.SYSTEM]),
                # typed in the WhatsApp Business app; imported history (in a turn) stays out
                and_(Message.author == Author.BUSINESS_APP, Message.turn_id.is_(None)),
            ),
            Message.status.not_in([DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def written_before(session: Session, conversation_id: int, first: Message) -> datetime | None:
    """When the conversation's last message before `first` was written (any side, notes
    and dropped sends left out)."""
    written = func.coalesce(Message.wa_timestamp, Message.created_at)
    stmt = (
        select(written)
        .where(
            Message.conversation_id == conversation_id,
            Message.id != first.id,
            Message.direction != Direction.NOTE,
            Message.status.not_in([DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
            Message.type != "reaction",
            written <= (first.wa_timestamp or first.created_at),
            or_(Message.turn_id.is_(None), Message.turn_id != first.turn_id),
        )
        .order_by(written.desc())
        .limit(1)
    )
    return session.scalar(stmt)
