"""The fake Shopify store's orders, in the shapes Shopify uses: GraphQL `Order` nodes (for
`orders(query:)` and `order(id:)`) and the REST bodies of the orders/* and fulfillments/*
webhooks."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from channels.simulators.shopify_catalog import JSON, gid

ORDER_ID_OFFSET = 5_500_000_000  # Shopify's order ids are large and unlike their numbers


@dataclass
class SimFulfillment:
    id: int
    status: str = "success"  # pending, open, success, cancelled, error, failure
    shipment_status: str | None = None  # in_transit, out_for_delivery, delivered, ...
    carrier: str | None = "DHL Express"
    tracking_number: str | None = "JD014600003828"
    tracking_url: str | None = "https://www.dhl.com/track?AWB=JD014600003828"


@dataclass
class SimLine:
    title: str
    quantity: int
    price: str
    variant_id: int | None = None


@dataclass
class SimOrder:
    number: int  # 1001: the name is "#1001"
    email: str | None
    phone: str | None  # as the customer typed it at checkout
    lines: list[SimLine]
    currency: str = "EUR"
    country: str = "ES"
    financial_status: str = "paid"  # pending, authorized, paid, refunded, voided
    cancelled_at: datetime | None = None
    attributes: dict[str, str] = field(default_factory=dict)  # the cart's attributes
    note: str | None = None
    fulfillments: list[SimFulfillment] = field(default_factory=list)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def id(self) -> int:
        return ORDER_ID_OFFSET + self.number

    @property
    def name(self) -> str:
        return f"#{self.number}"

    @property
    def total(self) -> str:
        return f"{sum(float(line.price) * line.quantity for line in self.lines):.2f}"

    @property
    def fulfillment_status(self) -> str | None:
        """REST's value: None (unfulfilled), "partial" or "fulfilled"."""
        done = [f for f in self.fulfillments if f.status == "success"]
        return "fulfilled" if done else None

    def status_url(self, shop_url: str) -> str:
        return f"{shop_url}/orders/{self.id:x}/authenticate?key=sim"


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _shipment_display(fulfillment: SimFulfillment) -> str:
    if fulfillment.shipment_status:
        return fulfillment.shipment_status.upper()
    return {"success": "FULFILLED", "cancelled": "CANCELED"}.get(fulfillment.status, "FULFILLED")


def order_node(order: SimOrder, shop_url: str) -> JSON:
    """A GraphQL `Order`, with the fields channels/shopify/queries.py asks for."""
    display_fulfillment = "FULFILLED" if order.fulfillment_status else "UNFULFILLED"
    return {
        "id": gid("Order", order.id), "legacyResourceId": str(order.id), "name": order.name,
        "email": order.email, "phone": order.phone, "createdAt": _iso(order.created_at),
        "cancelledAt": _iso(order.cancelled_at) if order.cancelled_at else None,
        "note": order.note, "statusPageUrl": order.status_url(shop_url),
        "displayFinancialStatus": order.financial_status.upper(),
        "displayFulfillmentStatus": display_fulfillment,
        "currentTotalPriceSet": {"shopMoney": {"amount": order.total,
                                               "currencyCode": order.currency}},
        "customAttributes": [{"key": k, "value": v} for k, v in order.attributes.items()],
        "shippingAddress": {"phone": order.phone, "countryCodeV2": order.country},
        "customer": {"phone": order.phone},
        "lineItems": {"nodes": [
            {"title": line.title, "quantity": line.quantity,
             "variant": {"legacyResourceId": str(line.variant_id)} if line.variant_id else None}
            for line in order.lines
        ]},
        "fulfillments": [
            {"legacyResourceId": str(f.id), "status": f.status.upper(),
             "displayStatus": _shipment_display(f),
             "trackingInfo": [{"company": f.carrier, "number": f.tracking_number,
                               "url": f.tracking_url}] if f.tracking_number else []}
            for f in order.fulfillments
        ],
    }  # fmt: skip


def rest_order(order: SimOrder, shop_url: str) -> JSON:
    """The orders/create, orders/paid and orders/cancelled webhook body."""
    address = {"first_name": "Ana", "last_name": "Silva", "address1": "Calle Mayor 1",
               "city": "Madrid", "zip": "28013", "country_code": order.country,
               "phone": order.phone}  # fmt: skip
    return {
        "id": order.id, "admin_graphql_api_id": gid("Order", order.id), "name": order.name,
        "order_number": order.number, "number": order.number - 1000,
        "email": order.email, "contact_email": order.email, "phone": order.phone,
        "created_at": _iso(order.created_at), "updated_at": _iso(datetime.now(UTC)),
        "cancelled_at": _iso(order.cancelled_at) if order.cancelled_at else None,
        "cancel_reason": "customer" if order.cancelled_at else None,
        "financial_status": order.financial_status,
        "fulfillment_status": order.fulfillment_status,
        "currency": order.currency, "presentment_currency": order.currency,
        "total_price": order.total, "current_total_price": order.total,
        "subtotal_price": order.total, "total_tax": "0.00",
        "note": order.note,
        "note_attributes": [{"name": k, "value": v} for k, v in order.attributes.items()],
        "order_status_url": order.status_url(shop_url),
        "line_items": [
            {"id": order.id * 10 + n, "title": line.title, "name": line.title,
             "quantity": line.quantity, "price": line.price, "variant_id": line.variant_id,
             "fulfillable_quantity": line.quantity}
            for n, line in enumerate(order.lines)
        ],
        "shipping_address": address, "billing_address": address,
        "customer": {"id": 207119551, "email": order.email, "phone": order.phone,
                     "first_name": "Ana", "last_name": "Silva"},
        "fulfillments": [rest_fulfillment(order, f) for f in order.fulfillments],
    }  # fmt: skip


def rest_fulfillment(order: SimOrder, fulfillment: SimFulfillment) -> JSON:
    """The fulfillments/create and fulfillments/update webhook body."""
    tracking = [fulfillment.tracking_number] if fulfillment.tracking_number else []
    urls = [fulfillment.tracking_url] if fulfillment.tracking_url else []
    return {
        "id": fulfillment.id, "order_id": order.id, "name": f"{order.name}.1",
        "admin_graphql_api_id": gid("Fulfillment", fulfillment.id),
        "status": fulfillment.status, "shipment_status": fulfillment.shipment_status,
        "created_at": _iso(datetime.now(UTC)), "updated_at": _iso(datetime.now(UTC)),
        "service": "manual", "tracking_company": fulfillment.carrier,
        "tracking_number": fulfillment.tracking_number, "tracking_numbers": tracking,
        "tracking_url": fulfillment.tracking_url, "tracking_urls": urls,
        "destination": {"phone": order.phone, "country_code": order.country},
        "email": order.email,
        "line_items": [{"title": line.title, "quantity": line.quantity,
                        "variant_id": line.variant_id} for line in order.lines],
    }  # fmt: skip


_TERM = re.compile(r'(\w+):(?:"([^"]*)"|(\S+))')


def matches(order: SimOrder, search: str) -> bool:
    """Shopify's search syntax, the terms we use: name:#1001 (or 1001), email:x."""
    for key, quoted, bare in _TERM.findall(search):
        value = (quoted or bare).strip()
        if key == "name" and value.lstrip("#") != str(order.number):
            return False
        if key == "email" and value.lower() != (order.email or "").lower():
            return False
    return True
