"""A customer asks to cancel, return or re-address an order: a support request (the
escalation flow) with the order attached, for an order already shown to them."""

from __future__ import annotations

from typing import Literal

from sqlalchemy.orm import Session

from channels.shopify.client import ShopifyError
from persistence.models import Notification
from services.commerce.money import format_price
from services.commerce.orders import owned_order
from services.errors import InvalidInput, NotFound
from services.notifications.notifications import request_intervention

ChangeKind = Literal["cancellation", "return", "address_change"]


def request_order_change(
    session: Session, *, conversation_id: int, order_number: str, kind: ChangeKind,
    details: str, turn_id: int | None,
) -> Notification:  # fmt: skip
    """NotFound for an order that is not (or not yet) shown to this customer."""
    try:
        order = owned_order(session, conversation_id=conversation_id, order_number=order_number)
    except ShopifyError:
        raise InvalidInput("the online store cannot be reached right now") from None
    if order is None:
        raise NotFound("no order with that number was found for this customer: look it up first")
    items = ", ".join(f"{i.quantity} x {i.title}" for i in order.items)
    status = "cancelled" if order.cancelled_at else order.fulfillment_status
    reason = (
        f"{kind.replace('_', ' ').capitalize()} request for order {order.name} "
        f"({format_price(order.total, order.currency)}, {order.financial_status}, {status}; "
        f"{items}): {details.strip()}"
    )
    return request_intervention(
        session, conversation_id=conversation_id, reason=reason[:1000], turn_id=turn_id
    )
