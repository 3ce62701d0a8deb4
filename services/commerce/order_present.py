"""An order as the model reads it: status, items, totals, shipments with carrier and
tracking link."""

from __future__ import annotations

import json
from typing import Any

from channels.shopify.orders import OrderRecord
from services.commerce.money import format_price

CHANGE_HINT = (
    "Answer only from these facts. For a cancellation, a return or an address change, call "
    "request_order_change with the order_number: a colleague handles it."
)


def order_facts(order: OrderRecord, language: str = "en") -> dict[str, Any]:
    status = "cancelled" if order.cancelled_at else order.fulfillment_status
    return {
        "order_number": order.name,
        "placed_on": order.created_at.date().isoformat(),
        "status": status,
        "payment": order.financial_status,
        "fulfillment": order.fulfillment_status,
        "items": [{"title": item.title, "quantity": item.quantity} for item in order.items],
        "total": format_price(order.total, order.currency, language),
        "shipments": [
            {"status": f.shipment_status or f.status, "carrier": f.carrier,
             "tracking_number": f.tracking_number, "tracking_url": f.tracking_url}
            for f in order.fulfillments
        ],  # fmt: skip
        "order_status_page": order.status_url,
    }


def orders_text(orders: list[OrderRecord], language: str = "en") -> str:
    facts = [order_facts(order, language) for order in orders]
    return json.dumps({"orders": facts, "note": CHANGE_HINT}, ensure_ascii=False)
