"""Showing products to a customer in a turn: one image message per product (its photo,
with title, price and link as the caption), written to the outbox once per (turn, product)
so a redone turn never shows them twice, then sent while the conversation is in AI mode."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.shopify.records import InvalidPayload, numeric_id
from persistence.db import session_scope
from persistence.models import Author, DeliveryStatus, Product, ShopifyStore
from services.commerce.money import format_price
from services.commerce.queries import products_by_shopify_ids, store_of
from services.delivery.flows import send_pending
from services.errors import InvalidInput, NotFound
from services.outbound import add_outbound

# seq of a product shown in a turn (replies are 0, 1...; library files 1000 + asset id)
TURN_PRODUCT_SEQ = 600_000_000
MAX_PRODUCTS = 10


@dataclass(frozen=True)
class Shown:
    product_id: str
    status: DeliveryStatus


def parse_ids(product_ids: list[str]) -> list[int]:
    if not product_ids:
        raise InvalidInput("give at least one product_id from search_products")
    if len(product_ids) > MAX_PRODUCTS:
        raise InvalidInput(f"at most {MAX_PRODUCTS} products at a time")
    try:
        ids = [numeric_id(value) for value in product_ids]
    except InvalidPayload as exc:
        raise InvalidInput(str(exc)) from None
    return list(dict.fromkeys(ids))


def show_products(
    *, conversation_id: int, turn_id: int, merchant_id: int, product_ids: list[int], text: str
) -> list[Shown]:
    with session_scope() as session:
        message_ids = _enqueue(session, conversation_id, turn_id, merchant_id, product_ids, text)
    return [
        Shown(str(product_id), send_pending(message_id, only_in_ai_mode=True))
        for product_id, message_id in message_ids
    ]


def _enqueue(
    session: Session,
    conversation_id: int,
    turn_id: int,
    merchant_id: int,
    product_ids: list[int],
    text: str,
) -> list[tuple[int, int]]:
    store = store_of(session, merchant_id)
    if store is None:
        raise NotFound("this business has no product catalog connected")
    found = {
        p.shopify_id: p
        for p in products_by_shopify_ids(session, merchant_id, product_ids)
        if p.status == "active"
    }
    unknown = [str(i) for i in product_ids if i not in found]
    if unknown:
        raise NotFound(f"no product {', '.join(unknown)} in the catalog; use ids from "
                       "search_products")  # fmt: skip
    rows = []
    for position, product_id in enumerate(product_ids):
        product = found[product_id]
        caption = _caption(store, product, text if position == 0 else "")
        image = product.images[0] if product.images else None
        message = add_outbound(
            session, conversation_id=conversation_id, author=Author.AI,
            type="image" if image else "text", text=caption, turn_id=turn_id,
            seq=TURN_PRODUCT_SEQ + product_id % 500_000_000,
            media={"link": image, "filename": f"{product.handle}.jpg"} if image else None,
            raw={"product": {"product_id": str(product_id)}},
        )  # fmt: skip
        rows.append((product_id, message.id))
    return rows


def _caption(store: ShopifyStore, product: Product, text: str) -> str:
    prices = sorted(v.price for v in product.variants if v.available) or sorted(
        v.price for v in product.variants
    )
    price = format_price(prices[0], store.currency, store.primary_locale) if prices else ""
    lines = [text.strip(), f"*{product.title}*", price, product.url or ""]
    return "\n".join(line for line in lines if line)[:1024]
