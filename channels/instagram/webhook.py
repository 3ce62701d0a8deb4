"""Instagram messaging webhooks (`object: "instagram"`), parsed into the same events the
WhatsApp webhook produces, so ingest, buffer and turn are shared.

- `message`: text, attachments (image, video, audio, file, story mentions, shares),
  story replies (`reply_to.story`), replies to a message (`reply_to.mid`), quick replies.
  -> `InboundMessage` (sender: the Instagram-scoped id, IGSID, as the `user_id`).
- `message.is_echo`: what the business sent, from the Instagram app or through us ->
  a coexistence echo (`ChatMessage`): a person spoke, the AI steps aside. Echoes of our own
  sends are recognised downstream by their mid.
- `message.is_deleted`: the customer unsent a message -> `Unsend`.
- `reaction` (react / unreact) -> an `InboundMessage` of type `reaction`, which never
  starts a turn by itself; its id is derived, Instagram gives reactions none.
- `read` -> a `read` `StatusUpdate` of the message it names.
Pure functions, no I/O; read as defensively as `channels.webhook`: a bad envelope refuses
the body, an odd event becomes an `invalid_message` change and never costs its siblings.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from channels.coexistence import ChatMessage
from channels.webhook import (
    InboundMessage,
    InvalidNotification,
    MediaRef,
    Notification,
    OtherChange,
    Sender,
    StatusUpdate,
    _dict,
    _list,
    _scalar_text,
    _str,
    _without_nul,
)

INSTAGRAM_OBJECT = "instagram"
# Instagram attachment types -> our message types (the media pipeline fetches these)
_MEDIA_TYPES = {"image": "image", "video": "video", "audio": "audio", "file": "document"}
_MIME = {"image": "image/jpeg", "video": "video/mp4", "audio": "audio/mp4"}


@dataclass(frozen=True)
class Unsend:
    """The customer deleted a message they had sent."""

    account_id: str
    mid: str


@dataclass(frozen=True)
class InstagramNotification:
    notification: Notification  # messages, reads and invalid events
    echoes: tuple[ChatMessage, ...]
    unsends: tuple[Unsend, ...]


class _Skip(Exception):
    pass


def parse_instagram(payload: object) -> InstagramNotification:
    payload = _without_nul(payload)
    messages: list[InboundMessage] = []
    reads: list[StatusUpdate] = []
    others: list[OtherChange] = []
    echoes: list[ChatMessage] = []
    unsends: list[Unsend] = []
    for account_id, event in _events(payload):
        try:
            _read_event(account_id, event, messages, reads, echoes, unsends)
        except _Skip as skip:
            value = {"reason": str(skip), "raw": event, "phone_number_id": account_id}
            others.append(OtherChange(field="invalid_message", value=value))
    notification = Notification(tuple(messages), tuple(reads), tuple(others))
    return InstagramNotification(notification, tuple(echoes), tuple(unsends))


def _events(payload: object) -> list[tuple[str, dict]]:
    """(Instagram account id, messaging event) for every event of every entry."""
    if not isinstance(payload, dict):
        raise InvalidNotification(f"body must be a JSON object, not {type(payload).__name__}")
    if payload.get("object") != INSTAGRAM_OBJECT:
        raise InvalidNotification(
            f"object must be {INSTAGRAM_OBJECT!r}, got {payload.get('object')!r}"
        )
    entries = payload.get("entry")
    if not isinstance(entries, list):
        raise InvalidNotification("entry must be a list")
    found: list[tuple[str, dict]] = []
    for index, entry in enumerate(entries):
        account_id = _scalar_text(_dict(entry).get("id"))
        events = _dict(entry).get("messaging")
        if account_id is None or not isinstance(events, list):
            raise InvalidNotification(f"entry[{index}] must be an object with id and messaging")
        found += [(account_id, _dict(event)) for event in events]
    return found


def _read_event(
    account_id: str,
    event: dict,
    messages: list[InboundMessage],
    reads: list[StatusUpdate],
    echoes: list[ChatMessage],
    unsends: list[Unsend],
) -> None:
    sender = _scalar_text(_dict(event.get("sender")).get("id"))
    recipient = _scalar_text(_dict(event.get("recipient")).get("id"))
    timestamp = _millis(event.get("timestamp"))
    if sender is None or recipient is None or timestamp is None:
        raise _Skip("event needs sender.id, recipient.id and a timestamp")
    message = _dict(event.get("message"))
    if "read" in event:
        reads.append(_read(account_id, sender, timestamp, event))
    elif "reaction" in event:
        messages.append(_reaction(account_id, sender, timestamp, event))
    elif message.get("is_deleted") is True:
        unsends.append(Unsend(account_id, _mid(message)))
    elif message.get("is_echo") is True:
        echoes.append(_echo(account_id, recipient, timestamp, message, event))
    elif message:
        messages.append(_message(account_id, sender, timestamp, message, event))
    else:
        raise _Skip("unsupported messaging event: " + ",".join(sorted(event))[:200])


def _mid(message: dict) -> str:
    mid = _str(message.get("mid"))
    if mid is None:
        raise _Skip("message.mid is missing")
    return mid


def _customer(igsid: str) -> Sender:
    return Sender(wa_id=None, user_id=igsid, profile_name=None)


def _message(
    account_id: str, sender: str, timestamp: datetime, message: dict, raw: dict
) -> InboundMessage:
    kind, text, media = _content(message)
    quick = _str(_dict(message.get("quick_reply")).get("payload"))
    if quick is not None:  # read back like a tapped WhatsApp reply button (choice_of)
        kind = "interactive"
        reply = {"id": quick, "title": text or quick}
        raw = {**raw, "type": kind, kind: {"type": "button_reply", "button_reply": reply}}
    return InboundMessage(
        phone_number_id=account_id,
        display_phone_number=None,
        wamid=_mid(message),
        sender=_customer(sender),
        timestamp=timestamp,
        type=kind,
        text=text,
        media=media,
        context_wamid=_str(_dict(message.get("reply_to")).get("mid")),
        raw=raw,
    )


def _content(message: dict) -> tuple[str, str | None, MediaRef | None]:
    """(type, text, media) of a message: its text, else its first attachment."""
    text = _str(message.get("text"))
    story = _dict(_dict(message.get("reply_to")).get("story"))
    if story:
        link = _str(story.get("url"))
        prefix = "(replying to your story" + (f" {link}" if link else "") + ")"
        return "story_reply", f"{prefix} {text or ''}".strip(), None
    attachments = [_dict(a) for a in _list(message.get("attachments"))]
    if text is not None or not attachments:
        return "text", text, None
    first = attachments[0]
    kind, url = _str(first.get("type")) or "unknown", _str(_dict(first.get("payload")).get("url"))
    if kind == "story_mention":
        return "story_mention", "mentioned you in their story" + (f": {url}" if url else ""), None
    if kind in _MEDIA_TYPES and url is not None:
        mime_type = _MIME.get(kind)
        # the URL is the "media id"; its fragment (never sent) keeps the type for media_info
        media_id = f"{url}#{mime_type}" if mime_type and "#" not in url else url
        ref = MediaRef(id=media_id, mime_type=mime_type, sha256=None, filename=None)
        return _MEDIA_TYPES[kind], None, ref
    title = _str(_dict(first.get("payload")).get("title"))
    shown = " ".join(p for p in (title, url) if p)
    return kind[:32], f"shared a {kind}" + (f": {shown}" if shown else ""), None


def _reaction(account_id: str, sender: str, timestamp: datetime, raw: dict) -> InboundMessage:
    reaction = _dict(raw.get("reaction"))
    mid = _str(reaction.get("mid"))
    if mid is None:
        raise _Skip("reaction.mid is missing")
    action = _str(reaction.get("action")) or "react"
    emoji = _str(reaction.get("emoji")) or _str(reaction.get("reaction"))
    text = (
        f"reacted {emoji} to a message"
        if action == "react" and emoji
        else ("removed a reaction from a message")
    )
    return InboundMessage(
        phone_number_id=account_id,
        display_phone_number=None,
        # unique per (message, person, moment): a redelivery repeats all three
        wamid=f"igreaction.{mid}.{sender}.{int(timestamp.timestamp() * 1000)}.{action}"[:255],
        sender=_customer(sender),
        timestamp=timestamp,
        type="reaction",
        text=text,
        media=None,
        context_wamid=mid,
        raw=raw,
    )


def _read(account_id: str, sender: str, timestamp: datetime, raw: dict) -> StatusUpdate:
    mid = _str(_dict(raw.get("read")).get("mid"))
    if mid is None:
        raise _Skip("read.mid is missing")
    return StatusUpdate(
        phone_number_id=account_id, wamid=mid, status="read", timestamp=timestamp,
        recipient_wa_id=None, recipient_user_id=sender, callback_data=None, errors=(), raw=raw,
    )  # fmt: skip


def _echo(
    account_id: str, customer: str, timestamp: datetime, message: dict, raw: dict
) -> ChatMessage:
    kind, text, media = _content(message)
    return ChatMessage(
        phone_number_id=account_id, wamid=_mid(message), customer=_customer(customer),
        from_business=True, timestamp=timestamp, type=kind, text=text, media=media, raw=raw,
    )  # fmt: skip


def _millis(value: object) -> datetime | None:
    """Instagram timestamps are Unix milliseconds."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return datetime.fromtimestamp(value / 1000, UTC)
    except (OverflowError, OSError, ValueError):
        return None
