"""Twilio's WhatsApp webhooks (form-encoded) as our own inbound events.

Inbound messages (`MessageSid`, `From`/`To` as `whatsapp:+E164`, `WaId`, `ProfileName`,
`Body`, `NumMedia` + `MediaUrlN`/`MediaContentTypeN`, `ButtonPayload`) become the same
`InboundMessage` the WhatsApp Cloud webhook produces, so ingest, buffer and turns are shared.
Status callbacks (`MessageStatus`: queued, sent, delivered, read, failed, undelivered, with
`ErrorCode`) become `StatusUpdate`s; queued/accepted/sending carry nothing new.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime

from channels.webhook import (
    InboundMessage,
    InvalidNotification,
    MediaRef,
    Sender,
    StatusError,
    StatusUpdate,
)

CHANNEL = "twilio_whatsapp"
_STATUSES = {"sent": "sent", "delivered": "delivered", "read": "read",
             "failed": "failed", "undelivered": "failed"}  # fmt: skip
_MEDIA_KINDS = ("image", "video", "audio")


def number_of(address: str | None) -> str | None:
    """`whatsapp:+14155238886` -> `+14155238886`."""
    if not address:
        return None
    number = address.removeprefix("whatsapp:").strip()
    return number if number.startswith("+") and number[1:].isdigit() else None


def _required(form: Mapping[str, str], name: str) -> str:
    value = form.get(name)
    if not value:
        raise InvalidNotification(f"{name} is missing")
    return value


def _sender_number(form: Mapping[str, str]) -> str:
    number = number_of(form.get("To"))
    if number is None:
        raise InvalidNotification("To is not a whatsapp:+E164 address")
    return number


def parse_inbound(form: Mapping[str, str]) -> InboundMessage:
    sid = _required(form, "MessageSid")
    customer = number_of(form.get("From"))
    wa_id = form.get("WaId") or (customer.lstrip("+") if customer else None)
    if not wa_id or not wa_id.isdigit():
        raise InvalidNotification("WaId/From does not name a WhatsApp number")
    media = _media(form)
    payload = form.get("ButtonPayload")
    kind = "button" if payload else (media.mime_type or "").split("/")[0] if media else "text"
    if media is not None and kind not in _MEDIA_KINDS:
        kind = "document"
    return InboundMessage(
        phone_number_id=_sender_number(form),
        display_phone_number=_sender_number(form),
        wamid=sid,
        sender=Sender(wa_id=wa_id, user_id=None, profile_name=form.get("ProfileName") or None),
        timestamp=datetime.now(UTC),  # Twilio's webhook carries no time: it is now
        type=kind,
        text=form.get("ButtonText") or form.get("Body") or None,
        media=media,
        context_wamid=form.get("OriginalRepliedMessageSid") or None,
        raw={**dict(form), **({"button_payload": payload} if payload else {})},
        channel=CHANNEL,
    )


def _media(form: Mapping[str, str]) -> MediaRef | None:
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        raise InvalidNotification("NumMedia is not a number") from None
    if count <= 0:
        return None
    url = _required(form, "MediaUrl0")  # our messages carry one file each
    mime = form.get("MediaContentType0") or None
    voice = mime is not None and mime.startswith("audio/ogg")
    return MediaRef(id=url, mime_type=mime, sha256=None, filename=None, voice=voice)


def parse_status(form: Mapping[str, str]) -> StatusUpdate | None:
    """The callback as a status update; None for the ones that move nothing."""
    sid = _required(form, "MessageSid")
    reported = _required(form, "MessageStatus")
    status = _STATUSES.get(reported)
    if status is None:
        return None
    code = form.get("ErrorCode")
    errors = (
        (
            StatusError(
                code=int(code), title=form.get("ErrorMessage") or None, message=None, details=None
            ),
        )  # fmt: skip
        if code and code.isdigit()
        else ()
    )
    customer = number_of(form.get("To"))
    return StatusUpdate(
        phone_number_id=number_of(form.get("From")) or "",
        wamid=sid,
        status=status,
        timestamp=datetime.now(UTC),
        recipient_wa_id=customer.lstrip("+") if customer else None,
        recipient_user_id=None,
        callback_data=None,
        errors=errors,
        raw=dict(form),
        channel=CHANNEL,
    )
