"""The Graph API's wire format for the simulator: Meta's error bodies, its id shapes, and the
checks Meta makes on what the business sends (message sends, read receipts, uploads).

Errors carry Meta's real codes, titles and details, so a client meets in tests and in the
sandbox the answers it gets in production, and tests read like production logs.
"""

from __future__ import annotations

import base64
import email.policy
import secrets
import uuid
from email.parser import BytesParser
from typing import Any

from channels.simulators.http import Request, Response

TEXT_LIMIT = 4096
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
SERVER_ERROR_CODES = (1, 2, 131000, 131016, 133004)
UNSUPPORTED_SUBCODE = 33  # with code 100: no such object, or not this operation on it

# Meta's titles (and the details that come with them where Meta sends the same each time).
ERROR_TEXTS: dict[int, tuple[str, str | None]] = {
    1: ("An unknown error occurred", None),
    2: ("Service temporarily unavailable", None),
    4: ("Application request limit reached", None),
    100: ("Invalid parameter", None),
    131008: ("Required parameter is missing", None),
    131009: ("Parameter value is not valid", None),
    131053: ("Media upload error", "Unable to upload the media used in the message."),
    132000: ("Number of parameters does not match the expected number of params", None),
    132001: ("Template name does not exist in the translation", None),
    132005: ("Translated text too long", None),
    132018: ("There was an issue with the parameters in your template.", None),
    613: ("Calls to this api have exceeded the rate limit.", None),
    80007: ("Rate limit issues", None),
    130429: ("Rate limit hit", "Cloud API message throughput has been reached."),
    131000: ("Something went wrong", "Message failed to send due to an unknown error."),
    131016: ("Service unavailable", "A service is temporarily unavailable."),
    131026: ("Message Undeliverable", "Message Undeliverable."),
    131047: (
        "Re-engagement message",
        "Message failed to send because more than 24 hours have passed since the customer "
        "last replied to this number.",
    ),
    131056: (
        "(Business Account, Consumer Account) pair rate limit hit",
        "Message failed to send because there were too many messages sent from this phone "
        "number to the same phone number in a short period of time.",
    ),
    133004: ("Server Temporarily Unavailable", None),
    133005: ("Two step verification PIN Mismatch", "Two step verification PIN incorrect."),
    133016: (
        "Account register deregister rate limit exceeded",
        "Registration or Deregistration failed because there were too many attempts for this "
        "phone number in a short period of time.",
    ),
}


class GraphError(Exception):
    """A Graph API error, answered as Meta shapes it (`response()`)."""

    def __init__(
        self,
        code: int,
        *,
        details: str | None = None,
        message: str | None = None,
        subcode: int | None = None,
        http_status: int | None = None,
        user_title: str | None = None,
        user_msg: str | None = None,
        retry_after: float | None = None,
        kind: str = "OAuthException",
    ) -> None:
        title, default_details = ERROR_TEXTS.get(code, ("Unknown error", None))
        self.code = code
        self.message = message or f"(#{code}) {title}"
        self.details = details or default_details
        self.subcode = subcode
        self.http_status = http_status or _status_for(code)
        self.user_title = user_title
        self.user_msg = user_msg
        self.retry_after = retry_after
        self.kind = kind
        super().__init__(f"{self.message}: {self.details}" if self.details else self.message)

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.kind, "code": self.code}
        if self.user_title or self.user_msg:  # business management errors explain themselves
            error["is_transient"] = False
            error["error_user_title"] = self.user_title
            error["error_user_msg"] = self.user_msg
        if self.details:
            error["error_data"] = {"messaging_product": "whatsapp", "details": self.details}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "A" + uuid.uuid4().hex[:22]
        return {"error": error}

    def response(self) -> Response:
        headers = {}
        if self.retry_after is not None:
            headers["Retry-After"] = f"{self.retry_after:g}"
        return Response.json(self.body(), status=self.http_status, headers=headers)


def _status_for(code: int) -> int:
    if code == 190:
        return 401
    return 500 if code in SERVER_ERROR_CODES else 400


def invalid_token() -> GraphError:
    return GraphError(190, message="Invalid OAuth access token - Cannot parse access token")


def unsupported(method: str, object_id: str) -> GraphError:
    """What Meta answers for an id it does not know, or an operation the object lacks."""
    return GraphError(
        100,
        subcode=UNSUPPORTED_SUBCODE,
        kind="GraphMethodException",
        message=f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not "
        "exist, cannot be loaded due to missing permissions, or does not support this "
        "operation.",
    )


def new_wamid() -> str:
    """An id shaped like those WhatsApp gives the business's sends."""
    raw = b"\x15\x02\x00\x11\x18\x12" + uuid.uuid4().hex.upper().encode()
    return "wamid." + base64.b64encode(raw).decode()


def new_media_id() -> str:
    """A numeric id as Meta gives media and templates (16 digits)."""
    return str(secrets.randbelow(9 * 10**15) + 10**15)


def bearer_token(request: Request) -> str | None:
    scheme, _, token = request.headers.get("authorization", "").partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def require(condition: bool, details: str) -> None:
    if not condition:
        raise GraphError(100, details=details)


def nonempty(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def json_object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise GraphError(100, details="request body is not valid JSON") from None
    require(isinstance(body, dict), "request body must be a JSON object")
    return body


def addresses(body: dict[str, Any]) -> set[str]:
    return {str(body[key]) for key in ("to", "recipient") if key in body}


def check_read(body: dict[str, Any]) -> str:
    """A read receipt (optionally with a typing indicator); returns the message id."""
    require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    require(nonempty(body.get("message_id")), "message_id is required")
    typing = body.get("typing_indicator")
    require(
        typing is None or (isinstance(typing, dict) and typing.get("type") == "text"),
        "typing_indicator.type must be text",
    )
    return str(body["message_id"])


def check_send(body: dict[str, Any]) -> None:
    """The envelope and content of a message send, as Meta checks them."""
    require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    require(
        body.get("recipient_type", "individual") == "individual",
        "recipient_type must be individual",
    )
    named = [key for key in ("to", "recipient") if key in body]
    require(len(named) == 1, "exactly one of to or recipient is required")
    require(nonempty(body[named[0]]), f"{named[0]} must be a non-empty string")
    context = body.get("context")
    require(
        context is None or (isinstance(context, dict) and nonempty(context.get("message_id"))),
        "context.message_id is required",
    )
    callback = body.get("biz_opaque_callback_data")
    require(
        callback is None or (isinstance(callback, str) and len(callback) <= 512),
        "biz_opaque_callback_data must be a string of at most 512 characters",
    )
    kind = body.get("type", "text")
    require(kind in _SHAPES, f"unsupported message type {kind!r}")
    content = body.get(kind)
    if not isinstance(content, dict):
        raise GraphError(100, details=f"{kind} object is required")
    _SHAPES[kind](content)


def _text(content: dict[str, Any]) -> None:
    text = content.get("body")
    if not isinstance(text, str) or not text:
        raise GraphError(100, details="text.body is required")
    require(len(text) <= TEXT_LIMIT, f"text.body must be at most {TEXT_LIMIT} characters")
    require(isinstance(content.get("preview_url", False), bool), "preview_url must be a bool")


def _media(content: dict[str, Any]) -> None:
    require(
        nonempty(content.get("id")) or nonempty(content.get("link")),
        "media id or link is required",
    )


def _template(content: dict[str, Any]) -> None:
    language = content.get("language")
    require(nonempty(content.get("name")), "template.name is required")
    require(
        isinstance(language, dict) and nonempty(language.get("code")),
        "template.language.code is required",
    )
    components = content.get("components")
    require(
        components is None or isinstance(components, list), "template.components must be a list"
    )
    for component in components or []:
        require(
            isinstance(component, dict) and isinstance(component.get("type"), str),
            "each template component needs a type",
        )
        parameters = component.get("parameters")
        require(
            parameters is None
            or (isinstance(parameters, list) and all(isinstance(p, dict) for p in parameters)),
            "template parameters must be objects",
        )


def _reaction(content: dict[str, Any]) -> None:
    require(nonempty(content.get("message_id")), "reaction.message_id is required")
    require(isinstance(content.get("emoji"), str), "reaction.emoji is required")


_SHAPES = {
    "text": _text,
    "template": _template,
    "interactive": lambda content: None,  # graph_interactive checks the rest
    "reaction": _reaction,
    **dict.fromkeys(MEDIA_TYPES, _media),
}


def multipart(request: Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """multipart/form-data fields: name -> (filename, content type, bytes)."""
    content_type = request.headers.get("content-type", "")
    require(content_type.startswith("multipart/form-data"), "expected multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    require(message.is_multipart(), "malformed multipart body")
    fields: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            ctype = part.get_content_type() if part.get("content-type") else None
            payload = part.get_payload(decode=True)
            data = payload if isinstance(payload, bytes) else b""
            fields[name] = (part.get_filename(), ctype, data)
    return fields
