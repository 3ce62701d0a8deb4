"""A fake Shopify store's Admin GraphQL API on 127.0.0.1, speaking the real wire format.

`POST /admin/api/{version}/graphql.json` with `X-Shopify-Access-Token` (401 with Shopify's
body otherwise). The operation is recognised by its root field (`shop`, `productsCount`,
`products`, `product`, `orders(query:)`, `order(id:)`, `webhookSubscriptionCreate`/`Delete`,
`bulkOperationRunQuery`, `currentBulkOperation`); answers carry
`extensions.cost.throttleStatus`, and a query the bucket cannot pay for gets Shopify's
`THROTTLED` error. A finished bulk operation's JSONL is served at `GET /bulk/{id}.jsonl`.
The Storefront API (`cartCreate`, checked against `storefront_token`) lives in
shopify_storefront; its carts are kept in `carts`.

Scripting: `catalog` (a dict id -> SimProduct that tests mutate), `add_orders(...)`,
`throttle_next(n)`, `bucket` sizes; webhooks signed as Shopify signs them: `webhook(topic, body)`,
`product_webhook(id, topic)`, `inventory_webhook(variant_id, quantity)`, `order_webhook(topic,
number)`, `fulfillment_webhook(topic, number, fulfillment)` return
(raw body, headers) for the test to post. Inspection: `requests`, `subscriptions`.
"""

from __future__ import annotations

import base64
import json
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from channels.shopify.webhook import sign
from channels.simulators.http import LoopbackServer, Request, Response
from channels.simulators.shopify_catalog import (
    JSON,
    SimProduct,
    SimVariant,
    bulk_lines,
    product_node,
    rest_inventory_level,
    rest_product,
)
from channels.simulators.shopify_orders import (
    SimFulfillment,
    SimOrder,
    matches,
    order_node,
    rest_fulfillment,
    rest_order,
)
from channels.simulators.shopify_storefront import PATH as storefront_path
from channels.simulators.shopify_storefront import storefront

_GRAPHQL = re.compile(r"^/admin/api/(?P<version>[^/]+)/graphql\.json$")
_BULK = re.compile(r"^/bulk/(?P<id>[^/]+)\.jsonl$")
INVALID_TOKEN = "[API] Invalid API key or access token (unrecognized login or wrong password)"


@dataclass
class Bucket:
    maximum: float = 1000.0
    restore_rate: float = 50.0
    available: float = 1000.0
    at: float = 0.0

    def refill(self) -> None:
        now = time.monotonic()
        if self.at:
            self.available = min(self.maximum, self.available + (now - self.at) * self.restore_rate)
        self.at = now

    def status(self) -> JSON:
        return {"maximumAvailable": self.maximum, "currentlyAvailable": round(self.available),
                "restoreRate": self.restore_rate}  # fmt: skip


class ShopifySimulator(LoopbackServer):
    def __init__(
        self,
        *,
        shop_domain: str = "acme-shoes.myshopify.com",
        access_token: str = "shpat_test_token",
        api_secret: str = "test-shopify-secret",
        version: str = "2025-10",
        storefront_token: str | None = "sf_test_token",
    ) -> None:
        super().__init__()
        self.storefront_token = storefront_token
        self.shop_domain = shop_domain
        self.access_token = access_token
        self.api_secret = api_secret
        self.version = version
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.shop: JSON = {"name": "Acme Shoes", "currencyCode": "EUR",
                               "url": "https://shoes.example", "locale": "en"}  # fmt: skip
            self.catalog: dict[int, SimProduct] = {}
            self.orders: dict[int, SimOrder] = {}  # by order number (1001)
            self.bucket = Bucket()
            self.requests: list[JSON] = []
            self.subscriptions: dict[str, str] = {}  # id -> topic
            self._callbacks: dict[str, tuple[str, str]] = {}  # id -> (topic, url)
            self._next_subscription = 7000
            self.bulk: JSON | None = None
            self._throttle_next = 0
            self._throttle_field = ""
            self.locales_denied = False  # the app was not granted read_locales
            self.throttled = 0  # THROTTLED answers given
            self.carts: list[JSON] = []  # Storefront cartCreate results (shopify_storefront)

    # --- scripting -----------------------------------------------------------------

    def add(self, *products: SimProduct) -> None:
        with self.lock:
            for product in products:
                self.catalog[product.id] = product

    def add_orders(self, *orders: SimOrder) -> None:
        with self.lock:
            for order in orders:
                self.orders[order.number] = order

    def throttle_next(self, count: int = 1, *, field: str = "") -> None:
        """The next `count` queries (naming `field`, e.g. "products(") are refused with
        THROTTLED, the bucket drained below their cost."""
        with self.lock:
            self._throttle_next += count
            self._throttle_field = field

    def variant(self, variant_id: int) -> tuple[SimProduct, SimVariant]:
        for product in self.catalog.values():
            for variant in product.variants:
                if variant.id == variant_id:
                    return product, variant
        raise KeyError(variant_id)

    # --- webhooks ------------------------------------------------------------------

    def webhook(
        self, topic: str, body: JSON, *, webhook_id: str | None = None, secret: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        raw = _json_bytes(body)
        headers = {
            "Content-Type": "application/json",
            "X-Shopify-Topic": topic,
            "X-Shopify-Shop-Domain": self.shop_domain,
            "X-Shopify-Webhook-Id": webhook_id or str(uuid.uuid4()),
            "X-Shopify-Triggered-At": datetime.now(UTC).isoformat(),
            "X-Shopify-API-Version": self.version,
            "X-Shopify-Hmac-Sha256": sign(raw, secret or self.api_secret),
        }
        return raw, headers

    def product_webhook(self, product_id: int, topic: str = "products/update") -> Any:
        with self.lock:
            if topic == "products/delete":
                return self.webhook(topic, {"id": product_id})
            return self.webhook(topic, rest_product(self.catalog[product_id]))

    def order_webhook(
        self, topic: str, number: int, *, webhook_id: str | None = None
    ) -> tuple[bytes, dict[str, str]]:
        """An orders/create, orders/paid or orders/cancelled delivery for order `number`."""
        with self.lock:
            body = rest_order(self.orders[number], self.shop["url"])
        return self.webhook(topic, body, webhook_id=webhook_id)

    def fulfillment_webhook(
        self, topic: str, number: int, fulfillment: SimFulfillment,
        *, webhook_id: str | None = None,
    ) -> tuple[bytes, dict[str, str]]:
        """Record `fulfillment` on the order (replacing one with its id) and return its
        fulfillments/create or fulfillments/update delivery."""
        with self.lock:
            order = self.orders[number]
            order.fulfillments = [f for f in order.fulfillments if f.id != fulfillment.id]
            order.fulfillments.append(fulfillment)
            body = rest_fulfillment(order, fulfillment)
        return self.webhook(topic, body, webhook_id=webhook_id)

    def inventory_webhook(self, variant_id: int, quantity: int) -> tuple[bytes, dict[str, str]]:
        """Set a variant's stock (one location) and return its inventory_levels/update."""
        with self.lock:
            _, variant = self.variant(variant_id)
            variant.quantity = quantity
            return self.webhook(
                "inventory_levels/update", rest_inventory_level(variant, datetime.now(UTC))
            )

    # --- HTTP ----------------------------------------------------------------------

    def handle(self, request: Request) -> Response:
        bulk = _BULK.match(request.path)
        if bulk and request.method == "GET":
            return self._bulk_file(bulk["id"])
        if storefront_path.match(request.path):
            return storefront(self, request)
        match = _GRAPHQL.match(request.path)
        if match is None or request.method != "POST":
            return Response.json({"errors": "Not Found"}, status=404)
        if request.headers.get("x-shopify-access-token") != self.access_token:
            return Response.json({"errors": INVALID_TOKEN}, status=401)
        body = request.json()
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            return Response.json({"errors": {"query": "Required parameter missing or invalid"}},
                                 status=400)  # fmt: skip
        with self.lock:
            self.requests.append(body)
            return self._graphql(body["query"], body.get("variables") or {})

    def _graphql(self, query: str, variables: JSON) -> Response:
        cost = _cost(query, variables)
        self.bucket.refill()
        forced = self._throttle_next > 0 and self._throttle_field in query
        if forced or cost > self.bucket.available:
            if forced:
                self._throttle_next -= 1
                self.bucket.available = min(self.bucket.available, cost / 4)
            self.throttled += 1
            return Response.json({
                "errors": [{"message": "Throttled", "extensions": {
                    "code": "THROTTLED",
                    "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
                "extensions": {"cost": {"requestedQueryCost": cost, "actualQueryCost": None,
                                        "throttleStatus": self.bucket.status()}},
            })  # fmt: skip
        self.bucket.available -= cost
        try:
            data = self._resolve(query, variables)
        except _AccessDenied as denied:
            return Response.json({"errors": [{
                "message": f"Access denied for {denied} field. Required access: `read_locales` "
                "access scope.", "extensions": {"code": "ACCESS_DENIED"}}]})  # fmt: skip
        extensions = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost,
                               "throttleStatus": self.bucket.status()}}  # fmt: skip
        return Response.json({"data": data, "extensions": extensions})

    def _resolve(self, query: str, variables: JSON) -> JSON:
        if "bulkOperationRunQuery" in query:
            return self._bulk_run()
        if "currentBulkOperation" in query:
            return {"currentBulkOperation": self._bulk_poll()}
        if "webhookSubscriptionCreate" in query:
            return self._subscribe(variables)
        if "webhookSubscriptionDelete" in query:
            self.subscriptions.pop(str(variables.get("id")), None)
            self._callbacks.pop(str(variables.get("id")), None)
            return {
                "webhookSubscriptionDelete": {
                    "deletedWebhookSubscriptionId": variables.get("id"),
                    "userErrors": [],
                }
            }
        if re.search(r"\borders\s*\(", query):
            hits = [o for _, o in sorted(self.orders.items(), reverse=True)
                    if matches(o, str(variables.get("query") or ""))]  # fmt: skip
            first = int(variables.get("first") or 50)
            return {"orders": {"nodes": [order_node(o, self.shop["url"]) for o in hits[:first]]}}
        if re.search(r"\border\s*\(", query):
            wanted = str(variables.get("id", "0")).rsplit("/", 1)[-1]
            order = next((o for o in self.orders.values() if str(o.id) == wanted), None)
            return {"order": order_node(order, self.shop["url"]) if order else None}
        if "productsCount" in query:
            return {"productsCount": {"count": len(self.catalog), "precision": "EXACT"}}
        if re.search(r"\bproducts\s*\(", query):
            return {"products": self._page(variables)}
        if re.search(r"\bproduct\s*\(", query):
            found = self.catalog.get(int(str(variables.get("id", "0")).rsplit("/", 1)[-1]))
            return {"product": product_node(found, self.shop["url"]) if found else None}
        if "shopLocales" in query:
            if self.locales_denied:
                raise _AccessDenied("shopLocales")
            return {"shopLocales": [{"locale": self.shop["locale"], "primary": True}]}
        if re.search(r"\bshop\s*\{", query):
            return self._shop()
        raise ValueError(f"the simulator does not know this query: {query[:80]}")

    def _shop(self) -> JSON:
        return {
            "shop": {"name": self.shop["name"], "currencyCode": self.shop["currencyCode"],
                     "myshopifyDomain": self.shop_domain,
                     "primaryDomain": {"url": self.shop["url"]}},
        }  # fmt: skip

    def _page(self, variables: JSON) -> JSON:
        first = int(variables.get("first") or 50)
        if not 1 <= first <= 250:
            raise ValueError("first must be between 1 and 250")
        after = variables.get("after")
        start = int(base64.b64decode(after).decode()) if after else 0
        ids = sorted(i for i in self.catalog if i > start)
        chosen = ids[:first]
        edges = [
            {"cursor": _cursor(i), "node": product_node(self.catalog[i], self.shop["url"])}
            for i in chosen
        ]
        return {
            "pageInfo": {"hasNextPage": len(ids) > first,
                         "endCursor": _cursor(chosen[-1]) if chosen else None},
            "edges": edges,
        }  # fmt: skip

    def _subscribe(self, variables: JSON) -> JSON:
        topic, url = str(variables.get("topic")), str(variables.get("url"))
        if (topic, url) in self._callbacks.values():
            return {"webhookSubscriptionCreate": {"webhookSubscription": None, "userErrors": [
                {"field": ["webhookSubscription", "callbackUrl"],
                 "message": "Address for this topic has already been taken"}]}}  # fmt: skip
        self._next_subscription += 1
        subscription_id = f"gid://shopify/WebhookSubscription/{self._next_subscription}"
        self.subscriptions[subscription_id] = topic
        self._callbacks[subscription_id] = (topic, url)
        return {"webhookSubscriptionCreate": {
            "webhookSubscription": {"id": subscription_id}, "userErrors": []}}  # fmt: skip

    def _bulk_run(self) -> JSON:
        operation_id = f"gid://shopify/BulkOperation/{int(time.time() * 1000)}"
        products = [self.catalog[i] for i in sorted(self.catalog)]
        self.bulk = {"id": operation_id, "polls": 0, "count": len(products),
                     "body": bulk_lines(products, self.shop["url"])}  # fmt: skip
        return {
            "bulkOperationRunQuery": {
                "bulkOperation": {"id": operation_id, "status": "CREATED"},
                "userErrors": [],
            }
        }

    def _bulk_poll(self) -> JSON | None:
        if self.bulk is None:
            return None
        self.bulk["polls"] += 1
        done = self.bulk["polls"] > 1  # RUNNING once, then COMPLETED
        key = self.bulk["id"].rsplit("/", 1)[-1]
        return {
            "id": self.bulk["id"], "status": "COMPLETED" if done else "RUNNING",
            "errorCode": None, "objectCount": str(self.bulk["count"]) if done else "0",
            "url": f"{self.url}/bulk/{key}.jsonl" if done else None,
        }  # fmt: skip

    def _bulk_file(self, key: str) -> Response:
        with self.lock:
            if self.bulk is None or not self.bulk["id"].endswith(f"/{key}"):
                return Response(404, b"NoSuchKey")
            return Response(200, self.bulk["body"].encode(), {"Content-Type": "application/jsonl"})


class _AccessDenied(Exception):
    """A field the app has no access scope for."""


def _cursor(product_id: int) -> str:
    return base64.b64encode(str(product_id).encode()).decode()


def _cost(query: str, variables: JSON) -> int:
    """Shopify's requested cost, roughly: one per object a page may return."""
    if re.search(r"\bproducts\s*\(", query) and "bulkOperationRunQuery" not in query:
        first = int(variables.get("first") or 50)
        return 2 + first * 3
    if "Mutation" in query or query.lstrip().startswith("mutation"):
        return 10
    return 1


def _json_bytes(body: JSON) -> bytes:
    return json.dumps(body).encode()
