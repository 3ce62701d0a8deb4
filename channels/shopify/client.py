"""A sync client of Shopify's Admin GraphQL API, for workers.

Shopify meters GraphQL by query cost: a bucket (`maximumAvailable` points) refilled at
`restoreRate` points a second, reported in `extensions.cost.throttleStatus` of every answer.
The client waits before a query the bucket cannot pay for, and on a `THROTTLED` error waits
for the points it lacks and asks again, so a sync slows down instead of failing.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx

from channels.shopify import queries
from channels.shopify.orders import OrderRecord, graphql_order
from channels.shopify.records import (
    JSON,
    ProductRecord,
    ShopInfo,
    bulk_products,
    graphql_product,
    shop_info,
)

_MAX_THROTTLED = 8


class ShopifyError(Exception):
    """Shopify refused or failed a call; the message is Shopify's reason."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


class ShopifyAuthError(ShopifyError):
    """The token is wrong or revoked (401), or lacks a scope (403)."""


@dataclass(frozen=True)
class Page:
    products: list[ProductRecord]
    cursor: str | None  # None: the last page


@dataclass(frozen=True)
class BulkStatus:
    status: str  # CREATED, RUNNING, COMPLETED, FAILED, CANCELED, EXPIRED
    url: str | None
    object_count: int
    error: str | None


class ShopifyClient:
    def __init__(
        self,
        *,
        shop_domain: str,
        access_token: str,
        base_url: str | None,
        version: str,
        timeout: float = 20.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        root = (base_url or f"https://{shop_domain}").rstrip("/")
        self.endpoint = f"{root}/admin/api/{version}/graphql.json"
        self._token = access_token
        self._http = httpx.Client(timeout=timeout)
        self._sleep = sleep
        self.waited = 0.0  # seconds spent waiting on the throttle, for logs and tests

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ShopifyClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- calls ---------------------------------------------------------------------

    def shop(self) -> ShopInfo:
        data = self.query(queries.SHOP)
        try:
            data = {**data, **self.query(queries.LOCALES)}
        except ShopifyAuthError:
            raise
        except ShopifyError:  # no read_locales scope: the language defaults to English
            pass
        return shop_info(data)

    def product_count(self) -> int:
        return int(self.query(queries.PRODUCT_COUNT)["productsCount"]["count"])

    def products_page(self, *, after: str | None, first: int = 50) -> Page:
        data = self.query(queries.PRODUCTS, {"first": first, "after": after})
        connection = data["products"]
        info = connection["pageInfo"]
        products = [graphql_product(edge["node"]) for edge in connection["edges"]]
        return Page(products, info["endCursor"] if info["hasNextPage"] else None)

    def product(self, product_id: int) -> ProductRecord | None:
        data = self.query(queries.PRODUCT, {"id": f"gid://shopify/Product/{product_id}"})
        return graphql_product(data["product"]) if data.get("product") else None

    def all_products(self, *, page_size: int = 50) -> Iterator[list[ProductRecord]]:
        cursor: str | None = None
        while True:
            page = self.products_page(after=cursor, first=page_size)
            yield page.products
            if page.cursor is None:
                return
            cursor = page.cursor

    def find_orders(self, search: str, *, first: int = 5) -> list[OrderRecord]:
        """Orders matching Shopify's search syntax (`name:#1001`, `email:a@b.c`), newest
        first."""
        data = self.query(queries.ORDERS, {"first": first, "query": search})
        return [graphql_order(node) for node in data["orders"]["nodes"]]

    def order(self, order_id: int) -> OrderRecord | None:
        data = self.query(queries.ORDER, {"id": f"gid://shopify/Order/{order_id}"})
        return graphql_order(data["order"]) if data.get("order") else None

    def subscribe_webhook(self, topic: str, callback_url: str) -> str:
        """Subscribe to a topic (`products/update`); return the subscription's id."""
        variables = {"topic": topic.upper().replace("/", "_"), "url": callback_url}
        result = self.query(queries.WEBHOOK_CREATE, variables)["webhookSubscriptionCreate"]
        _raise_user_errors(result)
        return str(result["webhookSubscription"]["id"])

    def delete_webhook(self, subscription_id: str) -> None:
        self.query(queries.WEBHOOK_DELETE, {"id": subscription_id})

    def start_bulk_products(self) -> None:
        result = self.query(queries.BULK_RUN, {"query": queries.BULK_PRODUCTS})
        _raise_user_errors(result["bulkOperationRunQuery"])

    def bulk_status(self) -> BulkStatus:
        operation = self.query(queries.BULK_CURRENT)["currentBulkOperation"] or {}
        return BulkStatus(
            status=operation.get("status", "CANCELED"),
            url=operation.get("url"),
            object_count=int(operation.get("objectCount") or 0),
            error=operation.get("errorCode"),
        )

    def bulk_result(self, url: str) -> list[ProductRecord]:
        response = self._http.get(url)
        if response.status_code != 200:
            raise ShopifyError(f"bulk result download: HTTP {response.status_code}")
        return bulk_products(response.text.splitlines())

    # --- transport -----------------------------------------------------------------

    def query(self, query: str, variables: JSON | None = None) -> JSON:
        """The `data` of one GraphQL call, waiting out the throttle as often as needed."""
        for _ in range(_MAX_THROTTLED):
            body = self._post(query, variables)
            wait = _throttled_wait(body)
            if wait is None:
                self._pace(body)
                return _data(body)
            self.waited += wait
            self._sleep(wait)
        raise ShopifyError("Throttled: Shopify kept refusing for lack of query cost points")

    def _post(self, query: str, variables: JSON | None) -> JSON:
        headers = {"X-Shopify-Access-Token": self._token, "Content-Type": "application/json"}
        try:
            response = self._http.post(
                self.endpoint, json={"query": query, "variables": variables or {}},
                headers=headers,
            )  # fmt: skip
        except httpx.HTTPError as exc:
            raise ShopifyError(f"cannot reach Shopify: {type(exc).__name__}") from None
        if response.status_code in (401, 403):
            raise ShopifyAuthError(_reason(response), status=response.status_code)
        if response.status_code != 200:
            raise ShopifyError(_reason(response), status=response.status_code)
        body: JSON = response.json()
        return body

    def _pace(self, body: JSON) -> None:
        """Below a tenth of the bucket, wait for it to refill that far before going on."""
        status = _throttle_status(body)
        if status is None:
            return
        floor = status["maximumAvailable"] / 10
        if status["currentlyAvailable"] < floor and status["restoreRate"] > 0:
            wait = (floor - status["currentlyAvailable"]) / status["restoreRate"]
            self.waited += wait
            self._sleep(wait)


def _throttle_status(body: JSON) -> JSON | None:
    status = ((body.get("extensions") or {}).get("cost") or {}).get("throttleStatus")
    return status if isinstance(status, dict) else None


def _throttled_wait(body: JSON) -> float | None:
    """Seconds to wait when the answer is a THROTTLED error, else None."""
    errors = body.get("errors")
    if not isinstance(errors, list):
        return None
    codes = {((e.get("extensions") or {}).get("code")) for e in errors if isinstance(e, dict)}
    if "THROTTLED" not in codes:
        return None
    cost = (body.get("extensions") or {}).get("cost") or {}
    status = _throttle_status(body) or {}
    missing = float(cost.get("requestedQueryCost") or 0) - float(
        status.get("currentlyAvailable") or 0
    )
    return max(missing, 1.0) / max(float(status.get("restoreRate") or 50.0), 1.0)


def _data(body: JSON) -> JSON:
    errors = body.get("errors")
    if errors:
        raise ShopifyError(_error_text(errors))
    data: JSON = body.get("data") or {}
    return data


def _raise_user_errors(result: JSON) -> None:
    errors = result.get("userErrors") or []
    if errors:
        raise ShopifyError("; ".join(str(e.get("message")) for e in errors))


def _error_text(errors: Any) -> str:
    if isinstance(errors, str):
        return errors
    if isinstance(errors, list):
        return "; ".join(str(e.get("message", e)) if isinstance(e, dict) else str(e)
                         for e in errors)  # fmt: skip
    if isinstance(errors, dict):
        return "; ".join(f"{k}: {v}" for k, v in errors.items())
    return str(errors)


def _reason(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return f"HTTP {response.status_code}"
    if isinstance(body, dict) and "errors" in body:
        return _error_text(body["errors"])
    return f"HTTP {response.status_code}"
