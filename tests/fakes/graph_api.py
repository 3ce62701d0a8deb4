"""A fake WhatsApp Cloud API (Graph API) speaking the real wire format.

The messages endpoint (sends, read receipts with typing indicator) and inbound media:
`add_media(data, mime_type)` gives a media id; GET /{version}/{media-id} answers the real
metadata (url, mime_type, sha256, file_size, id, messaging_product) with a `url` back on this
fake, and GET of that url (Bearer token required) serves the bytes until
`expire_media_urls()` makes every URL handed out so far answer 404, as Meta's ~5-minute URLs do.

Message templates (`message_templates`, see tests/fakes/graph_templates.py): POST and GET
/{version}/{waba-id}/message_templates with any known token; template sends are checked
against what was created. Scripting: `message_templates.status_on_create`, `.add(...)`,
`.set_status(...)`, `.strict` (refuse templates this fake never saw).

Scripting, each consumed by the next request(s) it applies to:
- `fail_next(...)`: the next sends answer with a real Graph error body.
- `delay_next(seconds)`: the next requests are processed at once (a send is recorded) but
  answered late, as when Meta is slow: a client timing out cannot know the message went out.
- `fail_media_info_next(count, ...)`: the next media metadata calls answer with a Graph error.
- `accept_then_drop_next()`: the next send is recorded, then the connection is closed without
  any response ("sent at Meta but the client never heard"). It works by raising a
  BaseException from `handle`, which the FakeServer handler's `except Exception` lets through
  and our handler subclass (installed in `start`) turns into a silent close.
"""

from __future__ import annotations

import base64
import email.policy
import hashlib
import re
import secrets
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass
from email.parser import BytesParser
from typing import Any

from tests.fakes.graph_templates import TemplateError, TemplateStore
from tests.fakes.server import FakeServer, Request, Response

TEXT_LIMIT = 4096
MEDIA_TYPES = ("image", "video", "audio", "document", "sticker")
RATE_LIMIT_CODES = (4, 613, 80007, 130429, 131056)
SERVER_ERROR_CODES = (1, 2, 131000, 131016, 133004)

# Real titles and details, so tests read like production logs.
ERROR_TEXTS: dict[int, tuple[str, str | None]] = {
    1: ("An unknown error occurred", None),
    2: ("Service temporarily unavailable", None),
    4: ("Application request limit reached", None),
    100: ("Invalid parameter", None),
    131008: ("Required parameter is missing", None),
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
}


@dataclass
class _Media:
    data: bytes
    mime_type: str
    sha256: str
    file_size: int


class _DropConnection(BaseException):
    """Raised from `handle` to close the socket without answering."""


class InvalidBody(Exception):
    def __init__(self, details: str) -> None:
        super().__init__(details)
        self.details = details


@dataclass
class _Failure:
    http_status: int | None
    code: int
    subcode: int | None
    message: str | None
    details: str | None
    retry_after: float | None


def graph_error(
    code: int,
    *,
    http_status: int | None = None,
    subcode: int | None = None,
    message: str | None = None,
    details: str | None = None,
    headers: dict[str, str] | None = None,
    user_title: str | None = None,
    user_msg: str | None = None,
) -> Response:
    """A Graph API error response exactly as Meta shapes it."""
    title, default_details = ERROR_TEXTS.get(code, ("Unknown error", None))
    error: dict[str, Any] = {
        "message": message or f"(#{code}) {title}",
        "type": "OAuthException",
        "code": code,
    }
    if user_title or user_msg:  # business management errors explain themselves to people
        error["is_transient"] = False
        error["error_user_title"] = user_title
        error["error_user_msg"] = user_msg
    if details or default_details:
        error["error_data"] = {
            "messaging_product": "whatsapp",
            "details": details or default_details,
        }
    if subcode is not None:
        error["error_subcode"] = subcode
    error["fbtrace_id"] = "A" + uuid.uuid4().hex[:22]
    return Response.json({"error": error}, status=http_status or _status_for(code), headers=headers)


def _status_for(code: int) -> int:
    if code == 190:
        return 401
    return 500 if code in SERVER_ERROR_CODES else 400


def new_wamid() -> str:
    raw = b"\x15\x02\x00\x11\x18\x12" + uuid.uuid4().hex.upper().encode()
    return "wamid." + base64.b64encode(raw).decode()


class FakeGraphAPI(FakeServer):
    def __init__(self, version: str = "v23.0", tokens: dict[str, str] | None = None) -> None:
        super().__init__()
        self.version = version
        self.tokens = dict(tokens) if tokens is not None else None
        self._messages_path = re.compile(rf"^/{re.escape(version)}/([^/]+)/messages$")
        self.sent: list[dict[str, Any]] = []
        self.sent_at: list[float] = []  # time.time() when each `sent` entry arrived (benchmarks)
        self.reads: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self._failures: deque[_Failure] = deque()
        self._delays: deque[float] = deque()
        self._drops = 0
        self._media_path = re.compile(rf"^/{re.escape(version)}/(\d+)$")
        self.media: dict[str, _Media] = {}
        self._media_urls: dict[str, str] = {}  # url token -> media id, while the url is alive
        self._media_failures: deque[_Failure] = deque()
        # outbound media: POST /{phone-number-id}/media uploads, and ids made to fail on send
        self._upload_path = re.compile(rf"^/{re.escape(version)}/([^/]+)/media$")
        self.uploads: list[dict[str, Any]] = []
        self._rejected_media: dict[str, int] = {}
        self._upload_failures: deque[_Failure] = deque()
        self._templates_path = re.compile(rf"^/{re.escape(version)}/([^/]+)/message_templates$")
        self.message_templates = TemplateStore(self.lock)

    @property
    def api_root(self) -> str:
        return f"{self.url}/{self.version}"

    def start(self) -> FakeGraphAPI:
        super().start()
        assert self._httpd is not None
        base: Any = self._httpd.RequestHandlerClass

        class Handler(base):  # type: ignore[misc, valid-type]
            def _serve(self) -> None:
                try:
                    base._serve(self)
                except _DropConnection:
                    self.close_connection = True
                except (BrokenPipeError, ConnectionResetError):
                    # the client gave up on a delayed answer; nothing left to say
                    self.close_connection = True

            do_GET = do_POST = do_PUT = do_DELETE = _serve

        self._httpd.RequestHandlerClass = Handler
        return self

    # Scripting

    def fail_next(
        self,
        count: int = 1,
        *,
        http_status: int | None = None,
        code: int = 131000,
        subcode: int | None = None,
        message: str | None = None,
        details: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        failure = _Failure(http_status, code, subcode, message, details, retry_after)
        with self.lock:
            self._failures.extend([failure] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        with self.lock:
            self._delays.extend([seconds] * count)

    def add_media(
        self,
        data: bytes,
        mime_type: str,
        *,
        sha256: str | None = None,
        file_size: int | None = None,
    ) -> str:
        """Register a file as if a customer had sent it; returns its media id.

        `sha256` / `file_size` override what the metadata claims (to script a corrupt
        download or a file too large to build in a test).
        """
        media_id = str(secrets.randbelow(9 * 10**15) + 10**15)
        with self.lock:
            self.media[media_id] = _Media(
                data=data,
                mime_type=mime_type,
                sha256=sha256 or hashlib.sha256(data).hexdigest(),
                file_size=len(data) if file_size is None else file_size,
            )
        return media_id

    def expire_media_urls(self) -> None:
        with self.lock:
            self._media_urls.clear()

    def fail_media_info_next(
        self, count: int = 1, *, http_status: int | None = None, code: int = 131016
    ) -> None:
        failure = _Failure(http_status, code, None, None, None, None)
        with self.lock:
            self._media_failures.extend([failure] * count)

    def media_requests(self, kind: str) -> list[Request]:
        """Requests seen by "info" (GET /{media-id}) or "download" (GET of a media url)."""
        with self.lock:
            requests = list(self.requests)
        if kind == "download":
            return [r for r in requests if r.path.startswith("/media-download/")]
        return [r for r in requests if r.method == "GET" and self._media_path.match(r.path)]

    def reject_media_id(self, media_id: str, *, code: int = 100) -> None:
        """Sends naming this media id fail as when WhatsApp no longer has the file:
        100 (invalid media id, answered at once) or 131053 (media upload error)."""
        with self.lock:
            self._rejected_media[media_id] = code

    def fail_uploads_next(self, count: int = 1, *, code: int = 131053) -> None:
        """The next media uploads answer with a Graph error (default: media upload error)."""
        failure = _Failure(None, code, None, None, None, None)
        with self.lock:
            self._upload_failures.extend([failure] * count)

    def accept_then_drop_next(self) -> None:
        with self.lock:
            self._drops += 1

    # Inspection

    def texts_to(self, recipient: str) -> list[str]:
        with self.lock:
            return [
                body["text"]["body"]
                for body in self.sent
                if body.get("type", "text") == "text" and recipient in _addresses(body)
            ]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while True:
            with self.lock:
                if len(self.sent) >= count:
                    return list(self.sent)
                received = list(self.sent)
            if time.monotonic() >= deadline:
                raise AssertionError(
                    f"expected {count} sent messages within {timeout}s, got "
                    f"{len(received)}: {received!r}"
                )
            time.sleep(0.02)

    def reset(self) -> None:
        with self.lock:
            self.sent.clear()
            self.sent_at.clear()
            self.reads.clear()
            self.requests.clear()
            self._failures.clear()
            self._delays.clear()
            self._drops = 0
            self.media.clear()
            self._media_urls.clear()
            self._media_failures.clear()
            self.uploads.clear()
            self._rejected_media.clear()
            self._upload_failures.clear()
        self.message_templates.reset()

    # Wire

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            delay = self._delays.popleft() if self._delays else 0.0
        response = self._route(request)
        if delay:
            time.sleep(delay)
        return response

    def _route(self, request: Request) -> Response:
        templates = self._templates_path.match(request.path)
        if templates is not None and request.method in ("GET", "POST"):
            return self._message_templates(request, templates.group(1))
        upload = self._upload_path.match(request.path)
        if request.method == "POST" and upload is not None:
            return self._upload(request, upload.group(1))
        if request.method == "GET" and request.path.startswith("/media-download/"):
            return self._media_download(request)
        media = self._media_path.match(request.path)
        if request.method == "GET" and media is not None:
            return self._media_info(request, media.group(1))
        match = self._messages_path.match(request.path)
        if request.method != "POST" or match is None:
            return graph_error(
                100,
                subcode=33,
                message=f"Unsupported {request.method.lower()} request. Object with ID "
                f"'{request.path}' does not exist, cannot be loaded due to missing permissions, "
                "or does not support this operation.",
            )
        if not self._authorized(match.group(1), request.headers.get("authorization", "")):
            return graph_error(
                190, message="Invalid OAuth access token - Cannot parse access token"
            )
        try:
            body = _object(request)
            if body.get("status") == "read":
                return self._read(body)
            _validate_send(body)
            if body.get("type") == "template":
                self.message_templates.check_send(body["template"])
        except InvalidBody as exc:
            return graph_error(100, details=exc.details)
        except TemplateError as exc:
            return _template_error(exc)
        rejected = self._media_rejection(body)
        if rejected is not None:
            return rejected
        return self._send(body)

    def _message_templates(self, request: Request, waba_id: str) -> Response:
        """POST creates a template for review; GET lists the business account's templates."""
        if not self._any_token(request.headers.get("authorization", "")):
            return graph_error(
                190, message="Invalid OAuth access token - Cannot parse access token"
            )
        try:
            if request.method == "GET":
                url = f"{self.url}{request.path}"
                return Response.json(self.message_templates.list(waba_id, request.query, url))
            try:
                body = request.json()
            except ValueError:
                body = None
            return Response.json(self.message_templates.create(waba_id, body))
        except TemplateError as exc:
            return _template_error(exc)

    def _upload(self, request: Request, phone_number_id: str) -> Response:
        """POST /{phone-number-id}/media (multipart): answers {"id": media id}; the file can
        then be read back like inbound media (GET /{media-id})."""
        if not self._authorized(phone_number_id, request.headers.get("authorization", "")):
            return graph_error(
                190, message="Invalid OAuth access token - Cannot parse access token"
            )
        try:
            fields = _multipart(request)
            _require(fields.get("messaging_product", (None, None, b""))[2] == b"whatsapp",
                     "messaging_product must be whatsapp")  # fmt: skip
            _require("file" in fields and bool(fields["file"][2]), "file is required")
            _require("type" in fields, "type is required")
        except InvalidBody as exc:
            return graph_error(100, details=exc.details)
        with self.lock:
            failure = self._upload_failures.popleft() if self._upload_failures else None
        if failure is not None:
            return _failure_response(failure)
        filename, content_type, data = fields["file"]
        mime_type = fields["type"][2].decode()
        media_id = self.add_media(data, mime_type)
        with self.lock:
            self.uploads.append({
                "id": media_id, "phone_number_id": phone_number_id, "type": mime_type,
                "filename": filename, "content_type": content_type, "data": data,
            })  # fmt: skip
        return Response.json({"id": media_id})

    def _media_rejection(self, body: dict[str, Any]) -> Response | None:
        kind = body.get("type")
        content = body.get(kind) if kind in MEDIA_TYPES else None
        with self.lock:
            code = self._rejected_media.get(str((content or {}).get("id")))
        if code is None:
            return None
        if code == 131053:
            return graph_error(
                131053, message="(#131053) Media upload error",
                details="Unable to upload the media used in the message.",
            )  # fmt: skip
        return graph_error(
            code, details=f"Param {kind}['id'] is not a valid whatsapp business account media "
            "attachment ID",
        )  # fmt: skip

    def _media_info(self, request: Request, media_id: str) -> Response:
        if not self._any_token(request.headers.get("authorization", "")):
            return graph_error(
                190, message="Invalid OAuth access token - Cannot parse access token"
            )
        with self.lock:
            failure = self._media_failures.popleft() if self._media_failures else None
            media = self.media.get(media_id)
            token = secrets.token_urlsafe(16)
            if failure is None and media is not None:
                self._media_urls[token] = media_id
        if failure is not None:
            return _failure_response(failure)
        if media is None:
            return graph_error(
                100,
                subcode=33,
                message=f"Unsupported get request. Object with ID '{media_id}' does not exist, "
                "cannot be loaded due to missing permissions, or does not support this operation.",
            )
        return Response.json(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.url}/media-download/{media_id}?token={token}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(media.file_size),  # Meta sends it as a string
                "id": media_id,
            }
        )

    def _media_download(self, request: Request) -> Response:
        if not self._any_token(request.headers.get("authorization", "")):
            return Response(401, b"", {"Content-Type": "text/plain"})
        token = (request.query.get("token") or [""])[0]
        with self.lock:
            media_id = self._media_urls.get(token)
            media = self.media.get(media_id) if media_id else None
        if media is None or request.path != f"/media-download/{media_id}":
            return Response(404, b"", {"Content-Type": "text/plain"})
        return Response(200, media.data, {"Content-Type": media.mime_type})

    def _any_token(self, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.tokens is None or token.strip() in self.tokens.values()

    def _authorized(self, phone_number_id: str, header: str) -> bool:
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return False
        return self.tokens is None or self.tokens.get(phone_number_id) == token.strip()

    def _read(self, body: dict[str, Any]) -> Response:
        _require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
        _require(_nonempty_str(body.get("message_id")), "message_id is required")
        typing = body.get("typing_indicator")
        if typing is not None:
            _require(
                isinstance(typing, dict) and typing.get("type") == "text",
                "typing_indicator.type must be text",
            )
        with self.lock:
            self.reads.append(body)
        return Response.json({"success": True})

    def _send(self, body: dict[str, Any]) -> Response:
        with self.lock:
            failure = self._failures.popleft() if self._failures else None
            drop = failure is None and self._drops > 0
            if drop:
                self._drops -= 1
            if failure is None:
                wamid = new_wamid()
                self.sent.append({**body, "_wamid": wamid})
                self.sent_at.append(time.time())
        if failure is not None:
            return _failure_response(failure)
        if drop:
            raise _DropConnection
        address = body.get("to") or body["recipient"]
        wa_id = str(body["to"]).lstrip("+") if "to" in body else _fake_wa_id(address)
        return Response.json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": address, "wa_id": wa_id}],
                "messages": [{"id": wamid}],
            }
        )


def _failure_response(failure: _Failure) -> Response:
    headers = {}
    if failure.retry_after is not None:
        headers["Retry-After"] = f"{failure.retry_after:g}"
    return graph_error(
        failure.code,
        http_status=failure.http_status,
        subcode=failure.subcode,
        message=failure.message,
        details=failure.details,
        headers=headers,
    )


def _template_error(exc: TemplateError) -> Response:
    return graph_error(
        exc.code, subcode=exc.subcode, message=exc.message, details=exc.details,
        user_title=exc.user_title, user_msg=exc.user_msg,
    )  # fmt: skip


def _fake_wa_id(user_id: str) -> str:
    return "1555" + str(zlib.crc32(user_id.encode()) % 10**7).zfill(7)


def _addresses(body: dict[str, Any]) -> set[str]:
    return {str(body[key]) for key in ("to", "recipient") if key in body}


def _multipart(request: Request) -> dict[str, tuple[str | None, str | None, bytes]]:
    """multipart/form-data fields: name -> (filename, content type, bytes)."""
    content_type = request.headers.get("content-type", "")
    _require(content_type.startswith("multipart/form-data"), "expected multipart/form-data")
    head = f"Content-Type: {content_type}\r\nMIME-Version: 1.0\r\n\r\n".encode()
    message = BytesParser(policy=email.policy.HTTP).parsebytes(head + request.body)
    _require(message.is_multipart(), "malformed multipart body")
    fields: dict[str, tuple[str | None, str | None, bytes]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if isinstance(name, str):
            ctype = part.get_content_type() if part.get("content-type") else None
            fields[name] = (part.get_filename(), ctype, part.get_payload(decode=True) or b"")
    return fields


def _object(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        raise InvalidBody("request body is not valid JSON") from None
    _require(isinstance(body, dict), "request body must be a JSON object")
    return body


def _require(condition: bool, details: str) -> None:
    if not condition:
        raise InvalidBody(details)


def _nonempty_str(value: Any) -> bool:
    return isinstance(value, str) and bool(value.strip())


def _validate_send(body: dict[str, Any]) -> None:
    _require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
    _require(
        body.get("recipient_type", "individual") == "individual",
        "recipient_type must be individual",
    )
    addresses = [key for key in ("to", "recipient") if key in body]
    _require(len(addresses) == 1, "exactly one of to or recipient is required")
    _require(_nonempty_str(body[addresses[0]]), f"{addresses[0]} must be a non-empty string")
    context = body.get("context")
    if context is not None:
        _require(
            isinstance(context, dict) and _nonempty_str(context.get("message_id")),
            "context.message_id is required",
        )
    callback = body.get("biz_opaque_callback_data")
    if callback is not None:
        _require(
            isinstance(callback, str) and len(callback) <= 512,
            "biz_opaque_callback_data must be a string of at most 512 characters",
        )
    kind = body.get("type", "text")
    _require(kind in _SHAPES, f"unsupported message type {kind!r}")
    content = body.get(kind)
    _require(isinstance(content, dict), f"{kind} object is required")
    _SHAPES[kind](content)


def _text(content: dict[str, Any]) -> None:
    text = content.get("body")
    _require(isinstance(text, str) and len(text) >= 1, "text.body is required")
    _require(len(text) <= TEXT_LIMIT, f"text.body must be at most {TEXT_LIMIT} characters")
    _require(isinstance(content.get("preview_url", False), bool), "preview_url must be a bool")


def _media(content: dict[str, Any]) -> None:
    _require(
        _nonempty_str(content.get("id")) or _nonempty_str(content.get("link")),
        "media id or link is required",
    )


def _template(content: dict[str, Any]) -> None:
    language = content.get("language")
    _require(_nonempty_str(content.get("name")), "template.name is required")
    _require(
        isinstance(language, dict) and _nonempty_str(language.get("code")),
        "template.language.code is required",
    )


def _interactive(content: dict[str, Any]) -> None:
    _require(_nonempty_str(content.get("type")), "interactive.type is required")
    _require(isinstance(content.get("action"), dict), "interactive.action is required")


def _reaction(content: dict[str, Any]) -> None:
    _require(_nonempty_str(content.get("message_id")), "reaction.message_id is required")
    _require(isinstance(content.get("emoji"), str), "reaction.emoji is required")


_SHAPES = {
    "text": _text,
    "template": _template,
    "interactive": _interactive,
    "reaction": _reaction,
    **dict.fromkeys(MEDIA_TYPES, _media),
}
