"""The services the conversation graph reads and calls, behind graph.ports.TurnServices."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from graph.ports import TurnReading
from persistence.db import read_scope, session_scope
from persistence.models import Message
from services.interactive.service import choices_of
from services.media.understanding import content_blocks
from services.notifications.notifications import ref, replied_requests
from services.turns import degraded, memory
from services.turns.input import turn_input


def turn_reading(
    session: Session,
    *,
    inbound: list[Message],
    notes: list[Message],
    previous_at: datetime | None,
    mode: str,
    needs_human: bool,
    notes_after: int | None = None,
) -> TurnReading:
    """The turn's input with what its burst refers to: the requests quoted messages answer,
    the options it chose."""
    quoted = {m.context_wamid for m in inbound if m.context_wamid}
    replies = replied_requests(session, quoted)
    return TurnReading(
        inbound, notes, {wamid: ref(n) for wamid, n in replies.items()},
        previous_at=previous_at, choices=choices_of(session, inbound), mode=mode,
        needs_human=needs_human, notes_after=notes_after,
    )  # fmt: skip


class GraphServices:
    def read_turn(self, *, conversation_id: int, turn_id: int, after_note_id: int) -> TurnReading:
        with read_scope() as session:
            found = turn_input(
                session, conversation_id=conversation_id, turn_id=turn_id,
                after_note_id=after_note_id,
            )  # fmt: skip
            if found is None:  # deleted while its turn ran
                raise LookupError(f"conversation {conversation_id} no longer exists")
            return turn_reading(
                session, inbound=found.inbound, notes=found.notes, previous_at=found.previous_at,
                mode=found.mode, needs_human=found.needs_human,
            )  # fmt: skip

    def media_blocks(self, message_ids: list[int]) -> list[dict[str, Any]]:
        with session_scope() as session:
            return content_blocks(session, message_ids)

    def inbound_messages(self, message_ids: list[int]) -> list[Message]:
        with read_scope() as session:
            return list(session.scalars(select(Message).where(Message.id.in_(message_ids))))

    def answer_without_model(
        self, *, conversation_id: int, turn_id: int, reason: str
    ) -> tuple[str | None, str]:
        with session_scope() as session:
            fallback = degraded.answer_without_model(
                session, conversation_id=conversation_id, turn_id=turn_id, reason=reason
            )
        return fallback.text, fallback.outcome

    def summarise(self, previous: str, lines: list[str]) -> str | None:
        return memory.summarise(previous, lines)
