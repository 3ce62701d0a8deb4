"""How checkpoints store the conversation's messages: one msgpack array of (type, fields).

Every turn loads and writes the thread's whole history (up to the prompt budget, a hundred
messages and more). langgraph's JsonPlusSerializer writes each message as an extension
naming its module and class, and reads it back through the message's validating
constructor: about 3 ms a turn on the benchmark's long conversation. A list made only of
the message classes below, with fields of plain msgpack types, is written as its fields
instead and read back as `model_construct` would make them: the same objects, without
validating what we validated when we made them. Anything else, and every blob written
before, goes through JsonPlusSerializer unchanged.
"""

from __future__ import annotations

from typing import Any

import ormsgpack
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    RemoveMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.checkpoint.serde.jsonplus import JsonPlusSerializer

# The blob type checkpoint rows carry for this encoding (JsonPlusSerializer's are "msgpack",
# "json", "null", "bytes"...).
MESSAGES_TYPE = "lc-messages-v1"

_CLASSES: dict[str, type[BaseMessage]] = {
    cls.model_fields["type"].default: cls
    for cls in (HumanMessage, AIMessage, ToolMessage, SystemMessage, RemoveMessage)
}
_EXACT = frozenset(_CLASSES.values())  # not subclasses: AIMessageChunk has fields of its own
# Each class's fields, when a message of it can be made as model_construct makes it (extra
# fields allowed, no private attributes): a message read back with exactly these fields
_FIELDS: dict[type[BaseMessage], frozenset[str]] = {
    cls: frozenset(cls.model_fields)
    for cls in _EXACT
    if cls.model_config.get("extra") == "allow" and not cls.__private_attributes__
}
_set = object.__setattr__  # as pydantic sets a model's internals

# Anything but plain values (an enum, a datetime, a dataclass, a str subclass, a non-str
# key) reaches _not_plain, and the whole list takes JsonPlusSerializer's way, which keeps
# its type.
_PLAIN_ONLY = (
    ormsgpack.OPT_PASSTHROUGH_DATACLASS
    | ormsgpack.OPT_PASSTHROUGH_DATETIME
    | ormsgpack.OPT_PASSTHROUGH_ENUM
    | ormsgpack.OPT_PASSTHROUGH_UUID
    | ormsgpack.OPT_PASSTHROUGH_SUBCLASS
    | ormsgpack.OPT_REPLACE_SURROGATES
)


def _not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


class MessagesSerializer(JsonPlusSerializer):
    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if _only_messages(obj):
            try:
                fields = [(m.type, m.__dict__) for m in obj]
                return MESSAGES_TYPE, ormsgpack.packb(
                    fields, default=_not_plain, option=_PLAIN_ONLY
                )
            except (ormsgpack.MsgpackEncodeError, TypeError):
                pass
        return super().dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        kind, blob = data
        if kind != MESSAGES_TYPE:
            return super().loads_typed(data)
        return [_message(_CLASSES[type_], fields) for type_, fields in ormsgpack.unpackb(blob)]


def _message(cls: type[BaseMessage], fields: dict[str, Any]) -> BaseMessage:
    """What `cls.model_construct(**fields)` returns, made directly when `fields` are exactly
    the class's (as we write them): in half its time, 0.46 -> 0.23 ms for 120 messages. A
    blob from another langchain-core, with fields added or gone, takes model_construct (its
    defaults, its extras)."""
    if fields.keys() != _FIELDS.get(cls):
        return cls.model_construct(**fields)
    message = object.__new__(cls)
    _set(message, "__dict__", fields)
    _set(message, "__pydantic_fields_set__", set(fields))
    _set(message, "__pydantic_extra__", {})
    _set(message, "__pydantic_private__", None)
    return message


def _only_messages(obj: Any) -> bool:
    return isinstance(obj, list) and bool(obj) and all(type(m) in _EXACT for m in obj)
