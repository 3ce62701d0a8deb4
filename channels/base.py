"""The channel interface: what Switchboard says to a messaging provider, in our own words.

Services speak of a recipient and an outbound message (text, a media file, a template, an
interactive message); a `Channel` turns them into the provider's wire format and back, and
raises the typed errors of `channels.errors`. Inbound webhooks are verified and parsed into
our own events by each provider's webhook module (`channels.webhook` for WhatsApp Cloud).
Nothing outside `channels/` builds or reads a provider payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol


@dataclass(frozen=True)
class Recipient:
    """Who a message goes to: a phone number (`wa_id`) or a business-scoped user id."""

    wa_id: str | None = None
    user_id: str | None = None

    def __post_init__(self) -> None:
        if not self.wa_id and not self.user_id:
            raise ValueError("a recipient needs a wa_id or a user_id")


@dataclass(frozen=True)
class OutboundText:
    text: str
    reply_to: str | None = None  # the provider's id of the message this answers
    preview_url: bool = False  # show a preview of the first link


@dataclass(frozen=True)
class OutboundMedia:
    """A file, by the provider's media id (uploaded before) or by a link it fetches."""

    kind: str  # image, video, audio, document, sticker
    filename: str
    media_id: str | None = None
    link: str | None = None
    caption: str | None = None


@dataclass(frozen=True)
class OutboundTemplate:
    """A pre-approved template: the only thing that reaches a customer outside the window."""

    name: str
    language: str
    parameters: tuple[str, ...] = ()  # body {{1}}, {{2}}...
    header: tuple[str, ...] = ()  # a text header's {{1}}
    quick_replies: tuple[str, ...] = ()  # the payload of each QUICK_REPLY button, in order


@dataclass(frozen=True)
class ReplyButton:
    id: str
    title: str


@dataclass(frozen=True)
class ListRow:
    id: str
    title: str
    description: str | None = None


@dataclass(frozen=True)
class ListSection:
    title: str | None
    rows: tuple[ListRow, ...]


@dataclass(frozen=True)
class OutboundInteractive:
    """Reply buttons, a list (`rows`: one untitled section, or titled `sections`), a
    call-to-action URL button, or a location request, with a body text."""

    body: str
    buttons: tuple[ReplyButton, ...] = ()
    list_button: str | None = None  # the label that opens the list
    rows: tuple[ListRow, ...] = ()
    sections: tuple[ListSection, ...] = ()
    url: str | None = None
    url_label: str | None = None
    location_request: bool = False  # ask the customer to share their location
    header: str | None = None
    footer: str | None = None


@dataclass(frozen=True)
class OutboundProducts:
    """Products of the number's commerce catalog (by retailer id): a product card for one,
    a product list (a header and a body required) for several."""

    catalog_id: str
    retailer_ids: tuple[str, ...]
    body: str = ""
    header: str | None = None
    section_title: str | None = None


@dataclass(frozen=True)
class Card:
    """A product card: a title, a photo and a link (a button to it when labelled)."""

    title: str
    subtitle: str | None = None
    image_url: str | None = None
    url: str | None = None
    button_title: str | None = None


@dataclass(frozen=True)
class OutboundCards:
    """Cards side by side (Instagram's generic template), for channels with `cards`."""

    cards: tuple[Card, ...]


OutboundMessage = (
    OutboundText
    | OutboundMedia
    | OutboundTemplate
    | OutboundInteractive
    | OutboundProducts
    | OutboundCards
)


@dataclass(frozen=True)
class Capabilities:
    """What a channel can carry, so callers choose a fallback instead of failing."""

    interactive: bool
    templates: bool
    typing_indicator: bool
    max_text_chars: int
    media_kinds: frozenset[str]
    # free-form messages reach a customer only this long after their last message
    service_window: timedelta | None
    cards: bool = False  # OutboundCards (product cards without a commerce catalog)

    def within_window(self, last_inbound_at: datetime | None, now: datetime) -> bool:
        if self.service_window is None:
            return True
        return last_inbound_at is not None and now - last_inbound_at < self.service_window


class Channel(Protocol):
    """One business account on one provider (a WhatsApp number, say)."""

    capabilities: Capabilities

    def send_message(
        self, recipient: Recipient, message: OutboundMessage, *, callback_data: str | None = None
    ) -> str:
        """Send and return the provider's message id; raises channels.errors classes."""
        ...

    def refusal(self, message: OutboundMessage) -> str | None:
        """Why the provider would refuse this message's shape (too many buttons, a title
        too long), None when it fits. Senders check interactive messages with it, and send
        channels without `capabilities.interactive` a plain-text version instead."""
        ...

    def mark_read(self, message_id: str, *, typing: bool = True) -> None:
        """Mark an inbound message read, showing a typing indicator where supported."""
        ...
