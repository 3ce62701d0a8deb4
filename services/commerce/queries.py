"""The commerce domain's selects."""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import Exists, SQLColumnExpression, exists, func, select
from sqlalchemy.orm import Session, selectinload

from persistence.models import (
    Cart,
    Conversation,
    Direction,
    Message,
    PhoneNumber,
    Product,
    ProductVariant,
    ShopifyStore,
)


def store_of(session: Session, merchant_id: int) -> ShopifyStore | None:
    return session.scalar(select(ShopifyStore).where(ShopifyStore.merchant_id == merchant_id))


def has_store(merchant_id: int | SQLColumnExpression[int]) -> Exists:
    """Whether the merchant connected a store, as a clause read with other rows."""
    return exists().where(ShopifyStore.merchant_id == merchant_id)


def store_by_domain(session: Session, shop_domain: str) -> ShopifyStore | None:
    return session.scalar(select(ShopifyStore).where(ShopifyStore.shop_domain == shop_domain))


def product_by_shopify_id(session: Session, merchant_id: int, shopify_id: int) -> Product | None:
    return session.scalar(
        select(Product)
        .where(Product.merchant_id == merchant_id, Product.shopify_id == shopify_id)
        .options(selectinload(Product.variants))
    )


def products_by_shopify_ids(
    session: Session, merchant_id: int, shopify_ids: Iterable[int]
) -> list[Product]:
    return list(
        session.scalars(
            select(Product)
            .where(Product.merchant_id == merchant_id, Product.shopify_id.in_(list(shopify_ids)))
            .options(selectinload(Product.variants))
        )
    )


def variants_by_inventory_item(
    session: Session, merchant_id: int, inventory_item_id: int
) -> list[ProductVariant]:
    return list(
        session.scalars(
            select(ProductVariant)
            .join(Product, Product.id == ProductVariant.product_id)
            .where(
                Product.merchant_id == merchant_id,
                ProductVariant.inventory_item_id == inventory_item_id,
            )
            .with_for_update(of=ProductVariant)
        )
    )


def merchants_with_stores(session: Session) -> list[int]:
    return list(session.scalars(select(ShopifyStore.merchant_id).order_by(ShopifyStore.id)))


def count_products(session: Session, merchant_id: int) -> int:
    return int(
        session.scalar(select(func.count(Product.id)).where(Product.merchant_id == merchant_id))
        or 0
    )


def catalog_of_conversation(session: Session, conversation_id: int) -> str | None:
    """The Meta catalog linked to the number the conversation is on."""
    return session.scalar(
        select(PhoneNumber.catalog_id)
        .join(Conversation, Conversation.phone_number_id == PhoneNumber.id)
        .where(Conversation.id == conversation_id)
    )


def cart_of(session: Session, *, conversation_id: int, merchant_id: int) -> Cart | None:
    """The conversation's cart, only if it belongs to this merchant."""
    return session.scalar(
        select(Cart)
        .where(Cart.conversation_id == conversation_id, Cart.merchant_id == merchant_id)
        .options(selectinload(Cart.lines))
    )


def variants_by_shopify_ids(
    session: Session, merchant_id: int, shopify_ids: Iterable[int]
) -> dict[int, ProductVariant]:
    """Variant (with its product) by Shopify id, within the merchant's catalog."""
    rows = session.scalars(
        select(ProductVariant)
        .join(Product, Product.id == ProductVariant.product_id)
        .where(Product.merchant_id == merchant_id, ProductVariant.shopify_id.in_(list(shopify_ids)))
        .options(selectinload(ProductVariant.product))
    )
    return {variant.shopify_id: variant for variant in rows}


def orders_of_turn(session: Session, turn_id: int) -> list[Message]:
    """The catalog `order` messages of a turn's burst, in arrival order."""
    return list(
        session.scalars(
            select(Message)
            .where(
                Message.turn_id == turn_id,
                Message.direction == Direction.INBOUND,
                Message.type == "order",
            )
            .order_by(Message.id)
        )
    )


def merchant_of_conversation(session: Session, conversation_id: int) -> int | None:
    return session.scalar(
        select(PhoneNumber.merchant_id)
        .join(Conversation, Conversation.phone_number_id == PhoneNumber.id)
        .where(Conversation.id == conversation_id)
    )
