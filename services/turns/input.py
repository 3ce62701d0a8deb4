"""What a turn reads: its inbound burst, the notes written since the last turn, and when
the conversation last spoke before the burst."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from persistence.models import Author, Conversation, DeliveryStatus, Direction, Message


@dataclass(frozen=True)
class TurnInput:
    """The conversation's mode and whether it waits for a person, the turn's burst and the
    notes since `after_id`, as one statement reads them."""

    mode: str
    needs_human: bool
    inbound: list[Message]
    notes: list[Message]


def inbound_of_turn(session: Session, turn_id: int) -> list[Message]:
    """The burst in WhatsApp order (timestamp, then arrival)."""
    stmt = select(Message).where(_of_turn(turn_id)).order_by(Message.wa_timestamp, Message.id)
    return list(session.scalars(stmt))


def turn_input(
    session: Session, *, conversation_id: int, turn_id: int, after_note_id: int
) -> TurnInput | None:
    """The conversation's row, the turn's burst (as inbound_of_turn) and the operator and
    Business-app messages and system notes the model has not seen yet, in one statement
    (the conversation joined with the messages of either kind); None when the conversation
    does not exist."""
    inbound, note = _of_turn(turn_id), _note_since(conversation_id, after_note_id)
    rows = session.execute(
        select(
            Conversation.mode, Conversation.needs_human, Message,
            inbound.label("inbound"), note.label("note"),
        )
        .outerjoin(Message, and_(Message.conversation_id == Conversation.id, or_(inbound, note)))
        .where(Conversation.id == conversation_id)
        .order_by(Message.wa_timestamp, Message.id)
    ).all()  # fmt: skip
    if not rows:
        return None
    return TurnInput(
        mode=rows[0].mode,
        needs_human=rows[0].needs_human,
        inbound=[row.Message for row in rows if row.inbound],
        notes=sorted((row.Message for row in rows if row.note), key=lambda m: m.id),
    )


def _of_turn(turn_id: int) -> ColumnElement[bool]:
    return and_(Message.turn_id == turn_id, Message.direction == Direction.INBOUND)


def _note_since(conversation_id: int, after_id: int) -> ColumnElement[bool]:
    """Operator and Business-app messages and system notes after `after_id`."""
    return and_(
        Message.conversation_id == conversation_id,
        Message.id > after_id,
        or_(
            Message.author.in_([Author.OPERATOR, Author.SYSTEM]),
            # typed in the WhatsApp Business app; imported history (in a turn) stays out
            and_(Message.author == Author.BUSINESS_APP, Message.turn_id.is_(None)),
        ),
        Message.status.not_in([DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
    )


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
