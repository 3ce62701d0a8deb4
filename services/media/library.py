"""A merchant's media library: files the AI (respond_with_media) and operators can send.

The limits are WhatsApp's for media sent by a business: a file it would refuse is
refused here, at upload, not when a customer is waiting for it. Documents are documents
(PDF, office formats, plain text, CSV): never a page (HTML, SVG) that a signed link would
serve from our origin.
"""

from __future__ import annotations

import hashlib
import mimetypes
import re
from dataclasses import dataclass

from sqlalchemy import ARRAY, ScalarSelect, String, func, select
from sqlalchemy.dialects.postgresql import aggregate_order_by, array
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import SQLColumnExpression

from persistence.models import MediaAsset
from persistence.storage import get_storage
from services.errors import Conflict, DomainError, NotFound
from settings import get_settings

MB = 1024 * 1024
KEY_PATTERN = re.compile(r"^[a-z0-9_-]{1,100}$")
_UNSAFE_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


_OOXML = b"PK\x03\x04"  # docx, xlsx, pptx are zip files
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # doc, xls, ppt
# What each document type's bytes start with; text is checked apart (see _looks_like_text).
DOCUMENT_MAGIC: dict[str, bytes | None] = {
    "application/pdf": b"%PDF",
    "application/msword": _OLE,
    "application/vnd.ms-excel": _OLE,
    "application/vnd.ms-powerpoint": _OLE,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": _OOXML,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": _OOXML,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": _OOXML,
    "text/plain": None,
    "text/csv": None,
}
DOCUMENT_TYPES = frozenset(DOCUMENT_MAGIC)
# Markup a browser would render if it ever sniffed the file: never "plain text".
_MARKUP = re.compile(
    rb"^\s*<(?:!doctype|!--|\?xml|html|head|body|script|iframe|svg|style|title|div|table|"
    rb"a|b|p|br|h1|font|img|object|embed|meta|link)[\s>/]",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class KindRule:
    mime_types: frozenset[str]
    max_bytes: int


KINDS: dict[str, KindRule] = {
    "image": KindRule(frozenset({"image/jpeg", "image/png"}), 5 * MB),
    "video": KindRule(frozenset({"video/mp4", "video/3gpp"}), 16 * MB),
    "audio": KindRule(
        frozenset({"audio/aac", "audio/mp4", "audio/mpeg", "audio/amr", "audio/ogg"}), 16 * MB
    ),
    "document": KindRule(DOCUMENT_TYPES, 100 * MB),
}


class InvalidMedia(DomainError):
    status_code = 422


class MediaTooLarge(DomainError):
    status_code = 413


def add_asset(
    session: Session,
    *,
    merchant_id: int,
    key: str,
    kind: str,
    caption: str,
    filename: str,
    mime_type: str,
    data: bytes,
) -> MediaAsset:
    """Validate and store a file, then record it under `key` (unique per merchant)."""
    mime_type = _check(key=key, kind=kind, mime_type=_declared(mime_type, filename), size=len(data))
    if kind == "document":
        _check_document(mime_type, data)
    if get_asset_by_key(session, merchant_id, key) is not None:
        raise Conflict(f"the media library already has a file with key {key!r}; delete it first")
    filename = safe_filename(filename, key)
    storage_key = f"library/{merchant_id}/{key}/{filename}"
    asset = MediaAsset(
        merchant_id=merchant_id, key=key, kind=kind, caption=caption.strip(), filename=filename,
        mime_type=mime_type, size=len(data), sha256=hashlib.sha256(data).hexdigest(),
        storage_key=storage_key,
    )  # fmt: skip
    session.add(asset)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:  # a concurrent upload with the same key won
        raise Conflict(f"the media library already has a file with key {key!r}") from None
    get_storage().put(storage_key, data, mime_type)
    return asset


def _check(*, key: str, kind: str, mime_type: str, size: int) -> str:
    if not KEY_PATTERN.match(key):
        raise InvalidMedia(
            f"invalid key {key!r}: use 1 to 100 lowercase letters, digits, '-' or '_'"
        )
    rule = KINDS.get(kind)
    if rule is None:
        raise InvalidMedia(f"invalid kind {kind!r}: use one of {', '.join(KINDS)}")
    if mime_type not in rule.mime_types:
        allowed = ", ".join(sorted(rule.mime_types))
        raise InvalidMedia(f"the library does not accept {mime_type} as {kind}: use {allowed}")
    if size == 0:
        raise InvalidMedia("the file is empty")
    limit = min(rule.max_bytes, get_settings().media_max_bytes)
    if size > limit:
        raise MediaTooLarge(
            f"{kind} files may be at most {limit // MB} MB; this one is {size} bytes"
        )
    return mime_type


def _declared(mime_type: str, filename: str) -> str:
    """The declared type; a generic one (curl's default) is read from the file's name."""
    declared = (mime_type or "").split(";")[0].strip().lower()
    if declared in ("", "application/octet-stream"):
        guessed, _ = mimetypes.guess_type(filename or "", strict=False)
        declared = guessed or "application/octet-stream"
    return declared


def _check_document(mime_type: str, data: bytes) -> None:
    """The bytes must be what the declared type says: an HTML page declared as a PDF or
    as plain text is refused."""
    magic = DOCUMENT_MAGIC[mime_type]
    if magic is None:
        if not _looks_like_text(data):
            raise InvalidMedia(f"this file is not {mime_type}: it holds binary data or markup")
    elif not data.startswith(magic):
        raise InvalidMedia(f"this file is not {mime_type}: its content does not match the type")


def _looks_like_text(data: bytes) -> bool:
    head = data[:4096]
    return b"\x00" not in head and _MARKUP.match(head) is None


def safe_filename(filename: str, key: str) -> str:
    """The file's own name without any path, reduced to characters safe in URLs and keys."""
    base = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    cleaned = _UNSAFE_FILENAME.sub("_", base).strip("._")[:200]
    return cleaned or key


def list_assets(session: Session, merchant_id: int) -> list[MediaAsset]:
    stmt = select(MediaAsset).where(MediaAsset.merchant_id == merchant_id).order_by(MediaAsset.key)
    return list(session.scalars(stmt))


def get_asset(session: Session, asset_id: int) -> MediaAsset:
    asset = session.get(MediaAsset, asset_id)
    if asset is None:
        raise NotFound(f"media asset {asset_id} does not exist")
    return asset


def get_asset_by_key(session: Session, merchant_id: int, key: str) -> MediaAsset | None:
    return session.scalar(
        select(MediaAsset).where(MediaAsset.merchant_id == merchant_id, MediaAsset.key == key)
    )


def delete_asset(session: Session, asset_id: int) -> None:
    """Forget the asset (and its WhatsApp upload ids, by cascade) and delete its file."""
    asset = get_asset(session, asset_id)
    storage_key = asset.storage_key
    session.delete(asset)
    session.flush()
    get_storage().delete(storage_key)


def read_asset(asset: MediaAsset) -> bytes:
    return get_storage().get(asset.storage_key)


def library_summary(session: Session, merchant_id: int) -> list[tuple[str, str, str]]:
    """(key, kind, caption) of every asset: what the model is told it can send."""
    stmt = (
        select(MediaAsset.key, MediaAsset.kind, MediaAsset.caption)
        .where(MediaAsset.merchant_id == merchant_id)
        .order_by(MediaAsset.key)
    )
    return [(row.key, row.kind, row.caption) for row in session.execute(stmt)]


def library_summary_array(merchant_id: SQLColumnExpression[int]) -> ScalarSelect[list[list[str]]]:
    """library_summary as one array of [key, kind, caption] (NULL for none), to read with
    other rows."""
    entry = array([MediaAsset.key, MediaAsset.kind, MediaAsset.caption])
    rows = ARRAY(String, dimensions=2)
    return (
        select(func.array_agg(aggregate_order_by(entry, MediaAsset.key), type_=rows))
        .where(MediaAsset.merchant_id == merchant_id)
        .scalar_subquery()
    )
