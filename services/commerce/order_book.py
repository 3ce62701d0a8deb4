"""Orders we have seen (in webhooks, or disclosed in a lookup), with the conversation they
belong to: what the console lists next to a conversation."""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.shopify.orders import CONVERSATION_ATTRIBUTE, OrderRecord
from persistence.models import Conversation, Customer, PhoneNumber, ShopifyOrder
from services.commerce.phones import e164_digits

_IN_NOTE = re.compile(rf"{CONVERSATION_ATTRIBUTE}\s*[=:]\s*(\d+)")


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


def conversation_of_order(
    session: Session, merchant_id: int, order: OrderRecord
) -> tuple[int, int] | None:
    """(conversation id, customer id) of the conversation that produced the order: the
    cart's `switchboard_conversation_id` attribute (or that in the note), else the latest
    conversation of the merchant's customer whose WhatsApp number is the order's phone."""
    linked = _linked_conversation(order)
    if linked is not None:
        row = session.execute(
            select(Conversation.id, Conversation.customer_id)
            .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
            .where(Conversation.id == linked, PhoneNumber.merchant_id == merchant_id)
        ).first()
        if row is not None:
            return row[0], row[1]
    numbers = {n for p in order.phones if (n := e164_digits(p, order.country))}
    if not numbers:
        return None
    row = session.execute(
        select(Conversation.id, Conversation.customer_id)
        .join(Customer, Customer.id == Conversation.customer_id)
        .where(Customer.merchant_id == merchant_id, Customer.wa_id.in_(numbers))
        .order_by(Conversation.last_inbound_at.desc().nulls_last(), Conversation.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row is not None else None


def _linked_conversation(order: OrderRecord) -> int | None:
    raw = order.attributes.get(CONVERSATION_ATTRIBUTE, "").strip()
    if not raw and order.note:
        match = _IN_NOTE.search(order.note)
        raw = match.group(1) if match else ""
    return int(raw) if raw.isdigit() and len(raw) < 12 else None
