"""What the graph asks of the rest of Switchboard, and nothing more.

The graph decides; the services own the records. A worker hands `build_graph` an object with
these abilities (services.turns.graph_services), so the graph imports no service and a
test can hand it its own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from persistence.models import Message


@dataclass(frozen=True)
class TurnReading:
    """A turn's input: its burst in WhatsApp order, the notes the model has not seen,
    which request each quoted message answers (quoted wamid -> "NOTIF_12"), when the
    message before the burst was written, and which options the burst chose."""

    inbound: list[Message]
    notes: list[Message]
    quoted_requests: dict[str, str] = field(default_factory=dict)
    # when the conversation's message before this burst was written (gap markers)
    previous_at: datetime | None = None
    # inbound message id -> (option id, title) it chose: a tapped button or list row, or a
    # number answering options we sent as numbered text
    choices: dict[int, tuple[str, str]] = field(default_factory=dict)
    # the conversation's mode now, and whether it waits for a person (graph.nodes.route)
    mode: str = "ai"
    needs_human: bool = False
    # read before the graph ran, with the notes after this id: the load step takes it if
    # its state's watermark is the same (None: read by the load step itself)
    notes_after: int | None = None


class TurnServices(Protocol):
    def read_turn(self, *, conversation_id: int, turn_id: int, after_note_id: int) -> TurnReading:
        """The turn's new input."""
        ...

    def media_blocks(self, message_ids: list[int]) -> list[dict[str, Any]]:
        """Multimodal prompt blocks for these inbound messages' stored media."""
        ...

    def inbound_messages(self, message_ids: list[int]) -> list[Message]:
        """These inbound messages as they are now (an image's description, say)."""
        ...

    def answer_without_model(
        self, *, conversation_id: int, turn_id: int, reason: str
    ) -> tuple[str | None, str]:
        """No model can answer: the text to send, if any, and the turn's outcome
        (`auto_answered`: a knowledge-base answer; `needs_human`: a person is flagged and
        the text is the holding message)."""
        ...

    def summarise(self, previous: str, lines: list[str]) -> str | None:
        """The conversation's running summary updated with these older lines ("Customer:
        ...", "You: ..."); None when no model could write it (the old one stays)."""
        ...
