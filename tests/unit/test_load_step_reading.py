"""The load step takes the input read with the turn's start only while its state's notes
watermark is the one that reading used; otherwise it reads the turn itself."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, cast

from langgraph.runtime import Runtime

from graph.context import TurnContext
from graph.nodes.load import make_load_node
from graph.ports import TurnReading
from persistence.models import Author, Direction, Message

AT = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


def _customer(text: str, message_id: int) -> Message:
    return Message(id=message_id, conversation_id=1, direction=Direction.INBOUND,
                   author=Author.CUSTOMER, type="text", text=text, created_at=AT)  # fmt: skip


class Reader:
    """TurnServices.read_turn, recording the watermarks it was asked for."""

    def __init__(self) -> None:
        self.asked: list[int] = []

    def read_turn(self, *, conversation_id: int, turn_id: int, after_note_id: int) -> TurnReading:
        self.asked.append(after_note_id)
        return TurnReading([_customer("read by the load step", 2)], [])


def _load(reading: TurnReading | None, last_note_id: int) -> tuple[Reader, dict]:
    reader = Reader()
    context = TurnContext(
        conversation_id=1, turn_id=7, merchant_id=1, merchant_name="Acme",
        merchant_description="", tone="kind", default_language="en", customer_name=None,
        customer_language=None, reading=reading,
    )  # fmt: skip
    node = make_load_node(cast(Any, reader))
    update = node({"messages": [], "last_note_id": last_note_id}, Runtime(context=context))
    return reader, update


def test_the_reading_made_with_the_turns_start_is_taken_when_the_watermark_holds():
    made = TurnReading([_customer("read with the start", 1)], [], notes_after=5)
    reader, update = _load(made, last_note_id=5)
    assert reader.asked == []
    assert [m.content for m in update["messages"]] == ["read with the start"]


def test_another_watermark_in_the_state_reads_the_turn_again():
    made = TurnReading([_customer("read with the start", 1)], [], notes_after=5)
    reader, update = _load(made, last_note_id=9)
    assert reader.asked == [9]
    assert [m.content for m in update["messages"]] == ["read by the load step"]


def test_without_a_reading_the_load_step_reads_the_turn():
    reader, _ = _load(None, last_note_id=0)
    assert reader.asked == [0]
