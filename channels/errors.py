"""WhatsApp Cloud API errors, typed by what the caller should do about them.

Meta recommends branching on `code` (and `error_data.details`), never on the message text,
so the mapping below is by code first and falls back on the HTTP status.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar


class WhatsAppError(Exception):
    retryable: ClassVar[bool] = False

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        title: str | None = None,
        details: str | None = None,
        http_status: int | None = None,
        fbtrace_id: str | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.subcode = subcode
        self.title = title or message
        self.details = details
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.retry_after = retry_after

    def redact(self, secret: str) -> None:
        """Take a credential out of every text of this error (and its arguments): an answer
        or a transport error may quote the request, and errors end up in logs and rows."""
        if not secret:
            return
        hide = _hider(secret)
        self.message, self.title = hide(self.message), hide(self.title)
        self.details = hide(self.details) if self.details else self.details
        self.args = tuple(hide(a) if isinstance(a, str) else a for a in self.args)

    def __str__(self) -> str:
        prefix = f"WhatsApp error {self.code}: " if self.code is not None else ""
        text = prefix + self.message
        if self.details and self.details not in self.message:
            text += f" ({self.details})"
        extras = {
            "subcode": self.subcode,
            "http_status": self.http_status,
            "fbtrace_id": self.fbtrace_id,
        }
        shown = ", ".join(f"{k}={v}" for k, v in extras.items() if v is not None)
        return f"{text} [{shown}]" if shown else text


def _hider(secret: str) -> Callable[[str], str]:
    return lambda text: text.replace(secret, "[redacted]")


class RateLimited(WhatsAppError):
    retryable = True


class PairRateLimited(RateLimited):
    """Too many messages to one recipient: pace that recipient, not the whole number.
    WhatsApp allows about one message every 6 seconds to the same person once a burst is
    spent, so the retry waits that long (only this send waits; other recipients go on)."""

    PAIR_INTERVAL = 6.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if self.retry_after is None:
            self.retry_after = self.PAIR_INTERVAL


class OutsideServiceWindow(WhatsAppError):
    """More than 24h since the customer's last message: only a template can reach them."""


class Undeliverable(WhatsAppError):
    pass


class AuthError(WhatsAppError):
    pass


class TransientError(WhatsAppError):
    retryable = True


class InvalidRequest(WhatsAppError):
    pass


class DeliveryOutcomeUnknown(WhatsAppError):
    """The request may have reached Meta; retrying could send the message twice.

    The caller reconciles through the status webhooks instead of resending blindly.
    """


_BY_CODE: dict[int, type[WhatsAppError]] = {
    4: RateLimited,
    613: RateLimited,
    80007: RateLimited,
    130429: RateLimited,
    131056: PairRateLimited,
    131047: OutsideServiceWindow,
    131026: Undeliverable,
    190: AuthError,
    1: TransientError,
    2: TransientError,
    131000: TransientError,
    131016: TransientError,
    133004: TransientError,
    100: InvalidRequest,
    131009: InvalidRequest,
    # Twilio's codes (none collides with Meta's): 63016 is its "outside the 24 h window"
    63016: OutsideServiceWindow,
    20003: AuthError,
    20429: RateLimited,
    63018: RateLimited,
    21211: InvalidRequest,
    63003: Undeliverable,
}


def codes_of(error: type[WhatsAppError]) -> tuple[int, ...]:
    """WhatsApp's error codes that mean `error`, for matching codes stored on messages."""
    return tuple(code for code, cls in _BY_CODE.items() if cls is error)


def _class_for(code: int | None, http_status: int | None) -> type[WhatsAppError]:
    if code is not None and code in _BY_CODE:
        return _BY_CODE[code]
    if http_status is None:
        return WhatsAppError
    if http_status == 429:
        return RateLimited
    if http_status == 401:
        return AuthError
    if http_status >= 500:
        return TransientError
    if 400 <= http_status < 500:
        return InvalidRequest
    return WhatsAppError


def _as_int(value: Any) -> int | None:
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a Retry-After header (delta-seconds or HTTP-date)."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _decode(body: bytes | dict | None) -> tuple[dict | None, str | None]:
    """The `error` object if the body has one, else a short snippet of the raw body."""
    if isinstance(body, dict):
        payload: Any = body
    elif not body:
        return None, None
    else:
        try:
            payload = json.loads(body)
        except ValueError:
            return None, body[:200].decode("utf-8", "replace").strip() or None
    error = payload.get("error") if isinstance(payload, dict) else None
    return (error, None) if isinstance(error, dict) else (None, str(payload)[:200])


def error_from_response(
    http_status: int,
    body: bytes | dict | None,
    headers: Mapping[str, str] | None = None,
) -> WhatsAppError:
    error, snippet = _decode(body)
    retry_after = parse_retry_after(_header(headers, "retry-after"))
    if error is None:
        cls = _class_for(None, http_status)
        message = f"HTTP {http_status}" + (f": {snippet}" if snippet else "")
        return cls(message, http_status=http_status, retry_after=retry_after)
    code = _as_int(error.get("code"))
    error_data = error.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    return _class_for(code, http_status)(
        str(error.get("message") or f"HTTP {http_status}"),
        code=code,
        subcode=_as_int(error.get("error_subcode")),
        title=error.get("error_user_title"),
        details=details,
        http_status=http_status,
        fbtrace_id=error.get("fbtrace_id"),
        retry_after=retry_after,
    )


def error_from_status_errors(errors: list[dict]) -> WhatsAppError:
    """The error of a `failed` status webhook (`statuses[].errors`); the first one decides."""
    if not errors:
        return WhatsAppError("message failed without an error description")
    first = errors[0]
    code = _as_int(first.get("code"))
    error_data = first.get("error_data")
    details = error_data.get("details") if isinstance(error_data, dict) else None
    title = first.get("title")
    message = str(first.get("message") or title or "message failed")
    return _class_for(code, None)(message, code=code, title=title, details=details)


def _header(headers: Mapping[str, str] | None, name: str) -> str | None:
    if not headers:
        return None
    for key, value in headers.items():
        if key.lower() == name:
            return value
    return None


class MediaTooLarge(WhatsAppError):
    """The media is bigger than we accept; downloading it again will not make it smaller."""

    def __init__(self, message: str, *, size: int | None = None, limit: int | None = None) -> None:
        super().__init__(message)
        self.size = size
        self.limit = limit


class MediaUrlExpired(WhatsAppError):
    """A media download URL answered 401/403/404: it lives ~5 minutes, so ask for a new one.

    Not retryable as such (the same URL stays dead); the caller fetches fresh media info.
    """


class MediaHostRefused(WhatsAppError):
    """A media URL that is not https on one of Meta's media hosts (WHATSAPP_MEDIA_HOSTS):
    never requested, so the access token never leaves for it. Final: the same lookup
    answers the same URL."""


class MediaRejected(WhatsAppError):
    """131053: WhatsApp could not use the media of a send (e.g. an uploaded id it no longer
    has): upload the file again rather than resending the same id."""


_BY_CODE[131053] = MediaRejected


class TwoStepPinMismatch(InvalidRequest):
    """133005: the number has a two-step verification PIN and we sent another one. Only the
    merchant can fix it: reset or disable the PIN in WhatsApp Manager, or tell us the PIN."""


class RegistrationLimited(WhatsAppError):
    """133016: too many register/deregister attempts for the number (Meta allows 10 in a
    72-hour moving window): retrying now only extends the wait."""


_BY_CODE[133005] = TwoStepPinMismatch
_BY_CODE[133016] = RegistrationLimited
