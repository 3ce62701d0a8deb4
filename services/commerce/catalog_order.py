"""A cart sent from the WhatsApp catalog (an inbound `order` message) becomes the
conversation's cart and gets its checkout link at once, without the model re-typing it.

Runs at the start of a customer's turn in AI mode, before the model: the latest order of
the burst replaces the cart (retailer ids are Shopify variant ids, as send_products names
them), items that cannot be bought are left out, and the link goes out as a button. The
turn then goes on as usual, so the model can answer what came with the order (a question,
a note), told by a system note that the link was sent and what was left out.
"""

from __future__ import annotations

from channels.catalog_order import OrderItem, order_items
from channels.shopify.records import InvalidPayload, numeric_id
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import ConversationMode, DeliveryStatus
from services.commerce.cart import CartView, replace_cart
from services.commerce.checkout import CheckoutSent, checkout
from services.commerce.queries import orders_of_turn, store_of
from services.conversations.conversation import conversation_parties
from services.errors import DomainError
from services.handoff.handoff import add_note

log = get_logger(__name__)
_GONE = {DeliveryStatus.FAILED, DeliveryStatus.DROPPED}


def checkout_catalog_order(*, conversation_id: int, turn_id: int) -> CheckoutSent | None:
    """Fill the cart from the burst's catalog order and send its checkout link (None: no
    order, no store, not in AI mode, or nothing in it can be bought)."""
    with session_scope() as session:
        orders = orders_of_turn(session, turn_id)
        conversation, _, phone = conversation_parties(session, conversation_id)
        if not orders or conversation.mode != ConversationMode.AI:
            return None
        merchant_id = phone.merchant_id
        if store_of(session, merchant_id) is None:
            return None  # the model reads the order's text and answers in words
        items = order_items(orders[-1].raw)
        lines, skipped = _lines(items)
        view, refused = replace_cart(
            session, conversation_id=conversation_id, merchant_id=merchant_id, lines=lines
        )
        skipped += refused + _price_changes(view, items)
        if not view.lines:
            add_note(session, conversation_id, _note(None, skipped))
            return None
    try:
        sent: CheckoutSent | None = checkout(
            conversation_id=conversation_id, turn_id=turn_id, merchant_id=merchant_id
        )
    except DomainError as exc:
        log.warning("commerce.catalog_order.checkout_failed", error=exc.message)
        sent, skipped = None, [*skipped, f"no checkout link: {exc.message}"]
    with session_scope() as session:
        add_note(session, conversation_id, _note(sent, skipped))
    return sent


def _lines(items: list[OrderItem]) -> tuple[list[tuple[int, int]], list[str]]:
    """(variant id, quantity) per retailer id, repeated ids added up."""
    quantities: dict[int, int] = {}
    skipped = []
    for item in items:
        try:
            variant_id = numeric_id(item.retailer_id)
        except InvalidPayload:
            skipped.append(f"{item.retailer_id}: not an item of our catalog")
            continue
        quantities[variant_id] = quantities.get(variant_id, 0) + item.quantity
    return list(quantities.items()), skipped


def _price_changes(view: CartView, items: list[OrderItem]) -> list[str]:
    shown = {item.retailer_id: item.item_price for item in items}
    return [
        f"{line.variant_id}: the price is now {view.price(line.unit_price)}"
        for line in view.lines
        if shown.get(str(line.variant_id)) not in (None, line.unit_price)
    ]


def _note(sent: CheckoutSent | None, skipped: list[str]) -> str:
    if sent is not None and sent.status not in _GONE:
        text = (
            "The customer's catalog order is now their cart, and its checkout link was sent "
            f"to them as a button ({sent.url}); do not send it again. Cart total: "
            f"{sent.cart.price(sent.cart.total)}."
        )
    else:
        text = "The customer's catalog order could not be turned into a checkout link."
    if skipped:
        text += " Left out or changed: " + "; ".join(skipped) + "."
    return text
