"""Messages stored but never answered automatically (replays, imported history)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import update
from sqlalchemy.orm import Session

from persistence.models import Message, Turn, TurnResult


def set_aside(
    session: Session, *, conversation_id: int, message_ids: list[int], outcome: TurnResult
) -> int:
    """Give the messages a finished turn of their own, so no burst, sweep or later turn
    takes them as input; people still see them. The turn's id."""
    turn = Turn(
        conversation_id=conversation_id,
        attempts=0,
        outcome=outcome,
        finished_at=datetime.now(UTC),
    )
    session.add(turn)
    session.flush()
    session.execute(update(Message).where(Message.id.in_(message_ids)).values(turn_id=turn.id))
    return turn.id
