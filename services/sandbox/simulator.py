"""The sandbox's Graph API: the one simulator core (channels.simulators.graph) with the
sandbox's state and side effects plugged in.

Media and templates live in Redis and the file storage, so every API process sees them;
template submissions are approved at once (the sandbox has no review queue). A send the
simulator accepts shows up on the person's phone; a read receipt turns the ticks blue and
may show "typing…". What Meta would then post back (statuses) is the adapter's to schedule.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import redis

from channels.simulators.graph import GraphSimulator, TokenCheck
from channels.simulators.graph_media import URL_SECONDS, Media
from channels.simulators.graph_sends import Delivery
from channels.simulators.graph_templates import StoredTemplate, TemplateStore
from channels.simulators.graph_wire import GraphError
from persistence.storage import StorageError, get_storage
from services.media.library import safe_filename
from services.sandbox import phone
from services.sandbox.phone import TTL_SECONDS, Bubble

# a send now on the person's phone
SentHook = Callable[[Delivery], None]


def graph_simulator(
    client: redis.Redis, *, tokens: TokenCheck, public_url: str, on_sent: SentHook | None = None
) -> GraphSimulator:
    """A simulator over the sandbox's state; cheap, made per request."""

    def show(sent: Delivery) -> None:
        bubble = Bubble(
            id=sent.wamid, mine=False, kind=sent.kind, text=sent.text, media_id=sent.media_id,
            media_link=sent.media_link, filename=sent.filename, template=sent.template,
            buttons=sent.buttons, callback=sent.callback, status="sending",
        )  # fmt: skip
        phone.add_bubble(client, sent.phone_number_id, sent.recipient, bubble)
        if on_sent is not None:
            on_sent(sent)

    return GraphSimulator(
        version=None,
        tokens=tokens,
        media=RedisMedia(client),
        templates=TemplateStore(RedisTemplates(client), status_on_create="APPROVED"),
        on_send=show,
        on_read=lambda *read: _mark_read(client, *read),
        public_url=public_url,
    )


def _mark_read(client: redis.Redis, phone_number_id: str, wamid: str, typing: bool) -> None:
    """The business read the person's message: blue ticks, and maybe "typing…"."""
    found = phone.locate(client, wamid)
    if found is None or found[0] != phone_number_id:
        raise GraphError(100, details=f"message {wamid} does not exist")
    phone.set_status(client, phone_number_id, found[1], wamid, "read")
    if typing:
        phone.set_typing(client, phone_number_id, found[1])


class RedisMedia:
    """Media by id: the bytes in the file storage, what Meta says of them in Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def put(self, media_id: str, media: Media, data: bytes) -> None:
        key = f"sandbox/{media_id}/{safe_filename(media.filename or 'file', media_id)}"
        get_storage().put(key, data, media.mime_type)
        meta = {
            "storage_key": key, "mime_type": media.mime_type, "sha256": media.sha256,
            "size": media.file_size, "filename": media.filename,
        }  # fmt: skip
        self._client.set(f"sandbox:media:{media_id}", json.dumps(meta), ex=TTL_SECONDS)

    def _meta(self, media_id: str) -> dict[str, Any] | None:
        raw = self._client.get(f"sandbox:media:{media_id}")
        return json.loads(raw) if raw else None

    def get(self, media_id: str) -> Media | None:
        meta = self._meta(media_id)
        if meta is None:
            return None
        return Media(meta["mime_type"], meta["sha256"], meta["size"], meta.get("filename"))

    def read(self, media_id: str) -> bytes | None:
        meta = self._meta(media_id)
        if meta is None:
            return None
        try:
            return get_storage().get(meta["storage_key"])
        except StorageError:
            return None

    def issue_url(self, token: str, media_id: str) -> None:
        self._client.set(f"sandbox:media-url:{token}", media_id, ex=URL_SECONDS)

    def url_media(self, token: str) -> str | None:
        found = self._client.get(f"sandbox:media-url:{token}")
        if isinstance(found, bytes):
            return found.decode()
        return found or None

    def expire_urls(self) -> None:
        for key in self._client.scan_iter("sandbox:media-url:*"):
            self._client.delete(key)

    def clear(self) -> None:
        self.expire_urls()
        for key in self._client.scan_iter("sandbox:media:*"):
            self._client.delete(key)


class RedisTemplates:
    """Every business account's templates in one hash, field `waba|name|language`."""

    KEY = "sandbox:templates"

    def __init__(self, client: redis.Redis) -> None:
        self._client = client

    def all(self) -> list[StoredTemplate]:
        raw = self._client.hgetall(self.KEY)
        found = [StoredTemplate.from_record(json.loads(v)) for v in raw.values()]
        return sorted(found, key=lambda t: (t.name, t.language, t.waba_id))

    def insert(self, template: StoredTemplate) -> bool:
        added = self._client.hsetnx(self.KEY, _field(template), json.dumps(template.record()))
        self._client.expire(self.KEY, TTL_SECONDS)
        return bool(added)

    def save(self, template: StoredTemplate) -> None:
        self._client.hset(self.KEY, _field(template), json.dumps(template.record()))
        self._client.expire(self.KEY, TTL_SECONDS)

    def clear(self) -> None:
        self._client.delete(self.KEY)


def _field(template: StoredTemplate) -> str:
    return f"{template.waba_id}|{template.name}|{template.language}"
