"""What a turn reads: its inbound burst, the notes written since the last turn, and when
the conversation last spoke before the burst.

The usual turn reads them with its start (`services.turns.start`), before the graph runs:
the notes since the watermark its checkpoint holds (`last_note_id`, which LangGraph keeps
inline in the checkpoint's row, as it keeps every plain value). The graph's load step takes
that reading when its state has the same watermark, and reads again otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import (
    BigInteger,
    BindParameter,
    ColumnElement,
    Integer,
    ScalarSelect,
    Select,
    and_,
    bindparam,
    case,
    cast,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased

from persistence.constants import equals, none_of, one_of
from persistence.models import Author, Conversation, DeliveryStatus, Direction, Message

Bound = int | BindParameter[int]  # a value, or a bound parameter of a cached statement


@dataclass(frozen=True)
class TurnInput:
    """The conversation's mode and whether it waits for a person, the turn's burst, the
    notes since `after_id` and when the conversation spoke before the burst, as one
    statement reads them."""

    mode: str
    needs_human: bool
    inbound: list[Message]
    notes: list[Message]
    # when the conversation's message before the burst was written (None without a burst)
    previous_at: datetime | None


def inbound_of_turn(session: Session, turn_id: int) -> list[Message]:
    """The burst in WhatsApp order (timestamp, then arrival)."""
    stmt = select(Message).where(_of_turn(turn_id)).order_by(Message.wa_timestamp, Message.id)
    return list(session.scalars(stmt))


def turn_input(
    session: Session, *, conversation_id: int, turn_id: int, after_note_id: int
) -> TurnInput | None:
    """The conversation's row, the turn's burst (as inbound_of_turn), the operator and
    Business-app messages and system notes the model has not seen yet, and when the message
    before the burst was written, in one statement (the conversation joined with the
    messages of either kind); None when the conversation does not exist."""
    params = {"conversation_id": conversation_id, "turn_id": turn_id, "after_id": after_note_id}
    rows = session.execute(_turn_input_statement(), params).all()
    if not rows:
        return None
    return TurnInput(
        mode=rows[0].mode,
        needs_human=rows[0].needs_human,
        previous_at=rows[0].previous_at,
        inbound=[row.Message for row in rows if row.inbound],
        notes=sorted((row.Message for row in rows if row.note), key=lambda m: m.id),
    )


@cache
def _turn_input_statement() -> Select[str, bool, Message, bool, bool, datetime]:
    """turn_input's statement, built once (its subquery's alias is costly to make) and
    bound per turn."""
    conversation_id = bindparam("conversation_id", type_=Integer)
    turn_id = bindparam("turn_id", type_=Integer)
    inbound, note = (
        _of_turn(turn_id),
        _note_since(conversation_id, bindparam("after_id", type_=Integer)),
    )
    return (
        select(
            Conversation.mode, Conversation.needs_human, Message,
            inbound.label("inbound"), note.label("note"),
            written_before_burst(conversation_id, turn_id).label("previous_at"),
        )
        .outerjoin(Message, and_(Message.conversation_id == Conversation.id, or_(inbound, note)))
        .where(Conversation.id == conversation_id)
        .order_by(Message.wa_timestamp, Message.id)
    )  # fmt: skip


def notes_watermark(checkpoint: ColumnElement[Any]) -> ColumnElement[int]:
    """The `last_note_id` of a checkpoint (its JSONB column), the newest note its graph has
    seen: 0 without a checkpoint, or if it is not kept inline (the load step then finds a
    watermark of its own and reads again)."""
    value = checkpoint["channel_values"]["last_note_id"]
    seen = case((func.jsonb_typeof(value) == "number", cast(value.astext, BigInteger)))
    return func.coalesce(seen, 0)


def note_ids_since(
    conversation_id: BindParameter[int], after_id: ColumnElement[int]
) -> ScalarSelect[list[int]]:
    """The ids of turn_input's notes, as one array (NULL: none)."""
    notes = _note_since(conversation_id, after_id)
    return select(func.array_agg(Message.id)).where(notes).scalar_subquery()


def _of_turn(turn_id: Bound) -> ColumnElement[bool]:
    return and_(Message.turn_id == turn_id, Message.direction == Direction.INBOUND)


def _note_since(
    conversation_id: Bound, after_id: Bound | ColumnElement[int]
) -> ColumnElement[bool]:
    """Operator and Business-app messages and system notes after `after_id`."""
    return and_(
        Message.conversation_id == conversation_id,
        Message.id > after_id,
        # written as literals: ix_messages_notes stays usable in a generic plan
        or_(
            one_of(Message.author, [Author.OPERATOR, Author.SYSTEM]),
            # typed in the WhatsApp Business app; imported history (in a turn) stays out
            and_(equals(Message.author, Author.BUSINESS_APP), Message.turn_id.is_(None)),
        ),
        none_of(Message.status, [DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
    )


def written_before_burst(conversation_id: Bound, turn_id: Bound) -> ScalarSelect[datetime]:
    """When the conversation's last message before the turn's first (inbound_of_turn's
    order) was written (any side, notes and dropped sends left out); NULL without one."""
    first = (
        select(Message.id, Message.turn_id, _written(Message).label("written"))
        .where(_of_turn(turn_id))
        .order_by(Message.wa_timestamp, Message.id)
        .limit(1)
        .correlate(None)
        .subquery()
    )
    earlier = aliased(Message)
    return (
        select(_written(earlier))
        .where(
            earlier.conversation_id == conversation_id,
            earlier.id != first.c.id,
            # literals: the generic plan then also walks back from the burst and stops
            none_of(earlier.direction, [Direction.NOTE]),
            none_of(earlier.status, [DeliveryStatus.FAILED, DeliveryStatus.DROPPED]),
            none_of(earlier.type, ["reaction"]),
            _written(earlier) <= first.c.written,
            or_(earlier.turn_id.is_(None), earlier.turn_id != first.c.turn_id),
        )
        .order_by(_written(earlier).desc())
        .limit(1)
        .correlate(None)
        .scalar_subquery()
    )


def _written(message: type[Message]) -> ColumnElement[datetime]:
    return func.coalesce(message.wa_timestamp, message.created_at)
