"""Orders we have seen (in webhooks, or disclosed in a lookup), with the conversation they
belong to: what the console lists next to a conversation."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.shopify.orders import OrderRecord
from persistence.models import ShopifyOrder


def remember_order(
    session: Session,
    *,
    merchant_id: int,
    order: OrderRecord,
    conversation_id: int | None,
    customer_id: int | None,
) -> ShopifyOrder:
    """Insert or refresh the order; a known conversation is kept when this one is unknown."""
    tracking = next((f.tracking_url for f in reversed(order.fulfillments) if f.tracking_url), None)
    values = {
        "name": order.name, "financial_status": order.financial_status[:32],
        "fulfillment_status": order.fulfillment_status[:32],
        "cancelled": order.cancelled_at is not None, "total": order.total,
        "currency": order.currency[:8], "tracking_url": tracking, "placed_at": order.created_at,
        "updated_at": datetime.now(UTC),
    }  # fmt: skip
    update = dict(values)
    if conversation_id is not None:
        update |= {"conversation_id": conversation_id, "customer_id": customer_id}
    stmt = (
        insert(ShopifyOrder)
        .values(merchant_id=merchant_id, shopify_id=order.shopify_id,
                conversation_id=conversation_id, customer_id=customer_id, **values)
        .on_conflict_do_update(index_elements=["merchant_id", "shopify_id"], set_=update)
        .returning(ShopifyOrder.id)
    )  # fmt: skip
    row_id = session.scalar(stmt)
    row = session.get(ShopifyOrder, row_id, populate_existing=True)
    assert row is not None
    return row


def known_order(session: Session, merchant_id: int, shopify_id: int) -> ShopifyOrder | None:
    return session.scalar(
        select(ShopifyOrder).where(
            ShopifyOrder.merchant_id == merchant_id, ShopifyOrder.shopify_id == shopify_id
        )
    )


def orders_of_customer(session: Session, merchant_id: int, customer_id: int) -> list[ShopifyOrder]:
    """The customer's orders at this merchant, newest first."""
    return list(
        session.scalars(
            select(ShopifyOrder)
            .where(ShopifyOrder.merchant_id == merchant_id,
                   ShopifyOrder.customer_id == customer_id)  # fmt: skip
            .order_by(ShopifyOrder.placed_at.desc())
            .limit(20)
        )
    )
