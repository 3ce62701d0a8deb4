"""What a turn reads: its inbound burst and the notes written since the last turn."""

from __future__ import annotations

from sqlalchemy import select
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
    """Operator messages and system notes the model has not seen yet."""
    stmt = (
        select(Message)
        .where(
            Message.conversation_id == conversation_id,
            Message.id > after_id,
            Message.author.in_([Author.OPERATOR, Author.SYSTEM]),
            Message.status.not_in([DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))
