"""WhatsApp Cloud API webhook bodies as Meta posts them, and their X-Hub-Signature-256.

The sandbox posts them to /webhook as a customer's phone and as the platform reporting on
the business's sends; tests and benchmarks build them the same way. Shapes follow the
payloads recorded in tests/data: inbound messages in both the phone (`wa_id`) and the
business-scoped user id (`user_id`) shapes, statuses with `conversation` and `pricing` on
"sent" and "delivered" only.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import secrets
import time
from typing import Any

WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550783881"
DEFAULT_WA_ID = "15551234567"
_CONVERSATION_SECONDS = 24 * 3600


def new_wamid(peer: str = DEFAULT_WA_ID) -> str:
    """A unique id shaped like WhatsApp's: base64 of the peer's number and a 20-char token."""
    token = secrets.token_hex(10).upper().encode()
    raw = b"\x1c\x18" + bytes([len(peer.encode())]) + peer.encode() + b"\x15\x02\x00\x12\x18\x14"
    return "wamid." + base64.b64encode(raw + token + b"\x00").decode()


def sign(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header value Meta sends: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def text_message(
    text: str,
    *,
    context_wamid: str | None = None,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
) -> dict[str, Any]:
    """A text message object; `context_wamid` makes it a reply to the business's message."""
    message: dict[str, Any] = {"type": "text", "text": {"body": text}}
    if context_wamid is not None:
        message["context"] = {"from": display_phone_number, "id": context_wamid}
    return message


def media_message(
    kind: str, *, media_id: str, mime_type: str, sha256: str, caption: str = "", filename: str = ""
) -> dict[str, Any]:
    """An image, audio (a voice note when OGG), video, sticker or document message object."""
    content: dict[str, Any] = {"id": media_id, "mime_type": mime_type, "sha256": sha256}
    if kind == "audio":
        content["voice"] = mime_type.startswith("audio/ogg")
    elif caption:
        content["caption"] = caption
    if kind == "document":
        content["filename"] = filename
    return {"type": kind, kind: content}


def message_payload(
    *,
    phone_number_id: str,
    message: dict[str, Any],
    wa_id: str | None = DEFAULT_WA_ID,
    user_id: str | None = None,
    profile_name: str = "Ana",
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """Wrap one message object; id, timestamp and sender ids are filled in when absent.

    wa_id=None with a user_id gives the username-only shape (no phone anywhere).
    """
    message = copy.deepcopy(message)
    if wa_id is not None:
        message.setdefault("from", wa_id)
    if user_id is not None:
        message.setdefault("from_user_id", user_id)
    message.setdefault("id", new_wamid(wa_id or user_id or DEFAULT_WA_ID))
    message.setdefault("timestamp", str(int(time.time())))
    value = _value(phone_number_id, display_phone_number)
    value["contacts"] = [_contact(wa_id=wa_id, user_id=user_id, profile_name=profile_name)]
    value["messages"] = [message]
    return _envelope(value, waba_id)


def text_message_payload(
    *,
    phone_number_id: str,
    wa_id: str | None = DEFAULT_WA_ID,
    user_id: str | None = None,
    text: str = "hi",
    wamid: str | None = None,
    timestamp: int | None = None,
    profile_name: str = "Ana",
    context_wamid: str | None = None,
) -> dict[str, Any]:
    message = text_message(text, context_wamid=context_wamid)
    if wamid is not None:
        message["id"] = wamid
    if timestamp is not None:
        message["timestamp"] = str(timestamp)
    return message_payload(
        phone_number_id=phone_number_id,
        message=message,
        wa_id=wa_id,
        user_id=user_id,
        profile_name=profile_name,
    )


def status_payload(
    *,
    phone_number_id: str,
    wamid: str,
    status: str,
    recipient_id: str = DEFAULT_WA_ID,
    timestamp: int | None = None,
    errors: list[dict[str, Any]] | None = None,
    callback_data: str | None = None,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A status of a message the business sent: sent, delivered, read or failed (`errors`)."""
    at = timestamp if timestamp is not None else int(time.time())
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(at),
        "recipient_id": recipient_id,
    }
    if errors is not None:
        entry["errors"] = errors
    elif status in ("sent", "delivered"):
        conversation: dict[str, Any] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
        if status == "sent":
            conversation["expiration_timestamp"] = str(at + _CONVERSATION_SECONDS)
        entry["conversation"] = conversation
        entry["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    value = _value(phone_number_id, display_phone_number)
    value["statuses"] = [entry]
    return _envelope(value, waba_id)


def echo_payload(
    *,
    phone_number_id: str,
    text: str,
    to: str = DEFAULT_WA_ID,
    wamid: str | None = None,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """An `smb_message_echoes` change: the business typed `text` to `to` in the WhatsApp
    Business app (coexistence)."""
    echo = {
        "from": display_phone_number,
        "to": to,
        "id": wamid or new_wamid(to),
        "timestamp": str(int(time.time())),
        "type": "text",
        "text": {"body": text},
    }
    value = _value(phone_number_id, display_phone_number)
    value["message_echoes"] = [echo]
    return _envelope(value, waba_id, field="smb_message_echoes")


def history_payload(
    *,
    phone_number_id: str,
    thread: list[tuple[bool, str]],
    wa_id: str = DEFAULT_WA_ID,
    display_phone_number: str = DISPLAY_PHONE_NUMBER,
    waba_id: str = WABA_ID,
) -> dict[str, Any]:
    """A `history` change with one thread: (from_business, text) pairs, oldest first,
    written in the days before onboarding."""
    start = int(time.time()) - 3 * 24 * 3600
    messages = []
    for index, (from_business, text) in enumerate(thread):
        message: dict[str, Any] = {
            "from": display_phone_number if from_business else wa_id,
            "id": new_wamid(wa_id),
            "timestamp": str(start + 60 * index),
            "type": "text",
            "text": {"body": text},
            "history_context": {"status": "READ" if from_business else "DELIVERED"},
        }
        if from_business:
            message["to"] = wa_id
        messages.append(message)
    chunk = {
        "metadata": {"phase": 0, "chunk_order": 1, "progress": 100},
        "threads": [{"id": wa_id, "messages": messages}],
    }
    value = _value(phone_number_id, display_phone_number)
    value["history"] = [chunk]
    return _envelope(value, waba_id, field="history")


def _contact(*, wa_id: str | None, user_id: str | None, profile_name: str) -> dict[str, Any]:
    contact: dict[str, Any] = {"profile": {"name": profile_name}}
    if wa_id is not None:
        contact["wa_id"] = wa_id
    if user_id is not None:
        contact["user_id"] = user_id
    return contact


def _value(phone_number_id: str, display_phone_number: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }


def _envelope(value: dict[str, Any], waba_id: str, field: str = "messages") -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": field}]}],
    }
