"""Our outbound messages in the WhatsApp Cloud API's wire format, checked against its limits.

A message that WhatsApp would refuse for its shape (four reply buttons, a 30-character
button title) is refused here with the reason, before any request: the caller can fall
back to plain text instead of learning it from error 131009 after a round trip.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from channels.base import (
    Capabilities,
    ListSection,
    OutboundCards,
    OutboundInteractive,
    OutboundMedia,
    OutboundMessage,
    OutboundProducts,
    OutboundTemplate,
    OutboundText,
    Recipient,
)

TEXT_LIMIT = 4096
INTERACTIVE_BODY_LIMIT = 1024
MAX_BUTTONS = 3
BUTTON_TITLE_LIMIT = 20
MAX_ROWS = 10
ROW_TITLE_LIMIT = 24
ROW_DESCRIPTION_LIMIT = 72
SECTION_TITLE_LIMIT = 24
HEADER_LIMIT = 60
FOOTER_LIMIT = 60
ID_LIMIT = 256

CAPABILITIES = Capabilities(
    interactive=True,
    templates=True,
    typing_indicator=True,
    max_text_chars=TEXT_LIMIT,
    media_kinds=frozenset({"image", "video", "audio", "document", "sticker"}),
    service_window=timedelta(hours=24),
)


def addressing(recipient: Recipient) -> dict[str, str]:
    """`to` for a phone, `recipient` for a business-scoped user id."""
    if recipient.wa_id:
        return {"to": recipient.wa_id}
    assert recipient.user_id is not None  # Recipient refuses to exist without one
    return {"recipient": recipient.user_id}


def message_object(message: OutboundMessage) -> dict[str, Any]:
    """The message part of a send, without addressing."""
    if isinstance(message, OutboundText):
        body: dict[str, Any] = {
            "type": "text",
            "text": {"body": message.text, "preview_url": message.preview_url},
        }
        if message.reply_to:
            body["context"] = {"message_id": message.reply_to}
        return body
    if isinstance(message, OutboundMedia):
        return {"type": message.kind, message.kind: _media(message)}
    if isinstance(message, OutboundTemplate):
        return {"type": "template", "template": _template(message)}
    if isinstance(message, OutboundProducts):
        return {"type": "interactive", "interactive": _products(message)}
    if isinstance(message, OutboundCards):
        raise ValueError("WhatsApp has no card carousels: send products as images")
    return {"type": "interactive", "interactive": _interactive(message)}


MAX_PRODUCTS = 30


def _products(message: OutboundProducts) -> dict[str, Any]:
    """A `product` card for one item, a `product_list` for several (header and body then
    required, at most 30 items)."""
    ids = message.retailer_ids
    _check(bool(message.catalog_id) and bool(ids), "products need a catalog id and items")
    _check(len(message.body) <= INTERACTIVE_BODY_LIMIT, "body: at most 1024 characters")
    body = {"body": {"text": message.body}} if message.body else {}
    if len(ids) == 1:
        action = {"catalog_id": message.catalog_id, "product_retailer_id": ids[0]}
        return {"type": "product", **body, "action": action}
    _check(len(ids) <= MAX_PRODUCTS, "a product list holds at most 30 items")
    header = message.header or ""
    _check(0 < len(header) <= HEADER_LIMIT, "product list header: 1 to 60 characters")
    _check(bool(message.body), "a product list needs a body")
    title = (message.section_title or header)[:SECTION_TITLE_LIMIT]
    section = {"title": title, "product_items": [{"product_retailer_id": i} for i in ids]}
    return {
        "type": "product_list", "header": {"type": "text", "text": header}, **body,
        "action": {"catalog_id": message.catalog_id, "sections": [section]},
    }  # fmt: skip


def _media(message: OutboundMedia) -> dict[str, Any]:
    _check(message.media_id or message.link, "a media message needs a media id or a link")
    obj: dict[str, Any] = {"id": message.media_id} if message.media_id else {"link": message.link}
    if message.caption and message.kind != "audio":  # WhatsApp takes no caption on audio
        obj["caption"] = message.caption
    if message.kind == "document":
        obj["filename"] = message.filename
    return obj


def _template(message: OutboundTemplate) -> dict[str, Any]:
    obj: dict[str, Any] = {"name": message.name, "language": {"code": message.language}}
    components = [
        {"type": kind, "parameters": [{"type": "text", "text": text} for text in texts]}
        for kind, texts in (("header", message.header), ("body", message.parameters))
        if texts
    ]
    components += [
        {
            "type": "button", "sub_type": "quick_reply", "index": str(index),
            "parameters": [{"type": "payload", "payload": payload}],
        }
        for index, payload in enumerate(message.quick_replies)
    ]  # fmt: skip
    if components:
        obj["components"] = components
    return obj


def refusal(message: OutboundMessage) -> str | None:
    """Why WhatsApp would refuse this message's shape; None when it fits."""
    try:
        message_object(message)
    except ValueError as exc:
        return str(exc)
    return None


def _interactive(message: OutboundInteractive) -> dict[str, Any]:
    kinds = [
        bool(message.buttons), bool(message.rows or message.sections), bool(message.url),
        message.location_request,
    ]  # fmt: skip
    _check(
        sum(kinds) == 1,
        "an interactive message has buttons, a list, a URL button or a location request",
    )
    _check(0 < len(message.body) <= INTERACTIVE_BODY_LIMIT, "body: 1 to 1024 characters")
    obj: dict[str, Any] = {"body": {"text": message.body}}
    if message.header:
        _check(len(message.header) <= HEADER_LIMIT, "header: at most 60 characters")
        obj["header"] = {"type": "text", "text": message.header}
    if message.footer:
        _check(len(message.footer) <= FOOTER_LIMIT, "footer: at most 60 characters")
        obj["footer"] = {"text": message.footer}
    if message.buttons:
        return {**obj, "type": "button", "action": _buttons(message)}
    if message.rows or message.sections:
        return {**obj, "type": "list", "action": _list(message)}
    if message.location_request:
        return {**obj, "type": "location_request_message", "action": {"name": "send_location"}}
    label = message.url_label or ""
    _check(0 < len(label) <= BUTTON_TITLE_LIMIT, "URL button label: 1 to 20 characters")
    _check((message.url or "").startswith("https://"), "URL button: an https URL")
    action = {"name": "cta_url", "parameters": {"display_text": label, "url": message.url}}
    return {**obj, "type": "cta_url", "action": action}


def _buttons(message: OutboundInteractive) -> dict[str, Any]:
    _check(len(message.buttons) <= MAX_BUTTONS, "at most 3 reply buttons")
    _unique([b.id for b in message.buttons], "button ids")
    _unique([b.title for b in message.buttons], "button titles")
    for button in message.buttons:
        _check(0 < len(button.title) <= BUTTON_TITLE_LIMIT, "button title: 1 to 20 characters")
        _check(0 < len(button.id) <= ID_LIMIT, "button id: 1 to 256 characters")
    buttons = [{"type": "reply", "reply": {"id": b.id, "title": b.title}} for b in message.buttons]
    return {"buttons": buttons}


def _list(message: OutboundInteractive) -> dict[str, Any]:
    label = message.list_button or ""
    _check(0 < len(label) <= BUTTON_TITLE_LIMIT, "list button label: 1 to 20 characters")
    sections = message.sections or (ListSection(None, message.rows),)
    _check(len(sections) <= MAX_ROWS, "at most 10 list sections")
    rows = [row for section in sections for row in section.rows]
    _check(len(rows) <= MAX_ROWS, "at most 10 list rows")
    _unique([r.id for r in rows], "row ids")
    return {"button": label, "sections": [_section(s, titled=len(sections) > 1) for s in sections]}


def _section(section: ListSection, *, titled: bool) -> dict[str, Any]:
    title = section.title or ""
    _check(len(title) <= SECTION_TITLE_LIMIT, "section title: at most 24 characters")
    _check(title or not titled, "section title: required when a list has several sections")
    _check(section.rows, "a list section needs at least one row")
    rows = []
    for row in section.rows:
        _check(0 < len(row.title) <= ROW_TITLE_LIMIT, "row title: 1 to 24 characters")
        _check(0 < len(row.id) <= ID_LIMIT, "row id: 1 to 256 characters")
        entry: dict[str, Any] = {"id": row.id, "title": row.title}
        if row.description:
            _check(len(row.description) <= ROW_DESCRIPTION_LIMIT, "row description: 72 max")
            entry["description"] = row.description
        rows.append(entry)
    return {"title": title, "rows": rows} if title else {"rows": rows}


def _unique(values: list[str], what: str) -> None:
    _check(len(set(values)) == len(values), f"{what} must be unique")


def _check(condition: object, reason: str) -> None:
    if not condition:
        raise ValueError(f"WhatsApp would refuse this message: {reason}")
