"""Shopify's order shapes read into our own records: GraphQL `Order` nodes (Admin API
lookups) and REST webhook bodies (orders/create, orders/paid, orders/cancelled,
fulfillments/create, fulfillments/update). Ids are Shopify's numeric ids."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from channels.shopify.records import JSON, InvalidPayload, _edges, numeric_id, timestamp

CONVERSATION_ATTRIBUTE = "switchboard_conversation_id"  # set on the cart by the checkout


@dataclass(frozen=True)
class LineItem:
    title: str
    quantity: int
    variant_id: int | None = None


@dataclass(frozen=True)
class Fulfillment:
    shopify_id: int | None
    status: str  # success, cancelled, ... (lower case)
    shipment_status: str | None = None  # in_transit, out_for_delivery, delivered, ...
    carrier: str | None = None
    tracking_number: str | None = None
    tracking_url: str | None = None


@dataclass(frozen=True)
class OrderRecord:
    shopify_id: int
    name: str  # "#1001"
    created_at: datetime
    financial_status: str  # paid, pending, refunded, ... (lower case)
    fulfillment_status: str  # unfulfilled, partially_fulfilled, fulfilled, ...
    total: Decimal
    currency: str
    email: str | None = None
    phones: tuple[str, ...] = ()  # the order's, the shipping address's, the customer's
    country: str | None = None  # ISO code of the shipping address: reads national phones
    cancelled_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)
    note: str | None = None
    status_url: str | None = None
    items: tuple[LineItem, ...] = ()
    fulfillments: tuple[Fulfillment, ...] = ()

    @property
    def number(self) -> str:
        return self.name.lstrip("#")


def _phones(*values: Any) -> tuple[str, ...]:
    return tuple(dict.fromkeys(str(v).strip() for v in values if v and str(v).strip()))


def _status(value: Any, default: str) -> str:
    return str(value).lower() if value else default


# --- GraphQL -------------------------------------------------------------------------


def graphql_order(node: JSON) -> OrderRecord:
    try:
        money = node["currentTotalPriceSet"]["shopMoney"]
        address = node.get("shippingAddress") or {}
        customer = node.get("customer") or {}
        return OrderRecord(
            shopify_id=numeric_id(node.get("legacyResourceId") or node["id"]),
            name=node["name"],
            created_at=timestamp(node["createdAt"]),
            financial_status=_status(node.get("displayFinancialStatus"), "pending"),
            fulfillment_status=_status(node.get("displayFulfillmentStatus"), "unfulfilled"),
            total=Decimal(str(money["amount"])),
            currency=money["currencyCode"],
            email=node.get("email"),
            phones=_phones(node.get("phone"), address.get("phone"), customer.get("phone")),
            country=address.get("countryCodeV2"),
            cancelled_at=timestamp(node["cancelledAt"]) if node.get("cancelledAt") else None,
            attributes={a["key"]: str(a.get("value") or "")
                        for a in node.get("customAttributes") or []},  # fmt: skip
            note=node.get("note"),
            status_url=node.get("statusPageUrl"),
            items=tuple(
                LineItem(
                    title=item["title"], quantity=int(item["quantity"]),
                    variant_id=numeric_id(item["variant"]["legacyResourceId"])
                    if item.get("variant") else None,
                )  # fmt: skip
                for item in _edges(node.get("lineItems"))
            ),
            fulfillments=tuple(_graphql_fulfillment(f) for f in node.get("fulfillments") or []),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidPayload(f"order node without {exc}") from None


def _graphql_fulfillment(node: JSON) -> Fulfillment:
    tracking = (node.get("trackingInfo") or [{}])[0] or {}
    return Fulfillment(
        shopify_id=numeric_id(node["legacyResourceId"]) if node.get("legacyResourceId") else None,
        status=_status(node.get("status"), "success"),
        shipment_status=_status(node.get("displayStatus"), "") or None,
        carrier=tracking.get("company"),
        tracking_number=tracking.get("number"),
        tracking_url=tracking.get("url"),
    )


# --- REST webhook bodies -------------------------------------------------------------


def webhook_order(body: JSON) -> OrderRecord:
    """An orders/create, orders/paid or orders/cancelled body."""
    try:
        address = body.get("shipping_address") or body.get("billing_address") or {}
        customer = body.get("customer") or {}
        return OrderRecord(
            shopify_id=numeric_id(body["id"]),
            name=body.get("name") or f"#{body['order_number']}",
            created_at=timestamp(body["created_at"]),
            financial_status=_status(body.get("financial_status"), "pending"),
            fulfillment_status=_status(body.get("fulfillment_status"), "unfulfilled"),
            total=Decimal(str(body.get("current_total_price") or body["total_price"])),
            currency=body.get("currency") or "USD",
            email=body.get("email") or body.get("contact_email"),
            phones=_phones(body.get("phone"), address.get("phone"), customer.get("phone")),
            country=address.get("country_code"),
            cancelled_at=timestamp(body["cancelled_at"]) if body.get("cancelled_at") else None,
            attributes={str(a.get("name")): str(a.get("value") or "")
                        for a in body.get("note_attributes") or []},  # fmt: skip
            note=body.get("note"),
            status_url=body.get("order_status_url"),
            items=tuple(
                LineItem(title=item.get("title") or item.get("name") or "",
                         quantity=int(item.get("quantity") or 1),
                         variant_id=item.get("variant_id"))  # fmt: skip
                for item in body.get("line_items") or []
            ),
            fulfillments=tuple(webhook_fulfillment(f) for f in body.get("fulfillments") or []),
        )
    except (KeyError, TypeError, ValueError, ArithmeticError) as exc:
        raise InvalidPayload(f"order body without {exc}") from None


def webhook_fulfillment(body: JSON) -> Fulfillment:
    """A fulfillments/create or fulfillments/update body (or one of an order's)."""
    try:
        urls = body.get("tracking_urls") or []
        return Fulfillment(
            shopify_id=numeric_id(body["id"]),
            status=_status(body.get("status"), "success"),
            shipment_status=_status(body.get("shipment_status"), "") or None,
            carrier=body.get("tracking_company"),
            tracking_number=body.get("tracking_number"),
            tracking_url=body.get("tracking_url") or (urls[0] if urls else None),
        )
    except (KeyError, TypeError) as exc:
        raise InvalidPayload(f"fulfillment body without {exc}") from None


def fulfillment_order_id(body: JSON) -> int:
    try:
        return numeric_id(body["order_id"])
    except KeyError:
        raise InvalidPayload("fulfillment body without order_id") from None
