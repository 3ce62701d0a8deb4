"""WhatsApp Cloud API webhook notifications: parsing and signature verification.

Pure functions, no I/O. The envelope (object, entry, changes) must be well formed or the
whole body is rejected; everything inside a change is read defensively, so one odd
message never costs its siblings.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

WABA_OBJECT = "whatsapp_business_account"
SIGNATURE_PREFIX = "sha256="
MEDIA_TYPES = frozenset({"image", "audio", "video", "document", "sticker"})

# Phone-based ids are digits only; BSUIDs are "<ISO country>.<alphanumeric>" (e.g.
# "US.13491208655302741918", parent BSUIDs "US.ENT.1181..."), so the two never collide.
_BSUID = re.compile(r"[A-Z]{2}\.[A-Za-z0-9.]+")
_HEX_DIGEST = re.compile(r"[0-9a-fA-F]{64}")


class InvalidNotification(ValueError):
    """The body is not a WhatsApp Business Account notification."""


@dataclass(frozen=True)
class Sender:
    wa_id: str | None
    user_id: str | None
    profile_name: str | None
    username: str | None = None
    parent_user_id: str | None = None


@dataclass(frozen=True)
class MediaRef:
    id: str
    mime_type: str | None
    sha256: str | None
    filename: str | None
    voice: bool = False
    animated: bool = False


@dataclass(frozen=True)
class InboundMessage:
    phone_number_id: str
    display_phone_number: str | None
    wamid: str
    sender: Sender
    timestamp: datetime
    type: str
    text: str | None
    media: MediaRef | None
    context_wamid: str | None
    raw: dict
    channel: str = "whatsapp_cloud"  # the provider that delivered it (a channel account type)


@dataclass(frozen=True)
class StatusError:
    code: int | None
    title: str | None
    message: str | None
    details: str | None


@dataclass(frozen=True)
class StatusUpdate:
    phone_number_id: str
    wamid: str
    status: str
    timestamp: datetime
    recipient_wa_id: str | None
    recipient_user_id: str | None
    callback_data: str | None
    errors: tuple[StatusError, ...]
    raw: dict
    channel: str = "whatsapp_cloud"


@dataclass(frozen=True)
class OtherChange:
    field: str
    value: dict
    # the entry's id: the WhatsApp Business Account id (template status updates need it)
    entry_id: str | None = None


@dataclass(frozen=True)
class TemplateStatusUpdate:
    """A `message_template_status_update`: Meta reviewed, paused or disabled a template."""

    waba_id: str | None
    template_id: str | None
    name: str | None
    language: str | None
    event: str  # APPROVED, REJECTED, PAUSED, DISABLED, REINSTATED, LOCKED...
    reason: str | None


TEMPLATE_STATUS_FIELD = "message_template_status_update"


def template_status_of(change: OtherChange) -> TemplateStatusUpdate | None:
    """The template status a change reports, if it is one."""
    if change.field != TEMPLATE_STATUS_FIELD:
        return None
    value = change.value
    return TemplateStatusUpdate(
        waba_id=change.entry_id,
        template_id=_scalar_text(value.get("message_template_id")),
        name=_scalar_text(value.get("message_template_name")),
        language=_scalar_text(value.get("message_template_language")),
        event=(_scalar_text(value.get("event")) or "").upper(),
        reason=_scalar_text(value.get("reason")),
    )


ACCOUNT_FIELDS = frozenset(
    {"account_update", "phone_number_quality_update", "message_template_quality_update"}
)


@dataclass(frozen=True)
class AccountEvent:
    """An account or quality webhook: what happened (`event`) to which number or template."""

    field: str
    waba_id: str | None
    event: str | None  # FLAGGED, UNFLAGGED, DOWNGRADE...; a template's new quality score
    display_phone_number: str | None
    current_limit: str | None
    value: dict
    # the number's quality rating when Meta states it (GREEN, YELLOW, RED, UNKNOWN)
    quality_rating: str | None = None
    # message_template_quality_update: which template
    template_id: str | None = None
    template_name: str | None = None
    template_language: str | None = None


def account_event_of(change: OtherChange) -> AccountEvent | None:
    """The account or quality event a change reports, if it is one."""
    if change.field not in ACCOUNT_FIELDS:
        return None
    value = change.value
    event = _scalar_text(value.get("event")) or _scalar_text(value.get("new_quality_score"))
    number = _scalar_text(value.get("display_phone_number")) or _scalar_text(
        value.get("phone_number")
    )
    return AccountEvent(
        field=change.field,
        waba_id=change.entry_id,
        event=event.upper() if event else None,
        display_phone_number=number,
        current_limit=_scalar_text(value.get("current_limit")),
        value=value,
        quality_rating=_quality_rating(value, event),
        template_id=_scalar_text(value.get("message_template_id")),
        template_name=_scalar_text(value.get("message_template_name")),
        template_language=_scalar_text(value.get("message_template_language")),
    )


QUALITY_RATINGS = frozenset({"GREEN", "YELLOW", "RED", "UNKNOWN"})


def _quality_rating(value: dict, event: str | None) -> str | None:
    """A quality colour, from the field Meta names it in, or an event that is one."""
    for candidate in (value.get("quality_rating"), value.get("new_quality_score"), event):
        text = (_scalar_text(candidate) or "").upper()
        if text in QUALITY_RATINGS:
            return text
    return None


@dataclass(frozen=True)
class Notification:
    messages: tuple[InboundMessage, ...]
    statuses: tuple[StatusUpdate, ...]
    others: tuple[OtherChange, ...]


class _Skip(Exception):
    """An individual message or status that cannot be used; recorded, not raised."""


def verify_signature(*, secret: bytes, body: bytes, header: str | None) -> bool:
    """Check X-Hub-Signature-256 ("sha256=<hex HMAC-SHA256 of the raw body>")."""
    if not isinstance(header, str) or not header.startswith(SIGNATURE_PREFIX):
        return False
    received = header[len(SIGNATURE_PREFIX) :]
    if not _HEX_DIGEST.fullmatch(received):
        return False
    expected = hmac.new(secret, body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, received.lower())


def load_json(body: bytes) -> object:
    """The body as JSON, refusing any object that names a key twice (InvalidNotification).
    Parsers disagree on which of two keys wins (Python's json: the last), so a second
    `phone_number_id` could route a message somewhere other than what a reader expects."""
    return json.loads(body, object_pairs_hook=_unique_keys)


def _unique_keys(pairs: list[tuple[str, object]]) -> dict[str, object]:
    found: dict[str, object] = {}
    for key, value in pairs:
        if key in found:
            raise InvalidNotification(f"duplicate key {key[:64]!r} in a JSON object")
        found[key] = value
    return found


def parse_notification(payload: object) -> Notification:
    """Every message, status and other change of every entry and change, in order."""
    payload = _without_nul(payload)
    messages: list[InboundMessage] = []
    statuses: list[StatusUpdate] = []
    others: list[OtherChange] = []
    for entry_id, change in _changes(payload):
        field, value = change["field"], change["value"]
        if field != "messages":
            others.append(OtherChange(field=field, value=value, entry_id=entry_id))
            continue
        _read_messages_value(value, messages, statuses, others)
    return Notification(tuple(messages), tuple(statuses), tuple(others))


def _without_nul(value: object) -> object:
    """PostgreSQL stores no NUL character in text or jsonb: U+FFFD stands in for it, in
    keys and values alike, so such a message is stored rather than retried forever."""
    if isinstance(value, str):
        return value.replace("\x00", "\ufffd") if "\x00" in value else value
    if isinstance(value, list):
        return [_without_nul(item) for item in value]
    if isinstance(value, dict):
        return {_without_nul(key): _without_nul(item) for key, item in value.items()}
    return value


# --- envelope -------------------------------------------------------------------------


def _changes(payload: object) -> list[tuple[str | None, dict]]:
    """Every (entry id, change) of the body."""
    if not isinstance(payload, dict):
        raise InvalidNotification(f"body must be a JSON object, not {type(payload).__name__}")
    if payload.get("object") != WABA_OBJECT:
        raise InvalidNotification(f"object must be {WABA_OBJECT!r}, got {payload.get('object')!r}")
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise InvalidNotification("entry must be a list")
    return [
        (_id(entry), change)
        for i, entry in enumerate(entries)
        for change in _entry_changes(i, entry)
    ]


def _id(entry: dict) -> str | None:
    value = entry.get("id")
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value) or None


def _entry_changes(index: int, entry: object) -> list[dict]:
    if not isinstance(entry, dict) or not isinstance(entry.get("changes"), list):
        raise InvalidNotification(f"entry[{index}] must be an object with a changes list")
    for change in entry["changes"]:
        valid = isinstance(change, dict) and isinstance(change.get("field"), str)
        if not valid or not isinstance(change.get("value"), dict):
            raise InvalidNotification(f"entry[{index}].changes must hold {{field, value}} objects")
    return entry["changes"]


def _read_messages_value(
    value: dict,
    messages: list[InboundMessage],
    statuses: list[StatusUpdate],
    others: list[OtherChange],
) -> None:
    metadata = _dict(value.get("metadata"))
    phone_number_id = _str(metadata.get("phone_number_id"))
    if phone_number_id is None:
        others.append(_invalid("invalid_change", value, "metadata.phone_number_id is missing"))
        return
    display = _str(metadata.get("display_phone_number"))
    contacts = [c for c in _list(value.get("contacts")) if isinstance(c, dict)]
    if value.get("errors"):
        others.append(OtherChange(field="errors", value=value))
    for raw in _list(value.get("messages")):
        try:
            messages.append(_message(raw, phone_number_id, display, contacts))
        except _Skip as skip:
            others.append(_invalid("invalid_message", raw, str(skip), phone_number_id))
    for raw in _list(value.get("statuses")):
        try:
            statuses.append(_status(raw, phone_number_id, contacts))
        except _Skip as skip:
            others.append(_invalid("invalid_status", raw, str(skip), phone_number_id))


def _invalid(
    field: str, raw: object, reason: str, phone_number_id: str | None = None
) -> OtherChange:
    value = {"reason": reason, "raw": raw, "phone_number_id": phone_number_id}
    return OtherChange(field=field, value=value)


# --- messages -------------------------------------------------------------------------


def _message(
    raw: object, phone_number_id: str, display: str | None, contacts: list[dict]
) -> InboundMessage:
    if not isinstance(raw, dict):
        raise _Skip("message is not an object")
    wamid = _str(raw.get("id"))
    if wamid is None:
        raise _Skip("message id is missing")
    timestamp = _timestamp(raw.get("timestamp"))
    if timestamp is None:
        raise _Skip("message timestamp is missing or not unix seconds")
    sender = _sender(raw, contacts)
    if sender.wa_id is None and sender.user_id is None:
        raise _Skip("message has neither a phone number nor a user id")
    kind = _str(raw.get("type")) or "unknown"
    return InboundMessage(
        phone_number_id=phone_number_id,
        display_phone_number=display,
        wamid=wamid,
        sender=sender,
        timestamp=timestamp,
        type=kind,
        text=_text(kind, raw),
        media=_media(kind, raw),
        context_wamid=_context_wamid(kind, raw),
        raw=raw,
    )


def _sender(raw: dict, contacts: list[dict]) -> Sender:
    wa_id, user_id = _split_id(_str(raw.get("from")))
    user_id = _str(raw.get("from_user_id")) or user_id
    contact = _contact_for(contacts, wa_id, user_id)
    profile = _dict(contact.get("profile"))
    return Sender(
        wa_id=wa_id or _split_id(_str(contact.get("wa_id")))[0],
        user_id=user_id or _str(contact.get("user_id")),
        profile_name=_str(profile.get("name")),
        username=_str(profile.get("username")),
        parent_user_id=_str(raw.get("from_parent_user_id")) or _str(contact.get("parent_user_id")),
    )


def _split_id(value: str | None) -> tuple[str | None, str | None]:
    """(wa_id, user_id): a BSUID found where a phone id is expected is kept as a user id."""
    if value is not None and _BSUID.fullmatch(value):
        return None, value
    return value, None


def _contact_for(contacts: list[dict], wa_id: str | None, user_id: str | None) -> dict:
    for contact in contacts:
        if wa_id is not None and _str(contact.get("wa_id")) == wa_id:
            return contact
        if user_id is not None and _str(contact.get("user_id")) == user_id:
            return contact
    # wa_id and from can differ for the same person (some countries' number formats).
    return contacts[0] if len(contacts) == 1 else {}


def _media(kind: str, raw: dict) -> MediaRef | None:
    body = _dict(raw.get(kind))
    media_id = _str(body.get("id"))
    if kind not in MEDIA_TYPES or media_id is None:
        return None
    return MediaRef(
        id=media_id,
        mime_type=_str(body.get("mime_type")),
        sha256=_str(body.get("sha256")),
        filename=_str(body.get("filename")),
        voice=body.get("voice") is True,
        animated=body.get("animated") is True,
    )


def _context_wamid(kind: str, raw: dict) -> str | None:
    if kind == "reaction":
        return _str(_dict(raw.get("reaction")).get("message_id"))
    return _str(_dict(raw.get("context")).get("id"))


def _text(kind: str, raw: dict) -> str | None:
    if kind == "contacts":
        return _contacts_text(raw.get("contacts"))
    body = _dict(raw.get(kind))
    reader = _TEXT_READERS.get(kind)
    if reader is not None:
        return reader(body)
    # Unknown types: only a plainly readable field counts.
    return _str(body.get("body")) or _str(body.get("text")) or _str(body.get("caption"))


def _interactive_text(body: dict) -> str | None:
    kind = _str(body.get("type")) or ""
    reply = _dict(body.get(kind))
    if kind == "nfm_reply":
        return _str(reply.get("response_json")) or _str(reply.get("body"))
    title, description = _str(reply.get("title")), _str(reply.get("description"))
    if title and description:
        return f"{title} — {description}"
    return title or description


@dataclass(frozen=True)
class Choice:
    """What the customer tapped: a reply button, a list row, or a template's quick reply."""

    id: str
    title: str


def choice_of(raw: dict | None) -> Choice | None:
    """The option a stored inbound message (its `raw`) chose, if it is such an answer."""
    raw = _dict(raw)
    if raw.get("type") == "button":  # a template's quick-reply button
        body = _dict(raw.get("button"))
        title = _str(body.get("text")) or _str(body.get("payload"))
        return Choice(_str(body.get("payload")) or title, title) if title else None
    body = _dict(raw.get("interactive"))
    if raw.get("type") != "interactive" or body.get("type") not in ("button_reply", "list_reply"):
        return None
    reply = _dict(body.get(body["type"]))
    option_id, title = _str(reply.get("id")), _str(reply.get("title"))
    if option_id is None or title is None:
        return None
    return Choice(option_id, title)


def _reaction_text(body: dict) -> str | None:
    if not body:
        return None
    emoji = _str(body.get("emoji"))
    return f"reacted {emoji} to a message" if emoji else "removed a reaction from a message"


def _location_text(body: dict) -> str | None:
    lat, lng = body.get("latitude"), body.get("longitude")
    place = ", ".join(p for p in (_str(body.get("name")), _str(body.get("address"))) if p)
    coords = f"({lat}, {lng})" if _is_number(lat) and _is_number(lng) else ""
    if not place and not coords:
        return None
    return " ".join(p for p in ("Location:", place, coords) if p)


def _contacts_text(cards: object) -> str | None:
    lines: list[str] = []
    for card in _list(cards):
        card = _dict(card)
        name = _str(_dict(card.get("name")).get("formatted_name"))
        phones = [_str(_dict(p).get("phone")) for p in _list(card.get("phones"))]
        phone_text = ", ".join(p for p in phones if p)
        if phone_text:
            lines.append(f"{name or 'Contact'} ({phone_text})")
        elif name:
            lines.append(name)
    return "Contacts: " + "; ".join(lines) if lines else None


def _order_text(body: dict) -> str | None:
    """A cart sent from the catalog, as line items the model can read: retailer ids are
    the products' Shopify variant ids (see send_products)."""
    items = [
        _order_item(item) for item in _list(body.get("product_items")) if isinstance(item, dict)
    ]
    note = _str(body.get("text"))
    if not items:
        return note
    text = "Order from the catalog: " + "; ".join(items)
    return f"{text}. Note: {note}" if note else text


def _order_item(item: dict) -> str:
    quantity = _scalar_text(item.get("quantity")) or "1"
    retailer_id = _scalar_text(item.get("product_retailer_id")) or "?"
    price = item.get("item_price")
    price_text = str(price) if _is_number(price) or isinstance(price, str) else None
    currency = _str(item.get("currency")) or ""
    at = f" at {price_text} {currency}".rstrip() if price_text else ""
    return f"{quantity} x variant {retailer_id}{at}"


_TEXT_READERS: dict[str, Callable[[dict], str | None]] = {
    "text": lambda body: _str(body.get("body")),
    "image": lambda body: _str(body.get("caption")),
    "video": lambda body: _str(body.get("caption")),
    "document": lambda body: _str(body.get("caption")),
    "audio": lambda body: None,
    "sticker": lambda body: None,
    "unsupported": lambda body: None,
    "interactive": _interactive_text,
    "button": lambda body: _str(body.get("text")) or _str(body.get("payload")),
    "reaction": _reaction_text,
    "location": _location_text,
    "order": _order_text,
    "system": lambda body: _str(body.get("body")),
}


# --- statuses -------------------------------------------------------------------------


def _status(raw: object, phone_number_id: str, contacts: list[dict]) -> StatusUpdate:
    if not isinstance(raw, dict):
        raise _Skip("status is not an object")
    wamid, status = _str(raw.get("id")), _str(raw.get("status"))
    if wamid is None or status is None:
        raise _Skip("status id or status is missing")
    timestamp = _timestamp(raw.get("timestamp"))
    if timestamp is None:
        raise _Skip("status timestamp is missing or not unix seconds")
    wa_id, user_id = _split_id(_str(raw.get("recipient_id")))
    user_id = _str(raw.get("recipient_user_id")) or user_id
    if user_id is None and wa_id is not None:
        user_id = _str(_contact_for(contacts, wa_id, None).get("user_id"))
    return StatusUpdate(
        phone_number_id=phone_number_id,
        wamid=wamid,
        status=status.lower(),
        timestamp=timestamp,
        recipient_wa_id=wa_id,
        recipient_user_id=user_id,
        callback_data=_str(raw.get("biz_opaque_callback_data")),
        errors=tuple(_status_error(e) for e in _list(raw.get("errors")) if isinstance(e, dict)),
        raw=raw,
    )


def _status_error(error: dict) -> StatusError:
    code = error.get("code")
    if isinstance(code, str) and code.isascii() and code.isdigit():
        code = int(code)
    details = _str(_dict(error.get("error_data")).get("details")) or _str(error.get("details"))
    return StatusError(
        code=code if isinstance(code, int) and not isinstance(code, bool) else None,
        title=_str(error.get("title")),
        message=_str(error.get("message")),
        details=details,
    )


# --- small readers --------------------------------------------------------------------


def _scalar_text(value: object) -> str | None:
    """A string or number as trimmed text (Meta sends template ids as numbers)."""
    if isinstance(value, bool) or not isinstance(value, str | int):
        return None
    return str(value).strip() or None


def _str(value: object) -> str | None:
    return value if isinstance(value, str) and value else None


def _dict(value: object) -> dict:
    return value if isinstance(value, dict) else {}


def _list(value: object) -> list:
    return value if isinstance(value, list) else []


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _timestamp(value: object) -> datetime | None:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        seconds = int(value)
    elif isinstance(value, int) and not isinstance(value, bool):
        seconds = value
    else:
        return None
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


# Statuses cross to the `status` queue as JSON.
def status_to_json(status: StatusUpdate) -> dict[str, Any]:
    data = asdict(status)
    data["timestamp"] = status.timestamp.isoformat()
    return data


def status_from_json(data: dict[str, Any]) -> StatusUpdate:
    return StatusUpdate(
        **{
            **data,
            "timestamp": datetime.fromisoformat(data["timestamp"]),
            "errors": tuple(StatusError(**e) for e in data.get("errors") or ()),
        }
    )
