"""Shopify webhook requests: the HMAC check and the headers that route them."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from channels.shopify.records import JSON, InvalidPayload, timestamp

CATALOG_TOPICS = (
    "products/create", "products/update", "products/delete", "inventory_levels/update",
)  # fmt: skip
# order updates to customers (read_orders; fulfillments/* also need read_fulfillments)
ORDER_TOPICS = (
    "orders/create", "orders/paid", "orders/cancelled", "fulfillments/create",
    "fulfillments/update",
)  # fmt: skip
TOPICS = CATALOG_TOPICS + ORDER_TOPICS


@dataclass(frozen=True)
class ShopifyWebhook:
    topic: str
    shop_domain: str
    webhook_id: str
    triggered_at: datetime | None
    body: JSON


def sign(body: bytes, secret: str) -> str:
    """X-Shopify-Hmac-Sha256: base64 of the HMAC-SHA256 of the raw body."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(body: bytes, header: str | None, secret: str) -> bool:
    if header is None:
        return False
    # bytes: compare_digest refuses str with non-ASCII characters, which a forger may send
    return hmac.compare_digest(sign(body, secret).encode(), header.strip().encode())


def parse(headers: Mapping[str, str], body: bytes) -> ShopifyWebhook:
    """Read a verified request; InvalidPayload names what is missing."""
    missing = [h for h in ("x-shopify-topic", "x-shopify-shop-domain", "x-shopify-webhook-id")
               if not headers.get(h)]  # fmt: skip
    if missing:
        raise InvalidPayload(f"missing header {', '.join(missing)}")
    try:
        payload = json.loads(body)
    except ValueError:
        raise InvalidPayload("the body is not JSON") from None
    if not isinstance(payload, dict):
        raise InvalidPayload("the body is not a JSON object")
    triggered = headers.get("x-shopify-triggered-at")
    return ShopifyWebhook(
        topic=headers["x-shopify-topic"].strip().lower(),
        shop_domain=headers["x-shopify-shop-domain"].strip().lower(),
        webhook_id=headers["x-shopify-webhook-id"].strip()[:100],
        triggered_at=timestamp(triggered) if triggered else None,
        body=payload,
    )
