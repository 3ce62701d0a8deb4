"""The checkpoint's messages stored as plain fields: read back equal, of the same classes,
and anything the plain encoding cannot keep exactly goes langgraph's way."""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum

import ormsgpack
import pytest
import zstandard
from langchain_core.messages import (
    AIMessage,
    AIMessageChunk,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

from persistence.checkpoint_serde import (
    MESSAGES_TYPE,
    PLAIN_MESSAGES_TYPE,
    MessagesSerializer,
)

serde = MessagesSerializer()


def _history() -> list:
    return [
        SystemMessage("be brief", id="sys-1"),
        HumanMessage(
            "do you have [size 42]?",
            id="in-7",
            additional_kwargs={"turn_id": 3, "media_ids": [11, 12]},
        ),  # fmt: skip
        AIMessage(
            "",
            id="run-1",
            tool_calls=[
                {
                    "name": "search_products",
                    "args": {"query": "shoes", "size": 42},
                    "id": "call-1",
                    "type": "tool_call",
                }
            ],
            usage_metadata={"input_tokens": 120, "output_tokens": 9, "total_tokens": 129},
            response_metadata={"finish_reason": "STOP", "model_name": "gemini-2.5-flash"},
        ),  # fmt: skip
        ToolMessage("2 found", tool_call_id="call-1", name="search_products", id="tool-1"),
        AIMessage([{"type": "text", "text": "Yes, two pairs."}], id="run-2"),
        HumanMessage("thanks \ud800", id="in-8"),  # a lone surrogate, as JsonPlus replaces it
    ]


def test_a_history_reads_back_equal_and_of_the_same_classes():
    history = _history()
    kind, blob = serde.dumps_typed(history)
    back = serde.loads_typed((kind, blob))
    assert kind == MESSAGES_TYPE
    assert [type(m) for m in back] == [type(m) for m in history]
    legacy = JsonPlusSerializer()
    assert back == legacy.loads_typed(legacy.dumps_typed(history))
    assert back[2].tool_calls[0]["args"] == {"query": "shoes", "size": 42}
    assert back[1].model_copy(update={"content": "x"}).additional_kwargs["media_ids"] == [11, 12]


class Finish(StrEnum):
    STOP = "STOP"


@pytest.mark.parametrize(
    "metadata",
    [{"finish_reason": Finish.STOP}, {"at": datetime(2026, 12, 1, tzinfo=UTC)}, {1: "x"}],
    ids=["enum", "datetime", "non-str key"],
)
def test_a_value_plain_fields_would_change_goes_langgraphs_way(metadata):
    history = [HumanMessage("hi", id="in-1"), AIMessage("hello", response_metadata=metadata)]
    legacy = JsonPlusSerializer()
    assert serde.dumps_typed(history) == legacy.dumps_typed(history)
    back = serde.loads_typed(serde.dumps_typed(history))
    assert back == legacy.loads_typed(legacy.dumps_typed(history))
    if isinstance(metadata.get("at"), datetime):  # a type langgraph revives
        assert back[1].response_metadata["at"] == metadata["at"]


@pytest.mark.parametrize(
    "value",
    [[], [{"id": 1, "turn_id": 2, "text": "note"}], [AIMessageChunk("part")], "text", None, 3],
    ids=["empty", "notes", "subclass", "str", "none", "int"],
)
def test_anything_but_a_list_of_messages_is_stored_as_before(value):
    assert serde.dumps_typed(value) == JsonPlusSerializer().dumps_typed(value)
    assert serde.loads_typed(serde.dumps_typed(value)) == value


def test_a_long_history_is_stored_compressed():
    history = [HumanMessage(f"do you have the trail shoes in size {n}?", id=f"in-{n}")
               for n in range(100)]  # fmt: skip
    kind, blob = serde.dumps_typed(history)
    assert kind == MESSAGES_TYPE
    assert len(blob) < len(ormsgpack.packb([(m.type, m.__dict__) for m in history])) / 4
    assert serde.loads_typed((kind, blob)) == history


def test_checkpoints_written_before_still_load():
    history = _history()
    current = serde.loads_typed(serde.dumps_typed(history))
    assert serde.loads_typed(JsonPlusSerializer().dumps_typed(history)) == current
    uncompressed = [(m.type, m.__dict__) for m in history if "\ud800" not in str(m.content)]
    plain = ormsgpack.packb(uncompressed)  # as written before the history was compressed
    assert serde.loads_typed((PLAIN_MESSAGES_TYPE, plain)) == current[:-1]


def _internals(message) -> tuple:
    return (
        type(message), message.__dict__, message.__pydantic_fields_set__,
        message.__pydantic_extra__, message.__pydantic_private__,
    )  # fmt: skip


def test_a_message_reads_back_as_model_construct_makes_it():
    history = [m for m in _history() if "\ud800" not in str(m.content)]
    kind, blob = serde.dumps_typed(history)
    back = serde.loads_typed((kind, blob))
    made = [type(m).model_construct(**m.__dict__) for m in history]
    assert [_internals(m) for m in back] == [_internals(m) for m in made]
    # the objects are usable as any message: copied, dumped, compared
    assert back[1].model_copy(update={"content": "x"}).content == "x"
    assert back[2].model_dump() == history[2].model_dump()


def test_fields_another_langchain_wrote_take_model_construct():
    """A blob with a field gone (an older langchain-core) or one added (a newer one)."""
    fields = dict(HumanMessage("hi", id="in-1").__dict__)
    del fields["name"]
    older = ormsgpack.packb([("human", fields)])
    (message,) = serde.loads_typed((PLAIN_MESSAGES_TYPE, older))
    assert message.name is None and message.content == "hi"  # the default, as before
    newer = zstandard.compress(ormsgpack.packb([("human", {**fields, "name": None, "lang": "en"})]))
    (message,) = serde.loads_typed((MESSAGES_TYPE, newer))
    assert message.__pydantic_extra__ == {"lang": "en"} and "lang" not in message.__dict__
