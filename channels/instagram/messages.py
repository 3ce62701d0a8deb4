"""Our outbound messages in the Instagram Send API's wire format, checked against its limits.

Instagram carries text, media by URL, quick replies (at most 13, titles of 20 characters)
and generic templates (cards); it has no lists, no URL buttons outside a card, no location
requests and no message templates, so those are refused here and callers fall back to text.
A message goes out as `RESPONSE` inside the 24 h window; a person may answer for 7 days
with `MESSAGE_TAG` + `HUMAN_AGENT`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.base import (
    Capabilities,
    Card,
    OutboundCards,
    OutboundInteractive,
    OutboundMedia,
    OutboundMessage,
    OutboundProducts,
    OutboundTemplate,
    OutboundText,
    Recipient,
)

TEXT_LIMIT = 1000
MAX_QUICK_REPLIES = 13
QUICK_REPLY_TITLE_LIMIT = 20
PAYLOAD_LIMIT = 1000
MAX_CARDS = 10
CARD_TEXT_LIMIT = 80
MAX_CARD_BUTTONS = 3
HUMAN_AGENT_WINDOW = timedelta(days=7)
# Instagram's attachment types; a document has none (a file goes as a link in text)
MEDIA_KINDS = frozenset({"image", "video", "audio"})

CAPABILITIES = Capabilities(
    interactive=True,  # quick replies; `refusal` sends lists and URL buttons to text
    templates=False,
    typing_indicator=False,
    max_text_chars=TEXT_LIMIT,
    media_kinds=MEDIA_KINDS,
    service_window=timedelta(hours=24),
    cards=True,  # products go as a generic template
)


def send_body(
    recipient: Recipient, message: dict[str, Any], *, human_agent: bool = False
) -> dict[str, Any]:
    """A Send API body: `recipient.id` is the Instagram-scoped id (IGSID)."""
    body: dict[str, Any] = {"recipient": {"id": _igsid(recipient)}, "message": message}
    if human_agent:
        body.update(messaging_type="MESSAGE_TAG", tag="HUMAN_AGENT")
    else:
        body["messaging_type"] = "RESPONSE"
    return body


def _igsid(recipient: Recipient) -> str:
    igsid = recipient.user_id or recipient.wa_id
    assert igsid is not None  # Recipient refuses to exist without one
    return igsid


def message_object(message: OutboundMessage) -> dict[str, Any]:
    """The `message` part of a send; call `refusal` first."""
    if isinstance(message, OutboundText):
        return {"text": message.text}
    if isinstance(message, OutboundMedia):
        assert message.link, "Instagram sends media by URL"
        return {"attachment": {"type": message.kind, "payload": {"url": message.link}}}
    if isinstance(message, OutboundCards):
        return cards_object(list(message.cards))
    if isinstance(message, OutboundInteractive):
        replies = [
            {"content_type": "text", "title": b.title, "payload": b.id} for b in message.buttons
        ]
        return {"text": message.body, "quick_replies": replies}
    raise ValueError(f"Instagram cannot send {type(message).__name__}")


def cards_object(cards: list[Card]) -> dict[str, Any]:
    """A generic template: a carousel of up to 10 cards."""
    elements = []
    for card in cards:
        element: dict[str, Any] = {"title": card.title}
        if card.subtitle:
            element["subtitle"] = card.subtitle
        if card.image_url:
            element["image_url"] = card.image_url
        if card.url:
            element["default_action"] = {"type": "web_url", "url": card.url}
            if card.button_title:
                element["buttons"] = [
                    {"type": "web_url", "url": card.url, "title": card.button_title}
                ]
        elements.append(element)
    payload = {"template_type": "generic", "elements": elements}
    return {"attachment": {"type": "template", "payload": payload}}


def cards_refusal(cards: list[Card]) -> str | None:
    if not 1 <= len(cards) <= MAX_CARDS:
        return f"a generic template holds 1 to {MAX_CARDS} cards"
    for card in cards:
        if not card.title or len(card.title) > CARD_TEXT_LIMIT:
            return f"a card title needs 1 to {CARD_TEXT_LIMIT} characters"
        if card.subtitle and len(card.subtitle) > CARD_TEXT_LIMIT:
            return f"a card subtitle has at most {CARD_TEXT_LIMIT} characters"
        if card.button_title and len(card.button_title) > QUICK_REPLY_TITLE_LIMIT:
            return f"a card button title has at most {QUICK_REPLY_TITLE_LIMIT} characters"
    return None


def refusal(message: OutboundMessage) -> str | None:
    """Why Instagram would refuse this message's shape, None when it fits."""
    if isinstance(message, OutboundText):
        return _text_refusal(message.text)
    if isinstance(message, OutboundMedia):
        if message.kind not in MEDIA_KINDS:
            return f"Instagram has no {message.kind} attachments"
        return None if message.link else "Instagram sends media by URL only"
    if isinstance(message, OutboundTemplate):
        return "Instagram has no message templates"
    if isinstance(message, OutboundProducts):
        return "Instagram has no catalog product messages"
    if isinstance(message, OutboundCards):
        return cards_refusal(list(message.cards))
    return _interactive_refusal(message)


def _text_refusal(text: str) -> str | None:
    if not text.strip():
        return "a text message needs a text"
    if len(text) > TEXT_LIMIT:
        return f"a text message has at most {TEXT_LIMIT} characters"
    return None


def _interactive_refusal(message: OutboundInteractive) -> str | None:
    if message.rows or message.sections or message.list_button:
        return "Instagram has no list messages"
    if message.url or message.location_request:
        return "Instagram has no URL buttons or location requests"
    if not message.buttons:
        return "Instagram needs at least one quick reply"
    if len(message.buttons) > MAX_QUICK_REPLIES:
        return f"Instagram allows at most {MAX_QUICK_REPLIES} quick replies"
    for button in message.buttons:
        if not button.title or len(button.title) > QUICK_REPLY_TITLE_LIMIT:
            return f"a quick reply title needs 1 to {QUICK_REPLY_TITLE_LIMIT} characters"
        if len(button.id) > PAYLOAD_LIMIT:
            return f"a quick reply payload has at most {PAYLOAD_LIMIT} characters"
    return _text_refusal(message.body)
