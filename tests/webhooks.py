"""Builders of WhatsApp Cloud API webhook bodies, in the real wire format, for tests."""

from __future__ import annotations

import base64
import copy
import hashlib
import hmac
import json
import secrets
import time
from pathlib import Path
from typing import Any

DATA_DIR = Path(__file__).parent / "data"
WABA_ID = "102290129340398"
DISPLAY_PHONE_NUMBER = "15550783881"
DEFAULT_WA_ID = "15551234567"


def new_wamid(recipient: str = DEFAULT_WA_ID) -> str:
    """A unique id shaped like WhatsApp's: base64 of the peer's number and a 20-char token."""
    token = secrets.token_hex(10).upper().encode()
    peer = recipient.encode()
    raw = b"\x1c\x18" + bytes([len(peer)]) + peer + b"\x15\x02\x00\x12\x18\x14" + token + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def sign(body: bytes, secret: str) -> str:
    """The X-Hub-Signature-256 header value Meta would send for this body."""
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def load_payload(name: str) -> dict:
    """A recorded payload from tests/data (name with or without ".json")."""
    filename = name if name.endswith(".json") else f"{name}.json"
    return json.loads((DATA_DIR / filename).read_text(encoding="utf-8"))


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
) -> dict:
    message: dict[str, Any] = {"type": "text", "text": {"body": text}}
    if wamid is not None:
        message["id"] = wamid
    if timestamp is not None:
        message["timestamp"] = str(timestamp)
    if context_wamid is not None:
        message["context"] = {"from": DISPLAY_PHONE_NUMBER, "id": context_wamid}
    return message_payload(
        phone_number_id=phone_number_id,
        message=message,
        wa_id=wa_id,
        user_id=user_id,
        profile_name=profile_name,
    )


def message_payload(
    *,
    phone_number_id: str,
    message: dict,
    wa_id: str | None = DEFAULT_WA_ID,
    user_id: str | None = None,
    profile_name: str = "Ana",
) -> dict:
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
    value = _messages_value(phone_number_id)
    value["contacts"] = [_contact(wa_id=wa_id, user_id=user_id, profile_name=profile_name)]
    value["messages"] = [message]
    return _envelope(value)


def status_payload(
    *,
    phone_number_id: str,
    wamid: str,
    status: str,
    recipient_id: str = DEFAULT_WA_ID,
    timestamp: int | None = None,
    errors: list[dict] | None = None,
    callback_data: str | None = None,
) -> dict:
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": str(timestamp if timestamp is not None else int(time.time())),
        "recipient_id": recipient_id,
    }
    if errors is not None:
        entry["errors"] = errors
    elif status != "failed":
        entry["pricing"] = {
            "billable": False,
            "pricing_model": "PMP",
            "category": "service",
            "type": "free_customer_service",
        }
    if callback_data is not None:
        entry["biz_opaque_callback_data"] = callback_data
    value = _messages_value(phone_number_id)
    value["statuses"] = [entry]
    return _envelope(value)


def _contact(*, wa_id: str | None, user_id: str | None, profile_name: str) -> dict:
    contact: dict[str, Any] = {"profile": {"name": profile_name}}
    if wa_id is not None:
        contact["wa_id"] = wa_id
    if user_id is not None:
        contact["user_id"] = user_id
    return contact


def _messages_value(phone_number_id: str) -> dict:
    return {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": DISPLAY_PHONE_NUMBER,
            "phone_number_id": phone_number_id,
        },
    }


def _envelope(value: dict) -> dict:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": WABA_ID, "changes": [{"value": value, "field": "messages"}]}],
    }
