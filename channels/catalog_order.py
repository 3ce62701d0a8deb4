"""A WhatsApp `order` message (a cart sent from the number's Meta catalog), read from its
stored `raw`: each item's retailer id (our catalog names products by their Shopify variant
id, see services.commerce.showcase) and quantity."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation


@dataclass(frozen=True)
class OrderItem:
    retailer_id: str
    quantity: int
    item_price: Decimal | None
    currency: str | None


def order_items(raw: dict | None) -> list[OrderItem]:
    """The items of an `order` message; malformed items are left out (none: not an order)."""
    if not isinstance(raw, dict) or raw.get("type") != "order":
        return []
    order = raw.get("order")
    items = order.get("product_items") if isinstance(order, dict) else None
    found = []
    for item in items if isinstance(items, list) else []:
        parsed = _item(item) if isinstance(item, dict) else None
        if parsed is not None:
            found.append(parsed)
    return found


def _item(item: dict) -> OrderItem | None:
    retailer_id = item.get("product_retailer_id")
    quantity = item.get("quantity", 1)
    if not isinstance(retailer_id, str | int) or isinstance(retailer_id, bool):
        return None
    try:
        count = int(quantity)
    except (TypeError, ValueError):
        return None
    currency = item.get("currency")
    return OrderItem(
        retailer_id=str(retailer_id).strip(), quantity=count, item_price=_price(item),
        currency=currency if isinstance(currency, str) else None,
    )  # fmt: skip


def _price(item: dict) -> Decimal | None:
    value = item.get("item_price")
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None
