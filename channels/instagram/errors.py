"""Instagram Send API errors, typed like WhatsApp's (`channels.errors`) so callers branch
the same way: Meta answers Instagram sends with the same `{"error": {...}}` object, but
with the Messenger Platform's codes."""

from __future__ import annotations

from channels.errors import (
    AuthError,
    InvalidRequest,
    OutsideServiceWindow,
    RateLimited,
    TransientError,
    Undeliverable,
    WhatsAppError,
)

OUTSIDE_WINDOW = (10, 2534022)  # "This message is sent outside of allowed window."
USER_UNAVAILABLE = 551  # "This person isn't available right now."

_BY_CODE: dict[int, type[WhatsAppError]] = {
    USER_UNAVAILABLE: Undeliverable,
    4: RateLimited,
    613: RateLimited,
    190: AuthError,
    1: TransientError,
    2: TransientError,
    100: InvalidRequest,
}


def instagram_error(err: WhatsAppError) -> WhatsAppError:
    """The same error, typed by Instagram's code (and subcode) where it means something."""
    if (err.code, err.subcode) == OUTSIDE_WINDOW:
        cls: type[WhatsAppError] = OutsideServiceWindow
    else:
        cls = _BY_CODE.get(err.code or -1, type(err))
    if cls is type(err):
        return err
    return cls(
        err.message, code=err.code, subcode=err.subcode, title=err.title, details=err.details,
        http_status=err.http_status, fbtrace_id=err.fbtrace_id, retry_after=err.retry_after,
    )  # fmt: skip
