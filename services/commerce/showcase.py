"""Showing products to a customer in a turn.

With a Meta commerce catalog linked to the number (`phone_numbers.catalog_id`) they go as
one WhatsApp product card (one product) or product list (several), naming each product's
first available variant by its Shopify id as the catalog's retailer id; a card Meta refuses
(an item missing from the catalog) falls back to photos. On a channel with cards
(Instagram): one card per product in a generic template. Otherwise: one image message per
product, its photo with title, price and link as the caption.

Rows go to the outbox once per (turn, content), so a redone turn never shows them twice,
and are sent only while the AI holds the conversation.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from sqlalchemy.orm import Session

from channels.shopify.records import InvalidPayload, numeric_id
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import Author, DeliveryStatus, Product, ShopifyStore
from services.commerce.money import format_price
from services.commerce.queries import catalog_of_conversation, products_by_shopify_ids, store_of
from services.conversations.conversation import conversation_parties
from services.delivery.flows import send_pending
from services.errors import InvalidInput, NotFound
from services.merchants.clients import channel_for
from services.outbound import add_outbound

log = get_logger(__name__)
# seq of products shown in a turn (replies are 0, 1...; library files 1000 + asset id;
# offers from 1e9): a photo 600M + product id, a catalog message 900M + a hash of its items
TURN_PHOTO_SEQ = 600_000_000
TURN_CARD_SEQ = 900_000_000
MAX_PRODUCTS = 10
HEADER_LIMIT = 60


@dataclass(frozen=True)
class Shown:
    product_id: str
    status: DeliveryStatus
    sent_as: str  # catalog, cards or photo


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
        store, products = _products(session, merchant_id, product_ids)
        catalog_id = catalog_of_conversation(session, conversation_id)
        lead_id, sent_as = None, "photo"
        if catalog_id:
            card_id = _enqueue_card(
                session, conversation_id, turn_id, store, catalog_id, products, text
            )
            sent_as = "catalog"
        elif _has_cards(session, conversation_id):
            lead_id, card_id = _enqueue_carousel(
                session, conversation_id, turn_id, store, products, text
            )
            sent_as = "cards"
        else:
            card_id = None
    if sent_as == "cards" and lead_id is not None:
        send_pending(lead_id, only_in_ai_mode=True)
    if card_id is not None:
        status = send_pending(card_id, only_in_ai_mode=True)
        if status != DeliveryStatus.FAILED:
            return [Shown(str(i), status, sent_as) for i in product_ids]
        log.info("commerce.products.card_refused", conversation_id=conversation_id)
    with session_scope() as session:
        store, products = _products(session, merchant_id, product_ids)
        rows = _enqueue_photos(session, conversation_id, turn_id, store, products, text)
    return [Shown(str(pid), send_pending(mid, only_in_ai_mode=True), "photo") for pid, mid in rows]


def _products(
    session: Session, merchant_id: int, product_ids: list[int]
) -> tuple[ShopifyStore, list[Product]]:
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
        raise NotFound(
            f"no product {', '.join(unknown)} in the catalog; use ids from search_products"
        )
    return store, [found[i] for i in product_ids]


def _enqueue_card(
    session: Session,
    conversation_id: int,
    turn_id: int,
    store: ShopifyStore,
    catalog_id: str,
    products: list[Product],
    text: str,
) -> int:
    retailer_ids = [str(_shown_variant(p)) for p in products]
    body = text.strip() or (products[0].title if len(products) == 1 else store.shop_name)
    header = (store.shop_name or "Products")[:HEADER_LIMIT]
    content = {"catalog_id": catalog_id, "retailer_ids": retailer_ids, "body": body[:1024],
               "header": header, "product_ids": [str(p.shopify_id) for p in products]}  # fmt: skip
    message = add_outbound(
        session, conversation_id=conversation_id, author=Author.AI, type="interactive",
        text=body[:1024], turn_id=turn_id,
        seq=TURN_CARD_SEQ + zlib.crc32(",".join(retailer_ids).encode()) % 99_000_000,
        raw={"products": content},
    )  # fmt: skip
    return message.id


def _has_cards(session: Session, conversation_id: int) -> bool:
    """Whether the conversation's channel shows product cards without a catalog (Instagram's
    generic template)."""
    _, _, phone = conversation_parties(session, conversation_id)
    return channel_for(phone).capabilities.cards


def _enqueue_carousel(
    session: Session,
    conversation_id: int,
    turn_id: int,
    store: ShopifyStore,
    products: list[Product],
    text: str,
) -> tuple[int | None, int]:
    """One card per product (title, price, photo, a link to its page), and the text to send
    before them when there is one (cards carry no body): (text row, cards row)."""
    lead = None
    if text.strip():
        lead = add_outbound(
            session, conversation_id=conversation_id, author=Author.AI, type="text",
            text=text.strip()[:1000], turn_id=turn_id, seq=TURN_CARD_SEQ - 1,
        ).id  # fmt: skip
    cards = [
        {"title": p.title[:80], "subtitle": _price(store, p)[:80] or None,
         "image_url": p.images[0] if p.images else None, "url": p.url or None,
         "button_title": "View" if p.url else None}
        for p in products
    ]  # fmt: skip
    ids = ",".join(str(p.shopify_id) for p in products)
    message = add_outbound(
        session, conversation_id=conversation_id, author=Author.AI, type="interactive",
        text="\n".join(p.title for p in products)[:1024], turn_id=turn_id,
        seq=TURN_CARD_SEQ + zlib.crc32(ids.encode()) % 99_000_000,
        raw={"cards": cards, "product_ids": ids.split(",")},
    )  # fmt: skip
    return lead, message.id


def _shown_variant(product: Product) -> int:
    available = [v for v in product.variants if v.available]
    chosen = sorted(available or product.variants, key=lambda v: (v.price, v.position))
    return chosen[0].shopify_id if chosen else product.shopify_id


def _enqueue_photos(
    session: Session,
    conversation_id: int,
    turn_id: int,
    store: ShopifyStore,
    products: list[Product],
    text: str,
) -> list[tuple[int, int]]:
    rows = []
    for position, product in enumerate(products):
        caption = _caption(store, product, text if position == 0 else "")
        image = product.images[0] if product.images else None
        message = add_outbound(
            session, conversation_id=conversation_id, author=Author.AI,
            type="image" if image else "text", text=caption, turn_id=turn_id,
            seq=TURN_PHOTO_SEQ + product.shopify_id % 300_000_000,
            media={"link": image, "filename": f"{product.handle}.jpg"} if image else None,
            raw={"product": {"product_id": str(product.shopify_id)}},
        )  # fmt: skip
        rows.append((product.shopify_id, message.id))
    return rows


def _price(store: ShopifyStore, product: Product) -> str:
    prices = sorted(v.price for v in product.variants if v.available) or sorted(
        v.price for v in product.variants
    )
    return format_price(prices[0], store.currency, store.primary_locale) if prices else ""


def _caption(store: ShopifyStore, product: Product, text: str) -> str:
    price = _price(store, product)
    lines = [text.strip(), f"*{product.title}*", price, product.url or ""]
    return "\n".join(line for line in lines if line)[:1024]
