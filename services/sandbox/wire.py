"""WhatsApp Cloud API webhook bodies, as Meta sends them, for the sandbox to post.

The sandbox plays both Meta ends: a customer's phone (messages) and the platform telling
the business what happened to its sends (statuses). Everything it posts goes through the
real /webhook with a real X-Hub-Signature-256, so the rest of the system cannot tell.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
import time
from typing import Any

WABA_ID = "100000000000999"


def new_wamid(peer: str) -> str:
    """An id shaped like WhatsApp's: base64 of the peer's number and a random token."""
    token = secrets.token_hex(10).upper().encode()
    raw = b"\x1c\x18" + bytes([len(peer.encode())]) + peer.encode() + b"\x15\x02\x00\x12\x18\x14"
    return "wamid." + base64.b64encode(raw + token + b"\x00").decode()


def signature(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header value: HMAC-SHA256 of the raw body."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _value(phone_number_id: str, display_phone_number: str) -> dict[str, Any]:
    return {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": display_phone_number,
            "phone_number_id": phone_number_id,
        },
    }


def _envelope(value: dict[str, Any]) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }


def message_webhook(
    *,
    phone_number_id: str,
    display_phone_number: str,
    wa_id: str,
    profile_name: str,
    message: dict[str, Any],
) -> dict[str, Any]:
    """One inbound message (`message` holds type and content; id and sender are added)."""
    full = {
        "from": wa_id,
        "id": message.get("id") or new_wamid(wa_id),
        "timestamp": str(int(time.time())),
        **message,
    }
    value = _value(phone_number_id, display_phone_number)
    value["contacts"] = [{"profile": {"name": profile_name}, "wa_id": wa_id}]
    value["messages"] = [full]
    return _envelope(value)


def text_message(text: str, *, reply_to: str | None = None) -> dict[str, Any]:
    message: dict[str, Any] = {"type": "text", "text": {"body": text}}
    if reply_to:
        message["context"] = {"id": reply_to}
    return message


def media_message(
    kind: str, *, media_id: str, mime_type: str, sha256: str, caption: str, filename: str
) -> dict[str, Any]:
    """An image, audio (voice note when OGG), video or document message."""
    content: dict[str, Any] = {"id": media_id, "mime_type": mime_type, "sha256": sha256}
    if kind == "audio":
        content["voice"] = mime_type.startswith("audio/ogg")
    elif caption:
        content["caption"] = caption
    if kind == "document":
        content["filename"] = filename
    return {"type": kind, kind: content}


def status_webhook(
    *,
    phone_number_id: str,
    display_phone_number: str,
    wamid: str,
    status: str,
    recipient_id: str,
    callback_data: str | None = None,
) -> dict[str, Any]:
    """A delivery status of a message the business sent (sent, delivered, read)."""
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(int(time.time())),
        "recipient_id": recipient_id,
    }
    if status != "read":
        entry["conversation"] = {"id": secrets.token_hex(16), "origin": {"type": "service"}}
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
    return _envelope(value)
