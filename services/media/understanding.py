"""Making a turn's media understandable: fetched, stored, and voice notes transcribed.

The model reads images (and, with Gemini, voice notes) as multimodal input for the turn
in which they arrive; the conversation history keeps only text, so checkpoints stay small.
Every voice note gets a transcript on its message, for operators and for models that
cannot listen.
"""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.orm import Session

from observability.logs import get_logger
from persistence.models import IMAGE_TYPES, Direction, MediaStatus, Message
from persistence.storage import get_storage
from services.media.transcription import TranscriptionFailed, transcribe
from settings import get_settings

log = get_logger(__name__)

PDF = "application/pdf"


def base_mime(mime_type: str | None) -> str:
    """`audio/ogg; codecs=opus` -> `audio/ogg` (providers want the bare type)."""
    return (mime_type or "application/octet-stream").split(";")[0].strip().lower()


def transcribe_message(message: Message) -> str | None:
    try:
        audio = get_storage().get(message.media_key or "")
        return transcribe(audio, base_mime((message.media or {}).get("mime_type")))
    except TranscriptionFailed as exc:
        log.warning("media.transcription.failed", message_id=message.id, error=exc)
        return None


def content_blocks(session: Session, message_ids: list[int]) -> list[dict]:
    """Multimodal blocks for the given inbound messages (images; audio and PDFs for Gemini)."""
    settings = get_settings()
    gemini_only = settings.llm_provider == "gemini" and settings.llm_fallback_provider in (
        None,
        "gemini",
    )
    blocks: list[dict] = []
    # in the order asked for (the burst's): PostgreSQL returns IN (...) matches in any order
    position = {message_id: i for i, message_id in enumerate(message_ids)}
    rows = sorted(
        session.scalars(select(Message).where(Message.id.in_(message_ids))),
        key=lambda m: position[m.id],
    )
    wanted = [(m.type, m.media_key, base_mime((m.media or {}).get("mime_type"))) for m in rows
              if m.media_status == MediaStatus.STORED and m.media_key]  # fmt: skip
    for kind, key, mime in wanted:
        if kind in IMAGE_TYPES and mime.startswith("image/"):
            blocks.append(_block("image", key, mime))
        elif gemini_only and kind == "audio":
            blocks.append(_block("audio", key, mime))
        elif gemini_only and kind == "document" and mime == PDF:
            blocks.append(_block("file", key, mime))
    return blocks


def image_block(message: Message) -> dict | None:
    """A stored image message as a multimodal block; None when it is not an image."""
    mime = base_mime((message.media or {}).get("mime_type"))
    if not message.media_key or not mime.startswith("image/"):
        return None
    return _block("image", message.media_key, mime)


def _block(kind: str, key: str, mime: str) -> dict:
    data = base64.b64encode(get_storage().get(key)).decode()
    return {"type": kind, "base64": data, "mime_type": mime}


def turn_messages(session: Session, turn_id: int) -> list[Message]:
    stmt = select(Message).where(Message.turn_id == turn_id, Message.direction == Direction.INBOUND)
    return list(session.scalars(stmt))


def turn_media(session: Session, turn_id: int, *, statuses: tuple[str, ...]) -> list[int]:
    return [m.id for m in turn_messages(session, turn_id) if m.media_status in statuses]
