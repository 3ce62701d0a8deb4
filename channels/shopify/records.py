"""Shopify's product shapes (GraphQL nodes, bulk JSONL lines, REST webhook bodies) read into
our own records. Ids are Shopify's numeric ids (legacyResourceId)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

JSON = dict[str, Any]


class InvalidPayload(ValueError):
    """A Shopify body that is not the shape we expect."""


@dataclass(frozen=True)
class ShopInfo:
    name: str
    currency: str
    primary_locale: str
    url: str | None  # the primary domain, e.g. https://shoes.example


@dataclass
class VariantRecord:
    shopify_id: int
    title: str
    price: Decimal
    options: dict[str, str] = field(default_factory=dict)
    sku: str | None = None
    compare_at_price: Decimal | None = None
    inventory_quantity: int | None = None
    available: bool = True
    inventory_item_id: int | None = None
    position: int = 0


@dataclass
class ProductRecord:
    shopify_id: int
    title: str
    handle: str
    status: str  # active, draft, archived
    updated_at: datetime
    description: str = ""
    product_type: str = ""
    vendor: str = ""
    tags: list[str] = field(default_factory=list)
    collections: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    url: str | None = None
    variants: list[VariantRecord] = field(default_factory=list)


@dataclass(frozen=True)
class InventoryLevel:
    inventory_item_id: int
    available: int | None
    updated_at: datetime


def numeric_id(value: Any) -> int:
    """1001 from 1001, "1001" or "gid://shopify/Product/1001"."""
    text = str(value).rsplit("/", 1)[-1]
    try:
        return int(text)
    except ValueError:
        raise InvalidPayload(f"not a Shopify id: {value!r}") from None


def timestamp(value: Any) -> datetime:
    try:
        return datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        raise InvalidPayload(f"not a timestamp: {value!r}") from None


def _money(value: Any) -> Decimal | None:
    if value in (None, ""):
        return None
    amount = value.get("amount") if isinstance(value, dict) else value
    return Decimal(str(amount))


def _edges(connection: JSON | None) -> list[JSON]:
    if not connection:
        return []
    if "nodes" in connection:
        return list(connection["nodes"])
    return [edge["node"] for edge in connection.get("edges", [])]


# --- GraphQL -------------------------------------------------------------------------


def shop_info(data: JSON) -> ShopInfo:
    shop = data["shop"]
    locales = data.get("shopLocales") or []
    primary = next((item["locale"] for item in locales if item.get("primary")), "en")
    return ShopInfo(
        name=shop["name"],
        currency=shop["currencyCode"],
        primary_locale=primary,
        url=(shop.get("primaryDomain") or {}).get("url"),
    )


def graphql_variant(node: JSON) -> VariantRecord:
    quantity = node.get("inventoryQuantity")
    return VariantRecord(
        shopify_id=numeric_id(node.get("legacyResourceId") or node["id"]),
        title=node.get("title") or "",
        price=_money(node["price"]) or Decimal(0),
        compare_at_price=_money(node.get("compareAtPrice")),
        sku=node.get("sku") or None,
        options={o["name"]: o["value"] for o in node.get("selectedOptions") or []},
        inventory_quantity=quantity,
        available=bool(node.get("availableForSale", quantity is None or quantity > 0)),
        inventory_item_id=_inventory_item(node.get("inventoryItem")),
        position=int(node.get("position") or 0),
    )


def _inventory_item(item: JSON | None) -> int | None:
    if not item:
        return None
    return numeric_id(item.get("legacyResourceId") or item["id"])


def graphql_product(node: JSON) -> ProductRecord:
    """A product node of `products` (connections nested) or of a bulk JSONL file (its
    children attached by `bulk_products`)."""
    try:
        featured = (node.get("featuredImage") or {}).get("url")
        images = [image["url"] for image in _edges(node.get("images")) if image.get("url")]
        if featured:
            images = [featured, *[url for url in images if url != featured]]
        return ProductRecord(
            shopify_id=numeric_id(node.get("legacyResourceId") or node["id"]),
            title=node["title"],
            handle=node["handle"],
            status=str(node["status"]).lower(),
            updated_at=timestamp(node["updatedAt"]),
            description=node.get("description") or "",
            product_type=node.get("productType") or "",
            vendor=node.get("vendor") or "",
            tags=list(node.get("tags") or []),
            collections=[c["title"] for c in _edges(node.get("collections"))],
            images=images,
            url=node.get("onlineStoreUrl"),
            variants=[graphql_variant(v) for v in _edges(node.get("variants"))],
        )
    except (KeyError, TypeError) as exc:
        raise InvalidPayload(f"product node without {exc}") from None


def bulk_products(lines: Iterable[str]) -> list[ProductRecord]:
    """A bulk operation's JSONL: each product on its own line, then its variants, images and
    collections on theirs, pointing back with `__parentId`."""
    products: dict[str, JSON] = {}
    for line in lines:
        if not line.strip():
            continue
        row = json.loads(line)
        parent = row.pop("__parentId", None)
        if parent is None:
            products[row["id"]] = {**row, "variants": {"nodes": []}, "images": {"nodes": []},
                                   "collections": {"nodes": []}}  # fmt: skip
            continue
        kind = str(row.get("id", "")).split("/")[-2] if "/" in str(row.get("id", "")) else ""
        edge = {"ProductVariant": "variants", "ProductImage": "images", "MediaImage": "images",
                "Collection": "collections"}.get(kind)  # fmt: skip
        if edge is None and "url" in row:
            edge = "images"
        if edge and parent in products:
            products[parent][edge]["nodes"].append(row)
    return [graphql_product(node) for node in products.values()]


# --- REST webhook bodies -------------------------------------------------------------


def webhook_product(body: JSON) -> ProductRecord:
    """A products/create or products/update body (REST shape)."""
    try:
        names = [o["name"] for o in sorted(body.get("options") or [], key=lambda o: o["position"])]
        images = [image["src"] for image in body.get("images") or [] if image.get("src")]
        return ProductRecord(
            shopify_id=numeric_id(body["id"]),
            title=body["title"],
            handle=body["handle"],
            status=str(body.get("status") or "active").lower(),
            updated_at=timestamp(body["updated_at"]),
            description=_plain(body.get("body_html") or ""),
            product_type=body.get("product_type") or "",
            vendor=body.get("vendor") or "",
            tags=[t.strip() for t in (body.get("tags") or "").split(",") if t.strip()],
            images=images,
            variants=[_webhook_variant(v, names) for v in body.get("variants") or []],
        )
    except (KeyError, TypeError, AttributeError) as exc:
        raise InvalidPayload(f"product body without {exc}") from None


def _webhook_variant(body: JSON, option_names: list[str]) -> VariantRecord:
    values = [body.get(f"option{n}") for n in (1, 2, 3)]
    quantity = body.get("inventory_quantity")
    tracked = body.get("inventory_management") is not None
    oversells = body.get("inventory_policy") == "continue"
    return VariantRecord(
        shopify_id=numeric_id(body["id"]),
        title=body.get("title") or "",
        price=_money(body["price"]) or Decimal(0),
        compare_at_price=_money(body.get("compare_at_price")),
        sku=body.get("sku") or None,
        options={name: value for name, value in zip(option_names, values, strict=False) if value},
        inventory_quantity=quantity if tracked else None,
        available=oversells or not tracked or (quantity or 0) > 0,
        inventory_item_id=body.get("inventory_item_id"),
        position=int(body.get("position") or 0),
    )


def webhook_inventory(body: JSON) -> InventoryLevel:
    try:
        return InventoryLevel(
            inventory_item_id=numeric_id(body["inventory_item_id"]),
            available=body.get("available"),
            updated_at=timestamp(body["updated_at"]),
        )
    except KeyError as exc:
        raise InvalidPayload(f"inventory level without {exc}") from None


def _plain(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()
