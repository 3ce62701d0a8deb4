"""A cart the customer sends from the catalog (WhatsApp `order` message) reaches the model
as line items: quantity, variant (the retailer id send_products uses), price, and the note."""

from __future__ import annotations

import copy

from channels.webhook import parse_notification
from tests.helpers import load_payload


def _order(**changes: object) -> str | None:
    payload = copy.deepcopy(load_payload("message_order"))
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    message["order"].update(changes)
    [parsed] = parse_notification(payload).messages
    assert parsed.type == "order"
    return parsed.text


def test_an_order_becomes_line_items_with_its_note():
    assert _order() == (
        "Order from the catalog: 2 x variant 100101 at 89 EUR; 1 x variant 100501 at 59.5 EUR."
        " Note: Can you deliver on Friday?"
    )


def test_an_order_without_a_note_or_items_still_reads():
    assert _order(text=None) == (
        "Order from the catalog: 2 x variant 100101 at 89 EUR; 1 x variant 100501 at 59.5 EUR"
    )
    assert _order(product_items=[]) == "Can you deliver on Friday?"
    assert _order(product_items=["junk", {"quantity": True}], text=None) == (
        "Order from the catalog: 1 x variant ?"
    )
