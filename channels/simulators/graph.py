"""A simulator of Meta's Graph API for the WhatsApp Cloud API, speaking the real wire format.

One core for the tests, the benchmarks and the sandbox. Tests and benchmarks serve it on a
loopback port (`GraphSimulator(...).start()`, state in memory); the sandbox calls `handle`
from its own routes, with Redis-backed stores and hooks that show each send on a simulated
phone. Either way requests are checked as Meta checks them and refused with Meta's errors
(`graph_wire`); a simulator that accepted anything would test nothing.

Endpoints: POST /{version}/{phone-number-id}/messages (sends, and read receipts with a
typing indicator); POST /{version}/{phone-number-id}/media (multipart upload);
GET /{version}/{media-id} (media info: url, mime_type, sha256, file_size, id) and GET of
that url, /media-download/{media-id}?token=... (Bearer token required), which answers 404
once `expire_media_urls()` was called or after five minutes, as Meta's URLs do;
POST and GET /{version}/{waba-id}/message_templates (`graph_templates`); Embedded Signup's
code exchange, app subscription, number registration and number fields (`graph_onboarding`,
scripted through `onboarding`); GET/POST /{phone-number-id}/whatsapp_business_profile
(`graph_profile`, kept in `business_profiles`). Bearer tokens are
checked per phone number (`tokens`: a dict phone number id -> token, a callable, or None for
any token).

Scripting for tests, each consumed by the next request(s) it applies to:
- `fail_next(...)`: the next sends answer with a real Graph error body.
- `delay_next(seconds)`: the next requests are processed at once (a send is recorded) but
  answered late, as when Meta is slow: a client timing out cannot know the message went out.
- `accept_then_drop_next()`: the next send is recorded, then the connection is closed
  without any response ("sent at Meta but the client never heard").
- `customer_wrote(recipient, at=...)`: when the customer last wrote; free-form sends to a
  recipient whose 24-hour window has closed are refused with 131047, as Meta does (a
  recipient never declared has an open window).
- `fail_media_info_next(...)`, `fail_uploads_next(...)`, `reject_media_id(...)`,
  `add_media(...)`, `expire_media_urls()`; `message_templates.status_on_create`, `.add`,
  `.set_status`, `.strict`.
Inspection: `sent` (each body with its `_wamid`), `sent_at`, `reads`, `uploads`, `requests`,
`texts_to(recipient)`, `wait_for_sent(count)`, `media_requests(kind)`.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import time
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

from channels.simulators.graph_interactive import check_interactive
from channels.simulators.graph_media import Media, MediaStore, MemoryMedia
from channels.simulators.graph_onboarding import OnboardingStore
from channels.simulators.graph_profile import ProfileStore
from channels.simulators.graph_sends import Delivery, delivery_of
from channels.simulators.graph_templates import TemplateStore
from channels.simulators.graph_wire import (
    MEDIA_TYPES,
    GraphError,
    addresses,
    bearer_token,
    check_read,
    check_send,
    invalid_token,
    json_object,
    multipart,
    new_media_id,
    new_wamid,
    require,
    unsupported,
)
from channels.simulators.http import DropConnection, LoopbackServer, Request, Response

# (phone number id, or None for "any of the business's numbers", token) -> accepted?
TokenCheck = Callable[[str | None, str], bool]
# Called with each send Meta accepted, as the recipient's phone shows it.
SendHook = Callable[[Delivery], None]
# Called with a well-formed read receipt before it is accepted, as (phone number id, the
# message id read, with a typing indicator?); may raise GraphError to refuse it.
ReadHook = Callable[[str, str, bool], None]

_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)(?:/(?P<edge>[^/]+))?$")
_DOWNLOAD = re.compile(r"^/media-download/(?P<media_id>[^/]+)$")
SERVICE_WINDOW_SECONDS = 24 * 3600


class GraphSimulator(LoopbackServer):
    def __init__(
        self,
        version: str | None = "v23.0",
        tokens: dict[str, str] | TokenCheck | None = None,
        *,
        media: MediaStore | None = None,
        templates: TemplateStore | None = None,
        on_send: SendHook | None = None,
        on_read: ReadHook | None = None,
        public_url: str | None = None,
    ) -> None:
        """`version` None accepts any vNN.N; `public_url` is where clients reach this
        simulator when another server hosts it (media URLs point there)."""
        super().__init__()
        self.version = version
        self._tokens = _token_check(tokens)
        self.media: MediaStore = media if media is not None else MemoryMedia()
        self.message_templates = templates if templates is not None else TemplateStore()
        self.onboarding = OnboardingStore()
        self.business_profiles = ProfileStore()
        self.on_send, self.on_read, self.public_url = on_send, on_read, public_url
        self.sent: list[dict[str, Any]] = []
        self.sent_at: list[float] = []  # time.time() when each `sent` entry arrived (benchmarks)
        self.reads: list[dict[str, Any]] = []
        self.uploads: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self._failures: deque[GraphError] = deque()
        self._delays: deque[float] = deque()
        self._drops = 0
        self._media_failures: deque[GraphError] = deque()
        self._upload_failures: deque[GraphError] = deque()
        self._rejected_media: dict[str, int] = {}
        self._last_inbound: dict[str, float] = {}  # recipient -> time.time() they last wrote

    @property
    def base_url(self) -> str:
        return self.public_url or self.url

    @property
    def api_root(self) -> str:
        return f"{self.base_url}/{self.version}"

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
        failure = GraphError(
            code, http_status=http_status, subcode=subcode, message=message, details=details,
            retry_after=retry_after,
        )  # fmt: skip
        with self.lock:
            self._failures.extend([failure] * count)

    def delay_next(self, seconds: float, count: int = 1) -> None:
        with self.lock:
            self._delays.extend([seconds] * count)

    def accept_then_drop_next(self) -> None:
        with self.lock:
            self._drops += 1

    def add_media(
        self,
        data: bytes,
        mime_type: str,
        *,
        sha256: str | None = None,
        file_size: int | None = None,
        filename: str | None = None,
    ) -> str:
        """Keep a file as if a customer had sent it (or the business uploaded it); returns
        its media id. `sha256` / `file_size` override what the metadata claims (to script a
        corrupt download or a file too large to build in a test)."""
        media_id = new_media_id()
        media = Media(
            mime_type=mime_type,
            sha256=sha256 or hashlib.sha256(data).hexdigest(),
            file_size=len(data) if file_size is None else file_size,
            filename=filename,
        )
        self.media.put(media_id, media, data)
        return media_id

    def expire_media_urls(self) -> None:
        self.media.expire_urls()

    def fail_media_info_next(
        self, count: int = 1, *, http_status: int | None = None, code: int = 131016
    ) -> None:
        with self.lock:
            self._media_failures.extend([GraphError(code, http_status=http_status)] * count)

    def fail_uploads_next(self, count: int = 1, *, code: int = 131053) -> None:
        """The next media uploads answer with a Graph error (default: media upload error)."""
        with self.lock:
            self._upload_failures.extend([GraphError(code)] * count)

    def reject_media_id(self, media_id: str, *, code: int = 100) -> None:
        """Sends naming this media id fail as when WhatsApp no longer has the file:
        100 (invalid media id, answered at once) or 131053 (media upload error)."""
        with self.lock:
            self._rejected_media[media_id] = code

    def customer_wrote(self, recipient: str, at: float | None = None) -> None:
        """The customer (phone without "+", or user id) wrote at `at` (now)."""
        with self.lock:
            self._last_inbound[recipient.lstrip("+")] = time.time() if at is None else at

    # Inspection

    def texts_to(self, recipient: str) -> list[str]:
        with self.lock:
            return [
                body["text"]["body"]
                for body in self.sent
                if body.get("type", "text") == "text" and recipient in addresses(body)
            ]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return self.wait_for(self.sent, count, timeout)

    def media_requests(self, kind: str) -> list[Request]:
        """Requests seen by "info" (GET /{media-id}) or "download" (GET of a media url)."""
        with self.lock:
            requests = list(self.requests)
        if kind == "download":
            return [r for r in requests if _DOWNLOAD.match(r.path)]
        return [r for r in requests if r.method == "GET" and _media_id(r) is not None]

    def reset(self) -> None:
        with self.lock:
            for records in (self.sent, self.sent_at, self.reads, self.uploads, self.requests):
                records.clear()
            for script in (self._failures, self._delays, self._media_failures):
                script.clear()
            self._upload_failures.clear()
            self._rejected_media.clear()
            self._last_inbound.clear()
            self._drops = 0
        self.media.clear()
        self.message_templates.reset()
        self.onboarding.reset()
        self.business_profiles.reset()

    # Wire

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
            delay = self._delays.popleft() if self._delays else 0.0
        try:
            response = self._route(request)
        except GraphError as err:
            response = err.response()
        if delay:
            time.sleep(delay)
        return response

    def _route(self, request: Request) -> Response:
        download = _DOWNLOAD.match(request.path)
        if request.method == "GET" and download is not None:
            return self._media_download(request, download["media_id"])
        match = _PATH.match(request.path)
        if match is None or (self.version is not None and match["version"] != self.version):
            raise unsupported(request.method, request.path)
        node, edge = match["node"], match["edge"]
        onboarding = self._onboarding(request, node, edge)
        if onboarding is not None:
            return onboarding
        if edge == "uploads" and request.method == "POST":
            self._check_token(request, None)
            return self.business_profiles.start_upload(
                node, request, our_app_id=self.onboarding.app_id
            )
        if node.startswith("upload:") and edge is None and request.method == "POST":
            return self.business_profiles.receive_upload(node, request)
        if edge == "whatsapp_business_profile" and request.method in ("GET", "POST"):
            self._check_token(request, node)
            profiles = self.business_profiles
            read = request.method == "GET"
            return profiles.read(node, request) if read else profiles.update(node, request)
        if edge == "message_templates" and request.method in ("GET", "POST"):
            return self._message_templates(request, node)
        if edge == "messages" and request.method == "POST":
            return self._messages(request, node)
        if edge == "media" and request.method == "POST":
            return self._upload(request, node)
        if edge is None and request.method == "GET" and node.isdigit():
            return self._media_info(request, node)
        raise unsupported(request.method, f"{node}/{edge}" if edge else node)

    def _onboarding(self, request: Request, node: str, edge: str | None) -> Response | None:
        """Embedded Signup's calls, or None for any other request."""
        store, token = self.onboarding, bearer_token(request)
        if (node, edge, request.method) == ("oauth", "access_token", "GET"):
            return store.exchange(request)
        if edge == "subscribed_apps" and request.method == "POST":
            return store.subscribe(token, node)
        if edge == "register" and request.method == "POST":
            return store.register(token, node, request)
        if edge is None and request.method == "GET" and store.handles_number(node):
            return store.number_fields(token, node, request)
        return None

    def _check_token(self, request: Request, phone_number_id: str | None) -> None:
        token = bearer_token(request)
        if token is None or not self._tokens(phone_number_id, token):
            raise invalid_token()

    def _messages(self, request: Request, phone_number_id: str) -> Response:
        self._check_token(request, phone_number_id)
        body = json_object(request)
        if body.get("status") == "read":
            return self._read(phone_number_id, body)
        check_send(body)
        if body.get("type") == "template":
            self.message_templates.check_send(body["template"])
        if body.get("type") == "interactive":
            check_interactive(body["interactive"])
        self._check_media_id(body)
        return self._send(phone_number_id, body)

    def _read(self, phone_number_id: str, body: dict[str, Any]) -> Response:
        message_id = check_read(body)
        if self.on_read is not None:
            self.on_read(phone_number_id, message_id, body.get("typing_indicator") is not None)
        with self.lock:
            self.reads.append(body)
        return Response.json({"success": True})

    def _check_media_id(self, body: dict[str, Any]) -> None:
        kind = body.get("type")
        content = body.get(kind) if kind in MEDIA_TYPES else None
        with self.lock:
            code = self._rejected_media.get(str((content or {}).get("id")))
        if code == 131053:
            raise GraphError(131053)
        if code is not None:
            raise GraphError(
                code, details=f"Param {kind}['id'] is not a valid whatsapp business account "
                "media attachment ID",
            )  # fmt: skip

    def _send(self, phone_number_id: str, body: dict[str, Any]) -> Response:
        with self.lock:
            failure = self._failures.popleft() if self._failures else None
            if failure is not None:
                raise failure
            self._check_window(body)
            drop = self._drops > 0
            self._drops -= 1 if drop else 0
            wamid = new_wamid()
            self.sent.append({**body, "_wamid": wamid})
            self.sent_at.append(time.time())
        if self.on_send is not None:
            self.on_send(delivery_of(phone_number_id, body, wamid))
        if drop:
            raise DropConnection
        address = str(body.get("to") or body["recipient"])
        wa_id = address.lstrip("+") if "to" in body else _fake_wa_id(address)
        return Response.json(
            {
                "messaging_product": "whatsapp",
                "contacts": [{"input": address, "wa_id": wa_id}],
                "messages": [{"id": wamid}],
            }
        )

    def _check_window(self, body: dict[str, Any]) -> None:
        """Only templates reach a customer 24 hours after they last wrote (under self.lock)."""
        recipient = str(body.get("to") or body.get("recipient") or "").lstrip("+")
        wrote = self._last_inbound.get(recipient)
        closed = wrote is not None and time.time() - wrote >= SERVICE_WINDOW_SECONDS
        if closed and body.get("type") != "template":
            raise GraphError(131047)

    def _upload(self, request: Request, phone_number_id: str) -> Response:
        """Multipart upload: answers {"id": media id}; the file can then be sent by id and
        read back like inbound media (GET /{media-id})."""
        self._check_token(request, phone_number_id)
        fields = multipart(request)
        product = fields.get("messaging_product", (None, None, b""))[2]
        require(product == b"whatsapp", "messaging_product must be whatsapp")
        require("file" in fields and bool(fields["file"][2]), "file is required")
        require("type" in fields, "type is required")
        with self.lock:
            failure = self._upload_failures.popleft() if self._upload_failures else None
        if failure is not None:
            raise failure
        filename, content_type, data = fields["file"]
        mime_type = fields["type"][2].decode()
        media_id = self.add_media(data, mime_type, filename=filename)
        with self.lock:
            self.uploads.append({
                "id": media_id, "phone_number_id": phone_number_id, "type": mime_type,
                "filename": filename, "content_type": content_type, "data": data,
            })  # fmt: skip
        return Response.json({"id": media_id})

    def _media_info(self, request: Request, media_id: str) -> Response:
        # with ?phone_number_id= (as our client sends it) the token must be that number's
        phone_number_id = next(iter(request.query.get("phone_number_id") or []), None)
        self._check_token(request, phone_number_id)
        with self.lock:
            failure = self._media_failures.popleft() if self._media_failures else None
        if failure is not None:
            raise failure
        media = self.media.get(media_id)
        if media is None:
            raise unsupported("GET", media_id)
        token = secrets.token_urlsafe(16)
        self.media.issue_url(token, media_id)
        return Response.json(
            {
                "messaging_product": "whatsapp",
                "url": f"{self.base_url}/media-download/{media_id}?token={token}",
                "mime_type": media.mime_type,
                "sha256": media.sha256,
                "file_size": str(media.file_size),  # Meta sends it as a string
                "id": media_id,
            }
        )

    def _media_download(self, request: Request, media_id: str) -> Response:
        token = bearer_token(request)
        if token is None or not self._tokens(None, token):
            return Response(401, b"", {"Content-Type": "text/plain"})
        url_token = (request.query.get("token") or [""])[0]
        media = self.media.get(media_id)
        data = self.media.read(media_id) if media is not None else None
        if data is None or media is None or self.media.url_media(url_token) != media_id:
            return Response(404, b"", {"Content-Type": "text/plain"})
        return Response(200, data, {"Content-Type": media.mime_type})

    def _message_templates(self, request: Request, waba_id: str) -> Response:
        """POST creates a template for review; GET lists the business account's templates."""
        self._check_token(request, None)
        if request.method == "GET":
            url = f"{self.base_url}{request.path}"
            return Response.json(self.message_templates.list(waba_id, request.query, url))
        try:
            body = request.json()
        except ValueError:
            body = None
        return Response.json(self.message_templates.create(waba_id, body))


def _token_check(tokens: dict[str, str] | TokenCheck | None) -> TokenCheck:
    if tokens is None:
        return lambda phone_number_id, token: True
    if callable(tokens):
        return tokens
    known = dict(tokens)
    return lambda phone_number_id, token: (
        token in known.values() if phone_number_id is None else known.get(phone_number_id) == token
    )


def _media_id(request: Request) -> str | None:
    match = _PATH.match(request.path)
    return match["node"] if match and match["edge"] is None and match["node"].isdigit() else None


def _fake_wa_id(user_id: str) -> str:
    return "1555" + str(zlib.crc32(user_id.encode()) % 10**7).zfill(7)
