"""Media workflows that own their transactions: inbound files copied from WhatsApp into our
storage (verified, once), a turn's media made ready for the model, and a library file
resolved to what a send names (uploaded if needed).

Inbound media: copy a customer's file from WhatsApp into our storage, verified, once.

WhatsApp keeps a file behind a URL that lives about five minutes, so every attempt asks
for fresh media info. Refusals (too large, media gone) are final; anything a later attempt
may fix raises `MediaFetchRetry`. The message row itself is never touched beyond its
media_* columns: a file that cannot be fetched never loses the message.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import mimetypes
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from channels.errors import MediaHostRefused, MediaTooLarge, MediaUrlExpired, WhatsAppError
from channels.twilio.client import TwilioChannel
from channels.whatsapp import MediaInfo, WhatsAppClient
from observability.logs import get_logger
from observability.metrics import MEDIA_FETCHES
from persistence.db import session_scope
from persistence.models import (
    ChannelType,
    Conversation,
    Direction,
    MediaAsset,
    MediaStatus,
    Message,
    PhoneNumber,
)
from persistence.storage import StorageError, get_storage
from services.media.description import describe_stored_image
from services.media.library import KINDS
from services.media.public_link import FETCH_TTL, READ_TTL, expiring_link
from services.media.send import MediaRef, MediaUnavailable, signed_link, whatsapp_media_id
from services.media.understanding import transcribe_message, turn_media, turn_messages
from services.merchants.clients import channel_for, media_client_for
from settings import get_settings

log = get_logger(__name__)

PENDING, STORED, FAILED = MediaStatus.PENDING, MediaStatus.STORED, MediaStatus.FAILED


class MediaFetchRetry(Exception):
    """This attempt failed in a way a later one may not (the reason is in media_error)."""


class _Refused(Exception):
    """A final answer: trying again cannot succeed."""

    def __init__(self, reason: str, *, outcome: str = "refused") -> None:
        super().__init__(reason)
        self.outcome = outcome


@dataclass(frozen=True)
class _Job:
    message_id: int
    conversation_id: int
    media_id: str
    webhook_sha256: str | None
    client: WhatsAppClient | TwilioChannel
    webhook_mime_type: str | None = None  # what the webhook said (Twilio's lookup says nothing)


def fetch_inbound_media(message_id: int) -> str:
    """Fetch one message's media into storage; returns the outcome (stored, failed, ...)."""
    with session_scope() as session:
        job = _load(session, message_id)
    if isinstance(job, str):
        return job
    try:
        key = _fetch_and_store(job)
    except _Refused as exc:
        _record(message_id, status=FAILED, error=str(exc))
        log.warning("media.fetch.refused", message_id=message_id, reason=exc)
        MEDIA_FETCHES.labels(exc.outcome).inc()
        return FAILED
    except MediaFetchRetry as exc:
        _record(message_id, status=PENDING, error=str(exc))
        log.info("media.fetch.retry", message_id=message_id, reason=exc)
        MEDIA_FETCHES.labels("retry").inc()
        raise
    _record(message_id, status=STORED, key=key)
    MEDIA_FETCHES.labels("stored").inc()
    log.info("media.fetch.stored", message_id=message_id, key=key)
    describe_stored_image(message_id)
    return STORED


def give_up(message_id: int, reason: str) -> None:
    """After the last retry: the media is failed, with the last reason kept."""
    _record(message_id, status=FAILED, error=f"gave up after retries: {reason}")


def pending_media(session: Session, *, older_than: datetime, newer_than: datetime) -> list[int]:
    """For the sweeper: media whose fetch was never scheduled or whose task was lost."""
    stmt = (
        select(Message.id)
        .where(
            Message.direction == Direction.INBOUND,
            Message.media_status == PENDING,
            Message.created_at < older_than,
            Message.created_at >= newer_than,
        )
        .order_by(Message.id)
    )
    return list(session.scalars(stmt))


def storage_key(*, conversation_id: int, message_id: int, mime_type: str) -> str:
    return f"inbound/{conversation_id}/{message_id}{extension_for(mime_type)}"


def extension_for(mime_type: str) -> str:
    """The extension for a MIME type: image/jpeg -> .jpg, "audio/ogg; codecs=opus" -> .ogg."""
    bare = mime_type.split(";", 1)[0].strip().lower()
    if bare == "audio/ogg":  # mimetypes says ".oga"; players and people expect ".ogg"
        return ".ogg"
    return mimetypes.guess_extension(bare) or ""


def _load(session: Session, message_id: int) -> _Job | str:
    row = session.execute(
        select(Message, PhoneNumber)
        .join(Conversation, Conversation.id == Message.conversation_id)
        .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
        .where(Message.id == message_id)
    ).one_or_none()
    if row is None:
        return "missing"
    message, phone = row
    media = message.media or {}
    if message.media_status == STORED:
        return STORED
    if not media.get("id"):
        return "no_media"
    return _Job(
        message_id=message.id,
        conversation_id=message.conversation_id,
        media_id=str(media["id"]),
        webhook_sha256=media.get("sha256"),
        client=media_client_for(phone),
        webhook_mime_type=media.get("mime_type"),
    )


def _fetch_and_store(job: _Job) -> str:
    limit = get_settings().media_max_bytes
    info = _info(job)
    if info.file_size is not None and info.file_size > limit:
        raise _Refused(f"file is {_size(info.file_size)}, over the {_size(limit)} limit")
    data = _download(job, info, limit)
    _verify(data, info.sha256 or job.webhook_sha256)
    mime_type = info.mime_type or job.webhook_mime_type or "application/octet-stream"
    key = storage_key(
        conversation_id=job.conversation_id, message_id=job.message_id, mime_type=mime_type
    )
    try:
        get_storage().put(key, data, mime_type)
    except StorageError as exc:  # disk full, S3 unreachable: worth another attempt
        raise MediaFetchRetry(f"storage failed: {exc}") from exc
    return key


def _info(job: _Job) -> MediaInfo:
    try:
        return job.client.media_info(job.media_id)
    except WhatsAppError as exc:
        if exc.retryable:
            raise MediaFetchRetry(f"media info failed: {exc}") from exc
        raise _Refused(f"WhatsApp refused the media info: {exc}") from exc


def _download(job: _Job, info: MediaInfo, limit: int) -> bytes:
    try:
        return job.client.download(info.url, max_bytes=limit)
    except MediaTooLarge as exc:
        raise _Refused(f"file is over the {_size(limit)} limit ({exc})") from exc
    except MediaHostRefused as exc:  # the token stays home; asking again gives the same URL
        raise _Refused(f"download refused: {exc}", outcome="refused_host") from exc
    except MediaUrlExpired as exc:  # the next attempt asks for a fresh URL
        raise MediaFetchRetry(f"download URL expired: {exc}") from exc
    except WhatsAppError as exc:
        if exc.retryable:
            raise MediaFetchRetry(f"download failed: {exc}") from exc
        raise _Refused(f"download refused: {exc}") from exc


def _verify(data: bytes, expected: str | None) -> None:
    if not expected:
        return  # nothing to check against; WhatsApp always sends one in practice
    digest = hashlib.sha256(data).digest()
    if not _matches(digest, expected.strip()):
        raise MediaFetchRetry(
            f"sha256 mismatch: expected {expected}, got {digest.hex()} ({len(data)} bytes)"
        )


def _matches(digest: bytes, expected: str) -> bool:
    """Media info gives a hex digest; webhooks give the same digest in base64."""
    if expected.lower() == digest.hex():
        return True
    try:
        return base64.b64decode(expected, validate=True) == digest
    except (binascii.Error, ValueError):
        return False


def _record(
    message_id: int, *, status: str, error: str | None = None, key: str | None = None
) -> None:
    values: dict[str, str | None] = {"media_status": status, "media_error": error}
    if key is not None:
        values["media_key"] = key
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id, Message.media_status.is_distinct_from(STORED))
            .values(**values)
        )


def _size(n: int) -> str:
    for unit, scale in (("MB", 1_000_000), ("kB", 1_000)):
        if n >= scale:
            return f"{n / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{n} bytes"


def resolve_media(message_id: int, *, refresh: bool = False) -> MediaRef | None:
    """The media a queued message sends (None for text), uploading it if needed.

    Runs outside the conversation lock: an upload can take a while."""
    with session_scope() as session:
        message = session.get(Message, message_id)
        if message is None or message.type not in KINDS or not message.media:
            return None
        if message.media.get("link"):  # a public file WhatsApp fetches (a product photo)
            filename = str(message.media.get("filename") or "file")
            return MediaRef(kind=message.type, filename=filename, link=message.media["link"])
        asset = session.get(MediaAsset, message.media.get("asset_id"))
        if asset is None:
            key = message.media.get("key")
            raise MediaUnavailable(f"media {key!r} was deleted from the library")
        phone = session.scalar(
            select(PhoneNumber)
            .join(Conversation, Conversation.phone_number_id == PhoneNumber.id)
            .where(Conversation.id == message.conversation_id)
        )
        assert phone is not None
        if phone.type != ChannelType.WHATSAPP_CLOUD:
            return _by_link(asset, phone)
        try:
            media_id = whatsapp_media_id(session, asset, phone, refresh=refresh)
        except (WhatsAppError, StorageError) as exc:
            link = signed_link(asset)
            if link is None:
                reason = f"could not upload {asset.key!r} to WhatsApp: {exc}"
                raise MediaUnavailable(reason) from exc
            log.warning("whatsapp.media.link_fallback", asset_id=asset.id, error=exc)
            return MediaRef(kind=asset.kind, filename=asset.filename, link=link)
        return MediaRef(kind=asset.kind, filename=asset.filename, media_id=media_id)


def _by_link(asset: MediaAsset, phone: PhoneNumber) -> MediaRef:
    """Twilio and Instagram fetch files by URL: an expiring signed link to our copy. A kind
    the channel cannot carry (a document on Instagram) goes as a link in text, which the
    customer may open days later."""
    carried = asset.kind in channel_for(phone).capabilities.media_kinds
    link = expiring_link(asset, ttl=FETCH_TTL if carried else READ_TTL)
    if link is None:
        raise MediaUnavailable(
            f"{phone.type} fetches files by URL: set PUBLIC_BASE_URL and MEDIA_LINK_SECRET "
            f"to send {asset.key!r}"
        )
    return MediaRef(kind=asset.kind, filename=asset.filename, link=link)


def needs_preparing(burst: Iterable[Message]) -> bool:
    """Whether prepare_turn_media has work in this burst (files still to fetch, voice notes
    to transcribe); read with the turn's start, so a plain text turn skips its reads."""
    return any(
        m.media_status == PENDING
        or (m.type == "audio" and m.media_status == STORED and m.transcript is None)
        for m in burst
    )


def prepare_turn_media(turn_id: int) -> None:
    """Fetch what is still pending and transcribe voice notes, before the model runs.
    Failures are recorded on the message and never stop the turn."""
    with session_scope() as session:
        pending = turn_media(session, turn_id, statuses=(MediaStatus.PENDING,))
    for message_id in pending:
        try:
            fetch_inbound_media(message_id)
        except Exception as exc:  # the message stays; the model is told it could not be read
            log.warning("media.fetch.in_turn_failed", message_id=message_id, error=exc)
    with session_scope() as session:
        voice = [
            m for m in turn_messages(session, turn_id)
            if m.type == "audio" and m.media_status == MediaStatus.STORED and m.transcript is None
        ]  # fmt: skip
        for message in voice:
            message.transcript = transcribe_message(message)
