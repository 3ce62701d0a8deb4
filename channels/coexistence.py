"""WhatsApp Business app coexistence webhooks: what the business's phone says and knows.

A number onboarded with coexistence keeps the WhatsApp Business app. Meta then sends, on
the same webhook, three fields besides `messages`:
- `smb_message_echoes`: a message the business sent from the app (or a linked device);
- `history`: past chats, shared once at onboarding, in threads per customer;
- `smb_app_state_sync`: the app's address book (contacts added, edited, removed).
Pure functions over a parsed `OtherChange`, read as defensively as `channels.webhook`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from channels.webhook import (
    MediaRef,
    OtherChange,
    Sender,
    _dict,
    _list,
    _media,
    _split_id,
    _str,
    _text,
    _timestamp,
)

ECHOES_FIELD = "smb_message_echoes"
HISTORY_FIELD = "history"
STATE_SYNC_FIELD = "smb_app_state_sync"
FIELDS = frozenset({ECHOES_FIELD, HISTORY_FIELD, STATE_SYNC_FIELD})


@dataclass(frozen=True)
class ChatMessage:
    """A message of a business-app chat: an echo, or one message of a history thread."""

    phone_number_id: str
    wamid: str
    customer: Sender  # the WhatsApp user the chat is with
    from_business: bool
    timestamp: datetime
    type: str
    text: str | None
    media: MediaRef | None
    raw: dict


@dataclass(frozen=True)
class AppContact:
    phone_number_id: str
    wa_id: str
    name: str | None
    removed: bool


@dataclass(frozen=True)
class Coexistence:
    echoes: tuple[ChatMessage, ...] = ()
    history: tuple[ChatMessage, ...] = ()
    contacts: tuple[AppContact, ...] = ()
    # (reason, raw) of entries that cannot be used: recorded, never raised
    invalid: tuple[tuple[str, object], ...] = ()


def coexistence_of(change: OtherChange) -> Coexistence | None:
    """What a coexistence change carries; None for any other field."""
    if change.field not in FIELDS:
        return None
    value = change.value
    phone_number_id = _str(_dict(value.get("metadata")).get("phone_number_id"))
    if phone_number_id is None:
        return Coexistence(invalid=(("metadata.phone_number_id is missing", value),))
    if change.field == ECHOES_FIELD:
        return _echoes(value, phone_number_id)
    if change.field == HISTORY_FIELD:
        return _history(value, phone_number_id)
    return _contacts(value, phone_number_id)


def _echoes(value: dict, phone_number_id: str) -> Coexistence:
    echoes, invalid = [], []
    for raw in _list(value.get("message_echoes")):
        raw = _dict(raw)
        wa_id, user_id = _split_id(_str(raw.get("to")))
        customer = Sender(
            wa_id=wa_id, user_id=_str(raw.get("to_user_id")) or user_id, profile_name=None
        )
        message = _chat_message(raw, phone_number_id, customer, from_business=True)
        if isinstance(message, str):
            invalid.append((message, raw))
        else:
            echoes.append(message)
    return Coexistence(echoes=tuple(echoes), invalid=tuple(invalid))


def _history(value: dict, phone_number_id: str) -> Coexistence:
    """Every message of every thread; a business that declined to share sends `errors`."""
    messages, invalid = [], []
    for chunk in _list(value.get("history")):
        for thread in _list(_dict(chunk).get("threads")):
            thread = _dict(thread)
            wa_id, user_id = _split_id(_str(thread.get("id")))
            customer = Sender(wa_id=wa_id, user_id=user_id, profile_name=None)
            for raw in _list(thread.get("messages")):
                raw = _dict(raw)
                # the business's own messages name the customer in `to` ("SMB message echo")
                sender = _str(raw.get("from"))
                from_business = "to" in raw or (sender is not None and sender != thread.get("id"))
                message = _chat_message(raw, phone_number_id, customer, from_business)
                if isinstance(message, str):
                    invalid.append((message, raw))
                else:
                    messages.append(message)
    return Coexistence(history=tuple(messages), invalid=tuple(invalid))


def _contacts(value: dict, phone_number_id: str) -> Coexistence:
    contacts = []
    for item in _list(value.get("state_sync")):
        item = _dict(item)
        contact = _dict(item.get("contact"))
        wa_id, _ = _split_id(_str(contact.get("phone_number")))
        if item.get("type") != "contact" or wa_id is None:
            continue
        name = _str(contact.get("full_name")) or _str(contact.get("first_name"))
        removed = item.get("action") == "remove"
        contacts.append(AppContact(phone_number_id, wa_id, name, removed))
    return Coexistence(contacts=tuple(contacts))


def _chat_message(
    raw: dict, phone_number_id: str, customer: Sender, from_business: bool
) -> ChatMessage | str:
    """The message, or why it cannot be used."""
    wamid, timestamp = _str(raw.get("id")), _timestamp(raw.get("timestamp"))
    if wamid is None or timestamp is None:
        return "message id or timestamp is missing"
    if customer.wa_id is None and customer.user_id is None:
        return "the chat names no WhatsApp user"
    kind = _str(raw.get("type")) or "unknown"
    return ChatMessage(
        phone_number_id=phone_number_id,
        wamid=wamid,
        customer=customer,
        from_business=from_business,
        timestamp=timestamp,
        type=kind,
        text=_text(kind, raw),
        media=_media(kind, raw),
        raw=raw,
    )
