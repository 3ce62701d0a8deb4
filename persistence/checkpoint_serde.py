"""How checkpoints store the conversation's messages: one msgpack array of (type, fields),
compressed with zstd.

Every turn loads and writes the thread's whole history (up to the prompt budget, a hundred
messages and more). langgraph's JsonPlusSerializer writes each message as an extension
naming its module and class, and reads it back through the message's validating
constructor: about 3 ms a turn on the benchmark's long conversation. A list made only of
the message classes below, with fields of plain msgpack types, is written as its fields
instead and read back as `model_construct` would make them: the same objects, without
validating what we validated when we made them. Anything else, and every blob written
before, goes through JsonPlusSerializer unchanged.

The blob is compressed here, at zstd's fastest level: PostgreSQL compressed it with pglz on
every write (about 0.3 ms of the 0.6 ms an upsert of the benchmark's 43 KB history took),
decompressed it on every read and sent it out whole, as hex. zstd takes about 40 us and
stores it smaller (7.7 -> 6.3 KB); PostgreSQL, finding nothing left to compress, keeps it as
it comes.
"""

from __future__ import annotations

import threading
from typing import Any

import ormsgpack
import zstandard
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
# "json", "null", "bytes"...), and for the same array uncompressed, as written before.
MESSAGES_TYPE = "lc-messages-zstd-v1"
PLAIN_MESSAGES_TYPE = "lc-messages-v1"
ZSTD_LEVEL = 1

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


class _Codecs(threading.local):
    """zstd's contexts, one pair per thread (they are not thread-safe), made once: a new
    compressor allocates its tables afresh, which cost more than compressing the history."""

    def __init__(self) -> None:
        self.compressor = zstandard.ZstdCompressor(level=ZSTD_LEVEL)
        self.decompressor = zstandard.ZstdDecompressor()


_codecs = _Codecs()


def _not_plain(value: Any) -> Any:
    raise TypeError(type(value).__name__)


class MessagesSerializer(JsonPlusSerializer):
    def dumps_typed(self, obj: Any) -> tuple[str, bytes]:
        if _only_messages(obj):
            try:
                fields = [(m.type, m.__dict__) for m in obj]
                packed = ormsgpack.packb(fields, default=_not_plain, option=_PLAIN_ONLY)
                return MESSAGES_TYPE, _codecs.compressor.compress(packed)
            except (ormsgpack.MsgpackEncodeError, TypeError):
                pass
        return super().dumps_typed(obj)

    def loads_typed(self, data: tuple[str, bytes]) -> Any:
        kind, blob = data
        if kind == MESSAGES_TYPE:
            blob = _codecs.decompressor.decompress(blob)
        elif kind != PLAIN_MESSAGES_TYPE:
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
