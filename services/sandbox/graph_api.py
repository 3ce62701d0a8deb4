"""The sandbox's fake Graph API: what Meta would accept from the business, and what the
person's phone then shows. Requests are checked as Meta checks them; errors have Meta's
shape, so the WhatsApp client meets the same answers it gets in production."""

from __future__ import annotations

import base64
import secrets
import uuid
from typing import Any

from services.sandbox.phone import Bubble

MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
SEND_TYPES = ("text", "template", "interactive", "reaction", *MEDIA_TYPES)
TEXT_LIMIT = 4096


class GraphError(Exception):
    def __init__(
        self, code: int, message: str, *, http_status: int = 400, subcode: int | None = None
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.http_status = http_status
        self.subcode = subcode

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {
            "message": f"(#{self.code}) {self.message}",
            "type": "OAuthException",
            "code": self.code,
            "error_data": {"messaging_product": "whatsapp", "details": self.message},
            "fbtrace_id": "A" + uuid.uuid4().hex[:22],
        }
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        return {"error": error}


def invalid_token() -> GraphError:
    return GraphError(
        190, "Invalid OAuth access token - Cannot parse access token", http_status=401
    )


def new_wamid() -> str:
    raw = b"\x15\x02\x00\x11\x18\x12" + uuid.uuid4().hex.upper().encode()
    return "wamid." + base64.b64encode(raw).decode()


def new_media_id() -> str:
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def _require(condition: bool, details: str) -> None:
    if not condition:
        raise GraphError(100, f"Invalid parameter: {details}")


def _required_object(value: Any, details: str) -> dict[str, Any]:
    _require(isinstance(value, dict), details)
    return value


def _nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def recipient_of(body: dict[str, Any]) -> str:
    """Check the envelope of a send and name its chat (`to` phone or `recipient` user id)."""
    _require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    _require(body.get("recipient_type", "individual") == "individual", "recipient_type")
    addresses = [k for k in ("to", "recipient") if k in body]
    _require(len(addresses) == 1, "exactly one of to or recipient is required")
    _require(_nonempty(body[addresses[0]]), f"{addresses[0]} must be a non-empty string")
    callback = body.get("biz_opaque_callback_data")
    _require(
        callback is None or (isinstance(callback, str) and len(callback) <= 512),
        "biz_opaque_callback_data must be a string of at most 512 characters",
    )
    return str(body[addresses[0]]).lstrip("+")


def bubble_of(body: dict[str, Any], wamid: str) -> Bubble:
    """The message as the person's phone shows it; GraphError when Meta would refuse it."""
    kind = body.get("type", "text")
    _require(kind in SEND_TYPES, f"unsupported message type {kind!r}")
    content = _required_object(body.get(kind), f"{kind} object is required")
    bubble = Bubble(id=wamid, mine=False, kind=kind, callback=body.get("biz_opaque_callback_data"))
    if kind == "text":
        text = content.get("body")
        _require(isinstance(text, str) and 0 < len(text) <= TEXT_LIMIT, "text.body")
        bubble.text = text
    elif kind in MEDIA_TYPES:
        _require(_nonempty(content.get("id")) or _nonempty(content.get("link")), "media id or link")
        bubble.media_id = content.get("id")
        bubble.media_link = content.get("link")
        bubble.text = content.get("caption")
        bubble.filename = content.get("filename")
    elif kind == "template":
        bubble.template = _template(content)
    elif kind == "interactive":
        bubble.text, bubble.buttons = _interactive(content)
    else:
        _require(_nonempty(content.get("message_id")), "reaction.message_id is required")
        bubble.text = f"reacted {content.get('emoji') or ''}".strip()
    return bubble


def _template(content: dict[str, Any]) -> dict[str, Any]:
    _require(_nonempty(content.get("name")), "template.name is required")
    language = _required_object(content.get("language"), "template.language.code is required")
    _require(_nonempty(language.get("code")), "template.language.code is required")
    params: dict[str, list[str]] = {}
    buttons: list[str] = []
    for component in content.get("components") or []:
        _require(isinstance(component, dict), "template.components must be objects")
        values = [_parameter_text(p) for p in component.get("parameters") or []]
        if component.get("type") == "button":
            buttons += values
        else:
            params.setdefault(str(component.get("type") or "body"), []).extend(values)
    return {
        "name": content["name"],
        "language": language["code"],
        "header": params.get("header", []),
        "body": params.get("body", []),
        "buttons": buttons,
    }


def _parameter_text(parameter: Any) -> str:
    _require(isinstance(parameter, dict), "template parameters must be objects")
    kind = parameter.get("type", "text")
    if kind == "text":
        return str(parameter.get("text", ""))
    if kind == "payload":
        return str(parameter.get("payload", ""))
    value = parameter.get(kind)
    if isinstance(value, dict):
        return str(value.get("fallback_value") or value.get("link") or value.get("id") or kind)
    return str(value or kind)


def _interactive(content: dict[str, Any]) -> tuple[str, list[str]]:
    _require(_nonempty(content.get("type")), "interactive.type is required")
    action = _required_object(content.get("action"), "interactive.action is required")
    body = content.get("body") or {}
    titles = [
        str((b.get("reply") or {}).get("title") or b.get("title") or "")
        for b in action.get("buttons") or []
        if isinstance(b, dict)
    ]
    for section in action.get("sections") or []:
        titles += [
            str(r.get("title", "")) for r in section.get("rows") or [] if isinstance(r, dict)
        ]
    return str(body.get("text") or ""), [t for t in titles if t]


def send_answer(address: str, wamid: str) -> dict[str, Any]:
    """What Meta answers to an accepted send."""
    return {
        "messaging_product": "whatsapp",
        "contacts": [{"input": address, "wa_id": address}],
        "messages": [{"id": wamid}],
    }


def check_read(body: dict[str, Any]) -> str:
    """A read receipt (optionally with a typing indicator); returns the message id."""
    _require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    _require(_nonempty(body.get("message_id")), "message_id is required")
    typing = body.get("typing_indicator")
    _require(
        typing is None or (isinstance(typing, dict) and typing.get("type") == "text"),
        "typing_indicator.type must be text",
    )
    return str(body["message_id"])


TEMPLATE_EXISTS_SUBCODE = 2388024


def template_exists(name: str, language: str) -> GraphError:
    return GraphError(
        100,
        f"Content in This Language Already Exists: {name} already has {language} content",
        subcode=TEMPLATE_EXISTS_SUBCODE,
    )


def approved_template(body: dict[str, Any]) -> dict[str, Any]:
    """A template submission as Meta would list it once approved."""
    _require(_nonempty(body.get("name")), "name is required")
    _require(_nonempty(body.get("language")), "language is required")
    _require(_nonempty(body.get("category")), "category is required")
    _require(isinstance(body.get("components"), list), "components must be a list")
    return {
        "id": new_media_id(),
        "name": body["name"],
        "language": body["language"],
        "category": str(body["category"]).upper(),
        "status": "APPROVED",
        "components": body["components"],
    }
