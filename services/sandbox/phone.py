"""The phones of the sandbox: what each simulated person's WhatsApp shows.

Kept in Redis, apart from Switchboard's own record (PostgreSQL): this is the other side of
the wire, what Meta and the person's phone would know. Every key expires after a month.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from typing import Any, cast

import redis

TTL_SECONDS = 30 * 24 * 3600
MAX_BUBBLES = 500
TYPING_SECONDS = 25  # WhatsApp shows a typing indicator this long at most
_RANK = {"sending": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass
class Bubble:
    """One message on a phone's screen; `mine` is the person's own, else the business's."""

    id: str
    mine: bool
    kind: str
    text: str | None = None
    media_id: str | None = None
    media_link: str | None = None
    filename: str | None = None
    template: dict[str, Any] | None = None
    buttons: list[str] = field(default_factory=list)
    at: float = field(default_factory=time.time)
    callback: str | None = None
    status: str = "sent"


@dataclass(frozen=True)
class Persona:
    wa_id: str  # the chat's id: a phone number, or an Instagram-scoped id on Instagram
    name: str
    role: str  # "customer" or "admin"
    channel: str = "whatsapp_cloud"  # the channel account type they write through


def _chat(pnid: str, chat: str) -> str:
    return f"sandbox:{pnid}:{chat}"


def _text(reply: bytes | str) -> str:
    """A Redis reply as text: our clients return bytes (no decode_responses), though
    redis-py's types allow str too."""
    return reply if isinstance(reply, str) else reply.decode()


def _touch(pipe: Any, *keys: str) -> None:
    for key in keys:
        pipe.expire(key, TTL_SECONDS)


def add_bubble(client: redis.Redis, pnid: str, chat: str, bubble: Bubble) -> None:
    base = _chat(pnid, chat)
    data = asdict(bubble)
    status = data.pop("status")
    pipe = client.pipeline()
    pipe.rpush(f"{base}:bubbles", json.dumps(data))
    pipe.ltrim(f"{base}:bubbles", -MAX_BUBBLES, -1)
    pipe.hset(f"{base}:status", bubble.id, status)
    pipe.set(f"sandbox:wamid:{bubble.id}", f"{pnid}|{chat}", ex=TTL_SECONDS)
    pipe.zadd(f"sandbox:{pnid}:chats", {chat: bubble.at})
    if bubble.media_id:  # whose chats show it: only that number's sandbox serves it
        pipe.set(f"sandbox:media-number:{bubble.media_id}", pnid, ex=TTL_SECONDS)
    if not bubble.mine:
        pipe.delete(f"{base}:typing")
    _touch(pipe, f"{base}:bubbles", f"{base}:status", f"sandbox:{pnid}:chats")
    pipe.execute()


def thread(client: redis.Redis, pnid: str, chat: str) -> list[Bubble]:
    base = _chat(pnid, chat)
    raw = client.lrange(f"{base}:bubbles", 0, -1)
    statuses = client.hgetall(f"{base}:status")
    bubbles = []
    for item in raw:
        data = json.loads(item)
        status = _text(statuses.get(data["id"].encode(), b"sent"))
        bubbles.append(Bubble(**data, status=status))
    return bubbles


def locate(client: redis.Redis, wamid: str) -> tuple[str, str] | None:
    """(phone number id, chat) of a message, by its wamid."""
    found = client.get(f"sandbox:wamid:{wamid}")
    if found is None:
        return None
    pnid, _, chat = _text(found).partition("|")
    return pnid, chat


def media_number(client: redis.Redis, media_id: str) -> str | None:
    """The business number in whose chats a media item was shown."""
    found = client.get(f"sandbox:media-number:{media_id}")
    return None if found is None else _text(found)


def set_status(client: redis.Redis, pnid: str, chat: str, wamid: str, status: str) -> bool:
    """Move a message's ticks forward (never back); True when it moved."""
    key = f"{_chat(pnid, chat)}:status"
    current = client.hget(key, wamid)
    if current is None:
        return False
    if _RANK.get(status, -1) <= _RANK.get(_text(current), -1):
        return False
    client.hset(key, wamid, status)
    return True


def set_typing(client: redis.Redis, pnid: str, chat: str) -> None:
    client.set(f"{_chat(pnid, chat)}:typing", "1", ex=TYPING_SECONDS)


def is_typing(client: redis.Redis, pnid: str, chat: str) -> bool:
    return bool(client.exists(f"{_chat(pnid, chat)}:typing"))


def chats(client: redis.Redis, pnid: str) -> list[str]:
    """Chats with any message, the most recent first."""
    # Without withscores, a plain list of members.
    found = cast(list[bytes | str], client.zrevrange(f"sandbox:{pnid}:chats", 0, 99))
    return [_text(c) for c in found]


def save_persona(client: redis.Redis, pnid: str, persona: Persona) -> None:
    key = f"sandbox:{pnid}:personas"
    client.hset(key, persona.wa_id, json.dumps(asdict(persona)))
    client.expire(key, TTL_SECONDS)


def personas(client: redis.Redis, pnid: str) -> list[Persona]:
    raw = client.hgetall(f"sandbox:{pnid}:personas")
    return sorted((Persona(**json.loads(v)) for v in raw.values()), key=lambda p: p.wa_id)
