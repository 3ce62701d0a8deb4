"""Embedded Signup's Graph API calls for the simulator: the code exchange, the app's
subscription to a WhatsApp Business Account, number registration and the number's details.

- GET /{version}/oauth/access_token?client_id=&client_secret=&code= answers
  {"access_token", "token_type": "bearer"} once per code (`issue_code`); a used or unknown
  code answers Meta's OAuthException 100 (subcode 36009 used, 36007 invalid), a wrong app id
  or secret error 1 "Error validating client secret.".
- POST /{waba-id}/subscribed_apps answers {"success": true} (again: still true).
- POST /{phone-number-id}/register {"messaging_product": "whatsapp", "pin": "6 digits"}:
  a number with a two-step verification PIN (`add_number(pin=...)`) refuses any other PIN
  with 133005; more than 10 attempts for one number answer 133016, as Meta counts them
  over 72 hours. Registering a registered number again succeeds, as Meta's does.
- GET /{phone-number-id}?fields=... answers the number's fields (`status` CONNECTED once
  registered).
Each answers with the business token the code was exchanged for, as Meta requires.
`fail_next(call, error)` scripts a Graph error for the next "exchange", "subscribe",
"register" or "number" call.
"""

from __future__ import annotations

import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any

from channels.simulators.graph_wire import GraphError, json_object, require, unsupported
from channels.simulators.http import Request, Response

REGISTER_ATTEMPTS = 10  # per number in a 72-hour moving window
CODE_USED_SUBCODE = 36009
CODE_INVALID_SUBCODE = 36007


@dataclass
class SimulatedNumber:
    display_phone_number: str
    verified_name: str
    pin: str | None = None  # two-step verification PIN already set on the number
    quality_rating: str = "GREEN"
    messaging_limit: str = "TIER_250"
    status: str = "PENDING"  # CONNECTED once registered
    register_attempts: int = 0


@dataclass
class OnboardingStore:
    app_id: str = "1234567890"
    app_secret: str = "meta-app-secret"
    codes: dict[str, str] = field(default_factory=dict)  # unused code -> token it gives
    tokens: set[str] = field(default_factory=set)  # business tokens handed out
    numbers: dict[str, SimulatedNumber] = field(default_factory=dict)
    subscribed: dict[str, int] = field(default_factory=dict)  # waba id -> subscriptions
    calls: list[str] = field(default_factory=list)  # "exchange", "subscribe:waba"...
    _failures: dict[str, deque[GraphError]] = field(default_factory=dict)
    _lock: threading.RLock = field(default_factory=threading.RLock)

    # Scripting

    def issue_code(self, token: str | None = None) -> str:
        """A code as Embedded Signup hands the browser; exchanging it gives `token`."""
        code = "AQB" + secrets.token_urlsafe(24)
        with self._lock:
            self.codes[code] = token or "EAAB" + secrets.token_urlsafe(32)
        return code

    def add_number(self, phone_number_id: str, **details: Any) -> SimulatedNumber:
        number = SimulatedNumber(
            display_phone_number=details.pop("display_phone_number", "15550009999"),
            verified_name=details.pop("verified_name", "Sunrise Bakery"),
            **details,
        )
        with self._lock:
            self.numbers[phone_number_id] = number
        return number

    def fail_next(self, call: str, error: GraphError, count: int = 1) -> None:
        with self._lock:
            self._failures.setdefault(call, deque()).extend([error] * count)

    def reset(self) -> None:
        with self._lock:
            for records in (self.codes, self.numbers, self.subscribed, self._failures):
                records.clear()
            self.tokens.clear()
            self.calls.clear()

    # Wire

    def handles_number(self, node: str) -> bool:
        with self._lock:
            return node in self.numbers

    def exchange(self, request: Request) -> Response:
        query = {key: (values or [""])[0] for key, values in request.query.items()}
        with self._lock:
            self._record("exchange")
            if (
                query.get("client_id") != self.app_id
                or query.get("client_secret") != self.app_secret
            ):
                raise GraphError(1, message="Error validating client secret.")
            token = self.codes.pop(query.get("code", ""), None)
            if token is None:
                raise GraphError(
                    100, subcode=CODE_USED_SUBCODE, message="This authorization code has been "
                    "used.",
                )  # fmt: skip
            self.tokens.add(token)
        return Response.json({"access_token": token, "token_type": "bearer"})

    def subscribe(self, token: str | None, waba_id: str) -> Response:
        with self._lock:
            self._check(token)
            self._record("subscribe", waba_id)
            self.subscribed[waba_id] = self.subscribed.get(waba_id, 0) + 1
        return Response.json({"success": True})

    def register(self, token: str | None, phone_number_id: str, request: Request) -> Response:
        body = json_object(request)
        require(body.get("messaging_product") == "whatsapp", "messaging_product must be whatsapp")
        pin = body.get("pin")
        require(isinstance(pin, str) and len(pin) == 6 and pin.isdigit(), "pin must be 6 digits")
        with self._lock:
            self._check(token)
            number = self._number(phone_number_id, "POST")
            self._record("register", phone_number_id)
            number.register_attempts += 1
            if number.register_attempts > REGISTER_ATTEMPTS:
                raise GraphError(133016)
            if number.pin is not None and number.pin != pin:
                raise GraphError(133005)
            number.pin, number.status = pin, "CONNECTED"
        return Response.json({"success": True})

    def number_fields(self, token: str | None, phone_number_id: str, request: Request) -> Response:
        fields = (request.query.get("fields") or ["display_phone_number,verified_name"])[0]
        with self._lock:
            self._check(token)
            number = self._number(phone_number_id, "GET")
            self._record("number", phone_number_id)
            known = {
                "display_phone_number": number.display_phone_number,
                "verified_name": number.verified_name,
                "quality_rating": number.quality_rating,
                "whatsapp_business_manager_messaging_limit": number.messaging_limit,
                "code_verification_status": "VERIFIED",
                "status": number.status,
                "throughput": {"level": "STANDARD"},
            }
        wanted = {name.strip() for name in fields.split(",")}
        return Response.json({
            **{name: value for name, value in known.items() if name in wanted},
            "id": phone_number_id,
        })  # fmt: skip

    def _check(self, token: str | None) -> None:
        if token is None or token not in self.tokens:
            raise GraphError(190, message="Invalid OAuth access token - Cannot parse access token")

    def _number(self, phone_number_id: str, method: str) -> SimulatedNumber:
        number = self.numbers.get(phone_number_id)
        if number is None:
            raise unsupported(method, phone_number_id)
        return number

    def _record(self, call: str, node: str | None = None) -> None:
        """Note the call, then raise the failure scripted for it, if any (under the lock)."""
        self.calls.append(f"{call}:{node}" if node else call)
        failures = self._failures.get(call)
        if failures:
            raise failures.popleft()
