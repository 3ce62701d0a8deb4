"""An image described only after its turn ran reaches the next turns' prompts: the load
step puts its description into the stored customer message, and gives up after a few
turns when none comes."""

from __future__ import annotations

from typing import Any, cast

from langchain_core.messages import AIMessage, HumanMessage

from graph.nodes.load import DESCRIPTION_CHECKS, described_since
from persistence.models import MediaStatus, Message

SHOE = "A white running shoe; size label 42."


def _photo(message_id: int, text: str | None, transcript: str | None) -> Message:
    return Message(id=message_id, type="image", text=text, transcript=transcript,
                   media={"mime_type": "image/jpeg"}, media_status=MediaStatus.STORED)  # fmt: skip


class Described:
    """TurnServices.inbound_messages over a fixed set of messages."""

    def __init__(self, *messages: Message) -> None:
        self.messages = messages
        self.asked: list[list[int]] = []

    def inbound_messages(self, message_ids: list[int]) -> list[Message]:
        self.asked.append(message_ids)
        return [m for m in self.messages if m.id in message_ids]


def _waiting(content: str, *ids: int, checks: int = DESCRIPTION_CHECKS) -> HumanMessage:
    extra = {"turn_id": 3, "media_ids": list(ids), "undescribed": list(ids),
             "description_checks": checks}  # fmt: skip
    return HumanMessage(content=content, id="in-1", additional_kwargs=extra)


def test_the_description_goes_into_the_line_of_its_photo_and_the_message_stops_waiting():
    content = "hello\n[In reply to NOTIF_2] [image] my shoe\n[image]"
    services = Described(_photo(1, "my shoe", SHOE), _photo(2, None, None))
    (updated,) = described_since([_waiting(content, 1, 2), AIMessage("ok")], cast(Any, services))
    assert updated.id == "in-1"  # replaces the stored message
    assert updated.content == (
        f"hello\n[In reply to NOTIF_2] [image] my shoe (description: {SHOE})\n[image]"
    )
    assert updated.additional_kwargs["undescribed"] == [2]  # the other one still waits
    assert updated.additional_kwargs["description_checks"] == DESCRIPTION_CHECKS - 1
    assert updated.additional_kwargs["media_ids"] == [1, 2]


def test_two_photos_without_captions_each_get_their_own_description():
    services = Described(_photo(1, None, None), _photo(2, None, SHOE))
    (updated,) = described_since([_waiting("[image]\n[image]", 1, 2)], cast(Any, services))
    assert updated.content == f"[image]\n[image] (description: {SHOE})"
    assert updated.additional_kwargs["undescribed"] == [1]


def test_a_message_waits_only_so_many_turns_and_nothing_is_read_once_none_waits():
    services = Described(_photo(1, None, None))
    history: list[Any] = [_waiting("[image]", 1)]
    for _ in range(DESCRIPTION_CHECKS):
        history = described_since(history, cast(Any, services)) or history
    (last,) = history
    assert "undescribed" not in last.additional_kwargs
    assert last.content == "[image]"
    assert described_since(history, cast(Any, services)) == []
    assert len(services.asked) == DESCRIPTION_CHECKS


def test_messages_without_waiting_photos_cost_no_read():
    services = Described()
    history = [HumanMessage("hi", id="in-1", additional_kwargs={"media_ids": [1]})]
    assert described_since(history, cast(Any, services)) == []
    assert services.asked == []
