"""A simulator of the Instagram API's messaging endpoints (Instagram Direct), on the wire.

Endpoints: POST /{version}/{instagram-account-id}/messages (the Send API: text, media by
URL, quick replies, generic templates, sender actions), checked as Meta checks them, with
a bearer token per account; GET /{version}/{igsid}?fields=name,username (a customer's
profile, for accounts `add_user` declared). Refusals carry Meta's error object
`{"error": {"message", "type", "code", "error_subcode", "fbtrace_id"}}`.

Scripting: `customer_wrote(igsid, at=...)` (free-form sends are refused 24 h later with
code 10 / subcode 2534022, HUMAN_AGENT-tagged ones 7 days later; a customer never declared
has an open window), `unavailable(igsid)` (551), `fail_next(...)`.
Inspection: `sent`, `texts_to(igsid)`, `wait_for_sent(count)`.
Helpers build and sign the webhooks Instagram posts (`message_event`, `webhook_body`,
`sign`, `post_webhook`), for tests, benchmarks and the sandbox.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import secrets
import time
import uuid
from collections import deque
from typing import Any

import httpx

from channels.simulators.http import LoopbackServer, Request, Response

RESPONSE_WINDOW = 24 * 3600
HUMAN_AGENT_WINDOW = 7 * 24 * 3600
TEXT_LIMIT = 1000
MAX_QUICK_REPLIES, QUICK_REPLY_TITLE_LIMIT = 13, 20
ATTACHMENT_TYPES = frozenset({"image", "video", "audio", "file", "template"})
_PATH = re.compile(r"^/(?P<version>v\d+\.\d+)/(?P<node>[^/]+)(?:/(?P<edge>[^/]+))?$")
_TEXTS = {
    1: "An unknown error occurred",
    2: "An unexpected error has occurred. Please retry your request later.",
    4: "(#4) Application request limit reached",
    10: "This message is sent outside of allowed window.",
    100: "Invalid parameter",
    190: "Invalid OAuth access token - Cannot parse access token",
    551: "This person isn't available right now.",
}
_SUBCODES = {10: 2534022, 551: 1545041}


class InstagramError(Exception):
    def __init__(
        self, code: int, *, message: str | None = None, subcode: int | None = None, status=400
    ) -> None:
        super().__init__(message or _TEXTS.get(code, "Unknown error"))
        self.code, self.status = code, status
        self.message = message or _TEXTS.get(code, "Unknown error")
        self.subcode = subcode if subcode is not None else _SUBCODES.get(code)

    def response(self) -> Response:
        kind = "OAuthException" if self.code in (10, 190, 551) else "IGApiException"
        error: dict[str, Any] = {"message": self.message, "type": kind, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        error["fbtrace_id"] = "A" + uuid.uuid4().hex[:22]
        return Response.json({"error": error}, status=self.status)


def _invalid(message: str) -> InstagramError:
    return InstagramError(100, message=f"(#100) {message}")


class InstagramSimulator(LoopbackServer):
    def __init__(self, version: str | None = "v23.0", tokens: dict[str, str] | None = None):
        """`tokens`: account id -> its access token (None accepts any token)."""
        super().__init__()
        self.version = version
        self.tokens = tokens
        self.sent: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.requests: list[Request] = []
        self.users: dict[str, dict[str, str]] = {}
        self._last_inbound: dict[str, float] = {}
        self._unavailable: set[str] = set()
        self._failures: deque[InstagramError] = deque()

    # Scripting

    def customer_wrote(self, igsid: str, at: float | None = None) -> None:
        with self.lock:
            self._last_inbound[igsid] = time.time() if at is None else at

    def unavailable(self, igsid: str) -> None:
        with self.lock:
            self._unavailable.add(igsid)

    def fail_next(self, count: int = 1, *, code: int = 2, status: int = 500) -> None:
        with self.lock:
            self._failures.extend([InstagramError(code, status=status)] * count)

    def add_user(self, igsid: str, *, name: str, username: str) -> None:
        with self.lock:
            self.users[igsid] = {"name": name, "username": username, "id": igsid}

    def reset(self) -> None:
        with self.lock:
            for records in (self.sent, self.actions, self.requests):
                records.clear()
            self.users.clear()
            self._last_inbound.clear()
            self._unavailable.clear()
            self._failures.clear()

    # Inspection

    def texts_to(self, igsid: str) -> list[str]:
        with self.lock:
            return [
                str(body["message"]["text"])
                for body in self.sent
                if body["recipient"]["id"] == igsid and "text" in body["message"]
            ]

    def wait_for_sent(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        return self.wait_for(self.sent, count, timeout)

    # Wire

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.requests.append(request)
        try:
            return self._route(request)
        except InstagramError as err:
            return err.response()

    def _route(self, request: Request) -> Response:
        match = _PATH.match(request.path)
        if match is None or (self.version is not None and match["version"] != self.version):
            raise _invalid(f"Unknown path components: {request.path}")
        node, edge = match["node"], match["edge"]
        if edge == "messages" and request.method == "POST":
            self._check_token(request, node)
            return self._messages(node, _json(request))
        if edge is None and request.method == "GET":
            self._check_token(request, None)
            return self._profile(node, request)
        raise _invalid(f"Unsupported {request.method} request for {node}")

    def _check_token(self, request: Request, account_id: str | None) -> None:
        header = request.headers.get("authorization", "")
        token = header[7:] if header.startswith("Bearer ") else None
        if token is None:
            raise InstagramError(190, message="An active access token must be used")
        if self.tokens is None:
            return
        known = self.tokens.values() if account_id is None else [self.tokens.get(account_id)]
        if token not in known:
            raise InstagramError(190)

    def _profile(self, igsid: str, request: Request) -> Response:
        user = self.users.get(igsid)
        if user is None:
            raise _invalid(f"Unsupported get request. Object with ID '{igsid}' does not exist")
        fields = (request.query.get("fields") or ["name,username"])[0].split(",")
        return Response.json({k: v for k, v in user.items() if k in fields or k == "id"})

    def _messages(self, account_id: str, body: dict[str, Any]) -> Response:
        igsid = str(_dict(body.get("recipient")).get("id") or "")
        if not igsid:
            raise _invalid("The parameter recipient is required")
        if "sender_action" in body:
            if body["sender_action"] not in ("typing_on", "typing_off", "mark_seen", "react"):
                raise _invalid("param sender_action must be one of typing_on, typing_off, ...")
            with self.lock:
                self.actions.append(body)
            return Response.json({"recipient_id": igsid})
        _check_message(body)
        with self.lock:
            if self._failures:
                raise self._failures.popleft()
            if igsid in self._unavailable:
                raise InstagramError(551)
            self._check_window(igsid, body)
            mid = new_mid()
            self.sent.append({**body, "_account_id": account_id, "_mid": mid})
        return Response.json({"recipient_id": igsid, "message_id": mid})

    def _check_window(self, igsid: str, body: dict[str, Any]) -> None:
        wrote = self._last_inbound.get(igsid)
        if wrote is None:
            return
        tagged = body.get("messaging_type") == "MESSAGE_TAG"
        window = HUMAN_AGENT_WINDOW if tagged else RESPONSE_WINDOW
        if time.time() - wrote >= window:
            raise InstagramError(10)


def _check_message(body: dict[str, Any]) -> None:
    kind = body.get("messaging_type", "RESPONSE")
    if kind not in ("RESPONSE", "UPDATE", "MESSAGE_TAG"):
        raise _invalid("param messaging_type must be one of {RESPONSE, UPDATE, MESSAGE_TAG}")
    if kind == "MESSAGE_TAG" and body.get("tag") != "HUMAN_AGENT":
        raise _invalid("Instagram accepts only the HUMAN_AGENT tag")
    message = body.get("message")
    if not isinstance(message, dict) or not ("text" in message or "attachment" in message):
        raise _invalid("param message must be an object with text or attachment")
    if "text" in message:
        text = message["text"]
        if not isinstance(text, str) or not text.strip() or len(text) > TEXT_LIMIT:
            raise _invalid(f"param message[text] must be 1 to {TEXT_LIMIT} characters")
    if "attachment" in message:
        _check_attachment(_dict(message["attachment"]))
    if "quick_replies" in message:
        _check_quick_replies(message["quick_replies"])


def _check_attachment(attachment: dict[str, Any]) -> None:
    kind, payload = attachment.get("type"), _dict(attachment.get("payload"))
    if kind not in ATTACHMENT_TYPES:
        raise _invalid(f"param message[attachment][type] {kind!r} is not supported")
    if kind == "template":
        elements = payload.get("elements")
        if payload.get("template_type") != "generic" or not isinstance(elements, list):
            raise _invalid("Instagram supports generic templates only")
        if not 1 <= len(elements) <= 10 or not all(_dict(e).get("title") for e in elements):
            raise _invalid("a generic template has 1 to 10 elements, each with a title")
    elif not str(payload.get("url") or "").startswith(("http://", "https://")):
        raise _invalid("param message[attachment][payload][url] must be a URL")


def _check_quick_replies(replies: object) -> None:
    if not isinstance(replies, list) or not 1 <= len(replies) <= MAX_QUICK_REPLIES:
        raise _invalid(f"param message[quick_replies] must have 1 to {MAX_QUICK_REPLIES} items")
    for reply in replies:
        reply = _dict(reply)
        title = reply.get("title")
        if reply.get("content_type") != "text" or not reply.get("payload"):
            raise _invalid("each quick reply needs content_type text and a payload")
        if not isinstance(title, str) or not 1 <= len(title) <= QUICK_REPLY_TITLE_LIMIT:
            raise _invalid(f"quick reply titles have 1 to {QUICK_REPLY_TITLE_LIMIT} characters")


def _json(request: Request) -> dict[str, Any]:
    try:
        body = request.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise _invalid("the request body must be a JSON object")
    return body


def _dict(value: object) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


# --- webhooks as Instagram posts them -------------------------------------------------


def new_mid() -> str:
    """A message id shaped like Instagram's (base64 of an opaque token)."""
    return "aWdfZAG1faXRlbToxOklHTWVzc2FnZAUlEOj" + secrets.token_urlsafe(24)


def sign(body: bytes, secret: str) -> str:
    """X-Hub-Signature-256: "sha256=" + hex HMAC-SHA256 of the raw body with the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def message_event(
    *,
    account_id: str,
    igsid: str,
    text: str | None = None,
    attachments: list[dict[str, Any]] | None = None,
    mid: str | None = None,
    echo: bool = False,
    at: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """One `messaging` event: a customer's message, or (echo) one the business sent."""
    message: dict[str, Any] = {"mid": mid or new_mid(), **extra}
    if text is not None:
        message["text"] = text
    if attachments:
        message["attachments"] = attachments
    if echo:
        message["is_echo"] = True
    sender, recipient = (account_id, igsid) if echo else (igsid, account_id)
    return {
        "sender": {"id": sender},
        "recipient": {"id": recipient},
        "timestamp": int((time.time() if at is None else at) * 1000),
        "message": message,
    }


def webhook_body(account_id: str, events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "object": "instagram",
        "entry": [{"time": int(time.time() * 1000), "id": account_id, "messaging": events}],
    }


def signed(
    payload: dict[str, Any], *, secret: str, signature: str | None = None
) -> tuple[bytes, dict[str, str]]:
    """The body and headers of a webhook POST as Meta signs it (`signature`: forge one)."""
    body = json.dumps(payload).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": signature or sign(body, secret),
    }
    return body, headers


def post_webhook(
    url: str, payload: dict[str, Any], *, secret: str, signature: str | None = None
) -> httpx.Response:
    """POST a webhook body signed as Meta signs it, to our app at `url`."""
    body, headers = signed(payload, secret=secret, signature=signature)
    return httpx.post(url, content=body, headers=headers, timeout=10)
