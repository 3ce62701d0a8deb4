"""Sending library files on WhatsApp: upload once per number, send by id, link as fallback.

An uploaded file gets a media id that WhatsApp keeps 30 days; we cache it per (asset,
business number) a day less, so a send never relies on an id about to expire. If WhatsApp
still refuses a cached id, the sender uploads again once (see services.delivery.outbox).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.base import OutboundMedia
from channels.errors import InvalidRequest, MediaRejected, WhatsAppError
from observability.logs import get_logger
from persistence.models import (
    Author,
    MediaAsset,
    MediaUpload,
    Message,
    PhoneNumber,
)
from services.errors import DomainError
from services.media.library import read_asset
from services.merchants.clients import client_for
from services.outbound import add_outbound
from settings import get_settings

log = get_logger(__name__)

UPLOAD_TTL = timedelta(days=29)
# Replies of a turn are seq 0, 1, ...; a library file sent in a turn takes 1000 + its asset id,
# so a redone turn finds the row it already wrote instead of sending the file twice.
TURN_MEDIA_SEQ = 1000


class MediaUnavailable(DomainError):
    """The file cannot be sent: deleted from the library, or neither uploadable nor linkable."""

    status_code = 502


@dataclass(frozen=True)
class MediaRef:
    """What a send names: an uploaded media id, or a link WhatsApp fetches."""

    kind: str
    filename: str
    media_id: str | None = None
    link: str | None = None

    def outbound(self, caption: str | None) -> OutboundMedia:
        return OutboundMedia(self.kind, self.filename, self.media_id, self.link, caption or None)


def whatsapp_media_id(
    session: Session, asset: MediaAsset, phone: PhoneNumber, *, refresh: bool = False
) -> str:
    """The asset's media id on this business number: cached while valid, else uploaded."""
    now = datetime.now(UTC)
    if not refresh:
        cached = session.scalar(
            select(MediaUpload.whatsapp_media_id).where(
                MediaUpload.asset_id == asset.id,
                MediaUpload.phone_id == phone.id,
                MediaUpload.expires_at > now,
            )
        )
        if cached:
            return cached
    media_id = client_for(phone).upload_media(read_asset(asset), asset.mime_type, asset.filename)
    values = {"whatsapp_media_id": media_id, "expires_at": now + UPLOAD_TTL}
    session.execute(
        insert(MediaUpload)
        .values(asset_id=asset.id, phone_id=phone.id, **values)
        .on_conflict_do_update(constraint="uq_media_uploads_asset_id_phone_id", set_=values)
    )
    log.info("whatsapp.media.uploaded", asset_id=asset.id, phone_id=phone.id)
    return media_id


def media_id_rejected(exc: WhatsAppError) -> bool:
    """WhatsApp refused a send because of its media id (expired or unknown): upload again."""
    if isinstance(exc, MediaRejected):
        return True
    text = f"{exc.message} {exc.details or ''}".lower()
    return isinstance(exc, InvalidRequest) and "media" in text and "id" in text


def enqueue_asset(
    session: Session,
    *,
    conversation_id: int,
    asset: MediaAsset,
    caption: str,
    author: Author,
    turn_id: int | None = None,
    operator_id: int | None = None,
    raw: dict[str, Any] | None = None,
) -> Message:
    """Put a library file in the outbox. Within a turn, once per (turn, asset)."""
    return add_outbound(
        session, conversation_id=conversation_id, author=author, type=asset.kind,
        text=caption[:1024] or None, turn_id=turn_id, seq=TURN_MEDIA_SEQ + asset.id,
        operator_id=operator_id, raw=raw,
        media={"asset_id": asset.id, "key": asset.key, "filename": asset.filename},
    )  # fmt: skip


def link_signature(asset_id: int, filename: str, sha256: str) -> str | None:
    secret = get_settings().media_link_secret  # its own: never the webhook's secret
    if secret is None:
        return None
    message = f"{asset_id}/{filename}/{sha256}".encode()
    return hmac.new(secret.get_secret_value().encode(), message, hashlib.sha256).hexdigest()


def signed_link(asset: MediaAsset) -> str | None:
    """A public URL of the file for WhatsApp to fetch, or None when links are not configured."""
    base = get_settings().media_link_base_url
    sig = link_signature(asset.id, asset.filename, asset.sha256)
    if not base or sig is None:
        return None
    return f"{base.rstrip('/')}/media/{asset.id}/{quote(asset.filename)}?sig={sig}"


def check_link(asset: MediaAsset, filename: str, sig: str) -> bool:
    expected = link_signature(asset.id, asset.filename, asset.sha256)
    return (
        expected is not None
        and filename == asset.filename
        and hmac.compare_digest(expected.encode(), sig.encode())
    )
