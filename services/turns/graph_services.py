"""The services the conversation graph reads and calls, behind graph.ports.TurnServices."""

from __future__ import annotations

from typing import Any

from graph.ports import TurnReading
from persistence.db import read_scope, session_scope
from services.interactive.service import choices_of
from services.media.understanding import content_blocks
from services.notifications.notifications import ref, replied_requests
from services.turns import degraded, memory
from services.turns.input import turn_input


class GraphServices:
    def read_turn(self, *, conversation_id: int, turn_id: int, after_note_id: int) -> TurnReading:
        with read_scope() as session:
            found = turn_input(
                session, conversation_id=conversation_id, turn_id=turn_id,
                after_note_id=after_note_id,
            )  # fmt: skip
            if found is None:  # deleted while its turn ran
                raise LookupError(f"conversation {conversation_id} no longer exists")
            inbound, notes = found.inbound, found.notes
            quoted = {m.context_wamid for m in inbound if m.context_wamid}
            replies = replied_requests(session, quoted)
            choices = choices_of(session, inbound)
        quoted_requests = {wamid: ref(n) for wamid, n in replies.items()}
        return TurnReading(
            inbound, notes, quoted_requests, previous_at=found.previous_at, choices=choices,
            mode=found.mode, needs_human=found.needs_human,
        )  # fmt: skip

    def media_blocks(self, message_ids: list[int]) -> list[dict[str, Any]]:
        with session_scope() as session:
            return content_blocks(session, message_ids)

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
