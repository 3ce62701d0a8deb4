"""A fake Twilio on 127.0.0.1: the Messages API (plain, media and Content API sends), media
URLs that need basic auth, and helpers that post signed webhooks to our app as Twilio does.

Wire format as Twilio's: form-encoded POST to `/2010-04-01/Accounts/{sid}/Messages.json`
with basic auth (account sid, auth token); 201 with the Message resource (`sid` SM...,
`status` queued); errors as `{"code", "message", "more_info", "status"}` (20003 bad
credentials, 21211 bad To, 21619 no body/media/content, 63016 outside the 24 h window).
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import time
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode

import httpx

from channels.simulators.http import LoopbackServer, Request, Response
from channels.twilio.signature import compute_signature

_MESSAGES = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages\.json$")
_MEDIA = re.compile(r"^/2010-04-01/Accounts/(AC[0-9a-fA-F]{32})/Messages/(MM\w+)/Media/(ME\w+)$")
_E164 = re.compile(r"^whatsapp:\+[1-9]\d{6,14}$")


def _error(status: int, code: int, message: str) -> Response:
    return Response.json(
        {"code": code, "message": message,
         "more_info": f"https://www.twilio.com/docs/errors/{code}", "status": status},
        status=status,
    )  # fmt: skip


def new_sid(prefix: str) -> str:
    return prefix + secrets.token_hex(16)


class TwilioSimulator(LoopbackServer):
    """One Twilio account; `closed_window` holds customers (`+E164`) whose 24 h window is
    shut, so a free-form send to them fails (63016) while a ContentSid send goes."""

    def __init__(self, *, account_sid: str, auth_token: str) -> None:
        super().__init__()
        self.account_sid = account_sid
        self.auth_token = auth_token
        self._counter = itertools.count(1)
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.sent: list[dict[str, str]] = []
            self.refused: list[dict[str, str]] = []
            self.media: dict[str, tuple[bytes, str]] = {}
            self.closed_window: set[str] = set()
            # Twilio downloads a MediaUrl before it sends: `fetch_media(url)` does it here
            # (None: the URL is only recorded in `sent`); each outcome lands in `fetched`
            self.fetch_media: Callable[[str], httpx.Response] | None = None
            self.fetched: list[tuple[str, int, bytes]] = []

    # --- the provider's side -------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        if not self._authorized(request):
            return _error(401, 20003, "Authenticate")
        if request.method == "GET" and (match := _MEDIA.match(request.path)):
            with self.lock:
                found = self.media.get(match.group(3))
            if found is None:
                return _error(404, 20404, "The requested resource was not found")
            return Response(200, found[0], {"Content-Type": found[1]})
        if request.method == "POST" and _MESSAGES.match(request.path):
            return self._send(dict(parse_qsl(request.body.decode(), keep_blank_values=True)))
        return _error(404, 20404, "The requested resource was not found")

    def _authorized(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        match = _MESSAGES.match(request.path) or _MEDIA.match(request.path)
        return (
            request.headers.get("authorization") == f"Basic {expected}"
            and match is not None
            and match.group(1) == self.account_sid
        )

    def _send(self, form: dict[str, str]) -> Response:
        to, sender = form.get("To", ""), form.get("From", "")
        if not _E164.match(to):
            return _error(400, 21211, f"The 'To' number {to} is not a valid phone number.")
        if not _E164.match(sender):
            return _error(400, 21212, f"The 'From' number {sender} is not a valid phone number.")
        if not (form.get("Body") or form.get("MediaUrl") or form.get("ContentSid")):
            return _error(400, 21619, "A text message body or media url must be specified.")
        if form.get("ContentSid") and not re.match(r"^HX[0-9a-f]{32}$", form["ContentSid"]):
            return _error(400, 21655, "The ContentSid is Invalid.")
        if form.get("ContentVariables"):
            try:
                json.loads(form["ContentVariables"])
            except ValueError:
                return _error(400, 21656, "The ContentVariables Parameter is invalid.")
        with self.lock:
            if to.removeprefix("whatsapp:") in self.closed_window and not form.get("ContentSid"):
                self.refused.append(form)
                return _error(400, 63016, "Failed to send freeform message because you are "
                              "outside the allowed window.")  # fmt: skip
            sid = new_sid("SM")
            self.sent.append({**form, "_sid": sid})
            fetch = self.fetch_media
        if fetch is not None and form.get("MediaUrl"):
            self._fetch(fetch, form["MediaUrl"])
        return Response.json(self._resource(sid, form), status=201)

    def _fetch(self, fetch: Callable[[str], httpx.Response], url: str) -> None:
        try:
            answer = fetch(url)
            outcome = (url, answer.status_code, answer.content)
        except httpx.HTTPError:
            outcome = (url, 0, b"")
        with self.lock:
            self.fetched.append(outcome)

    def _resource(self, sid: str, form: dict[str, str]) -> dict[str, Any]:
        now = format_datetime(datetime.now(UTC), usegmt=True)
        uri = f"/2010-04-01/Accounts/{self.account_sid}/Messages/{sid}"
        return {
            "account_sid": self.account_sid, "api_version": "2010-04-01",
            "body": form.get("Body", ""), "date_created": now, "date_sent": None,
            "date_updated": now, "direction": "outbound-api", "error_code": None,
            "error_message": None, "from": form["From"], "messaging_service_sid": None,
            "num_media": "1" if form.get("MediaUrl") else "0", "num_segments": "1",
            "price": None, "price_unit": "USD", "sid": sid, "status": "queued",
            "subresource_uris": {"media": f"{uri}/Media.json"}, "to": form["To"],
            "uri": f"{uri}.json",
        }  # fmt: skip

    def wait_for_sent(self, count: int, *, timeout: float = 20.0) -> list[dict[str, str]]:
        """The sends once there are at least `count` (AssertionError after `timeout`)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.sent) >= count:
                    return list(self.sent)
            time.sleep(0.05)
        raise AssertionError(f"expected {count} Twilio sends, got {len(self.sent)}")

    # --- what Twilio sends us ------------------------------------------------------------

    def add_media(self, data: bytes, content_type: str) -> str:
        """Host a customer's file; returns its MediaUrl (basic auth needed to fetch it)."""
        message, media = new_sid("MM"), new_sid("ME")
        with self.lock:
            self.media[media] = (data, content_type)
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/{message}/Media/{media}"

    def inbound_form(
        self, *, sender: str, customer: str, body: str = "", profile_name: str = "Ana",
        media: list[tuple[str, str]] | None = None, button_payload: str | None = None,
        message_sid: str | None = None,
    ) -> dict[str, str]:  # fmt: skip
        """An incoming WhatsApp message as Twilio posts it (customer: `+E164`)."""
        sid = message_sid or new_sid("SM")
        form = {
            "SmsMessageSid": sid, "NumMedia": str(len(media or [])), "ProfileName": profile_name,
            "MessageType": "button" if button_payload else ("image" if media else "text"),
            "SmsSid": sid, "WaId": customer.lstrip("+"), "SmsStatus": "received", "Body": body,
            "To": f"whatsapp:{sender}", "NumSegments": "1", "ReferralNumMedia": "0",
            "MessageSid": sid, "AccountSid": self.account_sid, "From": f"whatsapp:{customer}",
            "ApiVersion": "2010-04-01",
        }  # fmt: skip
        for n, (url, content_type) in enumerate(media or []):
            form[f"MediaUrl{n}"], form[f"MediaContentType{n}"] = url, content_type
        if button_payload:
            form["ButtonPayload"], form["ButtonText"] = button_payload, body
        return form

    def status_form(
        self, *, sid: str, status: str, sender: str, customer: str, error_code: int | None = None
    ) -> dict[str, str]:
        form = {
            "SmsSid": sid, "SmsStatus": status, "MessageStatus": status,
            "ChannelToAddress": customer, "To": f"whatsapp:{customer}",
            "ChannelPrefix": "whatsapp", "MessageSid": sid, "AccountSid": self.account_sid,
            "From": f"whatsapp:{sender}", "ApiVersion": "2010-04-01",
            "ChannelInstallSid": new_sid("XE"),
        }  # fmt: skip
        if error_code is not None:
            form["ErrorCode"] = str(error_code)
        return form

    def sign(self, url: str, form: dict[str, str], auth_token: str | None = None) -> str:
        return compute_signature(auth_token or self.auth_token, url, form.items())

    def post(
        self, http: Any, url: str, form: dict[str, str], *, signature: str | None = None
    ) -> httpx.Response:
        """POST the form to our app at `url` (the full URL Twilio was given), signed."""
        headers = {
            "Content-Type": "application/x-www-form-urlencoded",
            "X-Twilio-Signature": signature or self.sign(url, form),
            "I-Twilio-Idempotency-Token": str(next(self._counter)),
            "User-Agent": "TwilioProxy/1.1",
        }
        return http.post(url, content=urlencode(form), headers=headers)
