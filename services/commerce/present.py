"""Search results as the model reads them: compact, with Shopify's ids and prices already
formatted in the shop's currency, so the model quotes them instead of inventing any."""

from __future__ import annotations

import json
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy.orm import Session

from persistence.models import ProductVariant, ShopifyStore
from services.commerce.money import format_price
from services.commerce.queries import store_of
from services.commerce.search import ProductMatch, ProductQuery, search_products
from services.errors import InvalidInput

VARIANTS_SHOWN = 5


def product_query(
    *, query: str, max_price: float | None, in_stock_only: bool, options: dict[str, str] | None
) -> ProductQuery:
    if max_price is not None and max_price <= 0:
        raise InvalidInput("max_price must be above 0")
    try:
        price = Decimal(str(max_price)) if max_price is not None else None
    except InvalidOperation:
        raise InvalidInput("max_price must be a number") from None
    return ProductQuery(
        text=query.strip(), max_price=price, in_stock_only=in_stock_only,
        options={str(k): str(v) for k, v in (options or {}).items()},
    )  # fmt: skip


def find_products(session: Session, merchant_id: int, query: ProductQuery) -> dict[str, Any]:
    """The tool's answer: matches (or why there are none) as a JSON-ready dict."""
    store = store_of(session, merchant_id)
    if store is None:
        return {"error": "this business has no product catalog connected"}
    matches = search_products(session, merchant_id, query)
    if not matches:
        return {"products": [], "note": "no product matches; say so, never guess"}
    return {"products": [_compact(store, match) for match in matches]}


def to_text(result: dict[str, Any]) -> str:
    return json.dumps(result, ensure_ascii=False, separators=(",", ":"))


def _compact(store: ShopifyStore, match: ProductMatch) -> dict[str, Any]:
    product, first = match.product, match.variants[0]
    return {
        "product_id": str(product.shopify_id),
        "title": product.title,
        "price": _price(store, first.price),
        "in_stock": match.in_stock,
        "url": product.url,
        "variants": [_variant(store, v) for v in match.variants[:VARIANTS_SHOWN]],
    }


def _variant(store: ShopifyStore, variant: ProductVariant) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "variant_id": str(variant.shopify_id),
        "options": variant.options,
        "price": _price(store, variant.price),
        "stock": variant.inventory_quantity if variant.inventory_quantity is not None
        else ("available" if variant.available else 0),
    }  # fmt: skip
    if variant.compare_at_price and variant.compare_at_price > variant.price:
        shown["was"] = _price(store, variant.compare_at_price)
    return shown


def _price(store: ShopifyStore, amount: Decimal) -> str:
    return format_price(amount, store.currency, store.primary_locale)
