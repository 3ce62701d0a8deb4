"""Order updates to the customer whose conversation produced the order: Shopify's order and
fulfillment webhooks become one message per (order, event), a unique order_events row, so
a repeated or re-sent webhook changes nothing. Inside the 24 h window a short message in the
customer's language; outside it the order_confirmed or order_shipped template, or for any
other event (paid, cancelled, in transit, out for delivery, delivered, a shipment without a
tracking link) order_update with the news in words. A customer who said "stop" gets none
(opt_out.py). An orders/paid for an order confirmed as already paid adds nothing: the
confirmation said it."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.shopify.client import ShopifyError
from channels.shopify.orders import (
    OrderRecord,
    fulfillment_order_id,
    webhook_fulfillment,
    webhook_order,
)
from channels.shopify.webhook import ShopifyWebhook
from observability.logs import get_logger
from persistence import jobs
from persistence.models import Author, Merchant, OrderEvent, ShopifyOrder, ShopifyStore
from services.commerce.clients import shopify_client
from services.commerce.money import format_price
from services.commerce.order_book import conversation_of_order, known_order, remember_order
from services.commerce.order_wording import status_phrase, update_text
from services.commerce.queries import store_of
from services.conversations.conversation import conversation_parties
from services.conversations.window import within_service_window
from services.outbound import add_outbound
from services.templates.templates import TemplateRole, enqueue_template, resolve

log = get_logger(__name__)
NOTIFY_TASK = "switchboard.commerce.order_update"
SEND_TASK = "switchboard.commerce.order_update.send"
_ORDER_EVENTS = {"orders/create": "confirmed", "orders/paid": "paid",
                 "orders/cancelled": "cancelled"}  # fmt: skip
# fulfillments/update worth a message: the shipment's new state
_SHIPMENT_EVENTS = ("in_transit", "out_for_delivery", "delivered")
_TEMPLATES = {"confirmed": TemplateRole.ORDER_CONFIRMED, "shipped": TemplateRole.ORDER_SHIPPED}


def record_order_webhook(session: Session, store: ShopifyStore, webhook: ShopifyWebhook) -> str:
    """Store the event once and schedule its message: applied, duplicate or ignored."""
    payload: dict[str, object]
    if webhook.topic in _ORDER_EVENTS:
        order = webhook_order(webhook.body)
        _remember(session, store.merchant_id, order)
        kind, order_id = _ORDER_EVENTS[webhook.topic], order.shopify_id
        event, payload = kind, {"kind": kind, "order": order.name, "total": str(order.total),
                                "currency": order.currency,
                                "financial_status": order.financial_status}  # fmt: skip
    else:
        fulfillment = webhook_fulfillment(webhook.body)
        order_id = fulfillment_order_id(webhook.body)
        kind = "shipped" if webhook.topic == "fulfillments/create" else (
            fulfillment.shipment_status or "")  # fmt: skip
        if fulfillment.status == "cancelled" or kind not in ("shipped", *_SHIPMENT_EVENTS):
            return "ignored"
        event = f"{kind}:{fulfillment.shopify_id}"
        payload = {"kind": kind, "carrier": fulfillment.carrier,
                   "tracking_url": fulfillment.tracking_url}  # fmt: skip
    event_id = session.scalar(
        insert(OrderEvent)
        .values(merchant_id=store.merchant_id, shopify_order_id=order_id, event=event,
                payload=payload)  # fmt: skip
        .on_conflict_do_nothing(index_elements=["merchant_id", "shopify_order_id", "event"])
        .returning(OrderEvent.id)
    )
    if event_id is None:
        return "duplicate"
    jobs.enqueue(session, NOTIFY_TASK, event_id)
    return "applied"


def _remember(session: Session, merchant_id: int, order: OrderRecord) -> None:
    match = conversation_of_order(session, merchant_id, order)
    conversation_id, customer_id = match if match else (None, None)
    remember_order(session, merchant_id=merchant_id, order=order,
                   conversation_id=conversation_id, customer_id=customer_id)  # fmt: skip


def notify(session: Session, event_id: int) -> str:
    """Write the event's message to the outbox (sent after commit); the outcome is kept on
    the event: sent, template, opted_out, no_customer, skipped or unreachable."""
    event = session.get(OrderEvent, event_id, with_for_update=True)
    if event is None:
        return "gone"
    if event.outcome is None:
        event.outcome = _notify(session, event)
        log.info("orders.update", order_event=event.event, outcome=event.outcome)
    return event.outcome


def _notify(session: Session, event: OrderEvent) -> str:
    order = known_order(session, event.merchant_id, event.shopify_order_id)
    if order is None or order.conversation_id is None:
        try:
            order = _fetch(session, event.merchant_id, event.shopify_order_id) or order
        except ShopifyError as exc:
            log.warning("orders.update.unreachable", error=exc.message)
            return "unreachable"
    if order is None or order.conversation_id is None:
        return "no_customer"
    conversation, customer, phone = conversation_parties(session, order.conversation_id)
    if customer.order_updates_opt_out:
        return "opted_out"
    payload, kind = event.payload, str(event.payload["kind"])
    if kind == "paid" and _paid_when_confirmed(session, event):
        return "skipped"  # the confirmation already said so
    merchant = session.get(Merchant, phone.merchant_id)
    assert merchant is not None
    language = customer.language or merchant.default_language
    total = format_price(Decimal(str(order.total)), order.currency, language)
    tracking = payload.get("tracking_url") or order.tracking_url
    if within_service_window(conversation):
        text = update_text(kind, language, order=order.name, total=total,
                           carrier=payload.get("carrier"), tracking_url=tracking)  # fmt: skip
        message_id = add_outbound(
            session, conversation_id=conversation.id, author=Author.SYSTEM, type="text",
            text=text, turn_id=None, seq=0, raw={"order_update": event.event},
        ).id  # fmt: skip
        outcome = "sent"
    else:
        message_id = _enqueue_template(
            session, conversation.id, merchant, kind, language,
            {"order_number": order.name, "order_total": total, "tracking_url": tracking or ""},
        )  # fmt: skip
        outcome = "template"
    event.message_id = message_id
    jobs.enqueue(session, SEND_TASK, message_id)
    return outcome


def _enqueue_template(
    session: Session, conversation_id: int, merchant: Merchant, kind: str, language: str,
    values: dict[str, str],
) -> int:  # fmt: skip
    """The event's template: order_confirmed, order_shipped (with a tracking link), else
    order_update with the news in words, in the language of the template chosen."""
    role = _TEMPLATES.get(kind, TemplateRole.ORDER_UPDATE)
    if role == TemplateRole.ORDER_SHIPPED and not values["tracking_url"]:
        role = TemplateRole.ORDER_UPDATE
    if role == TemplateRole.ORDER_UPDATE:
        found = resolve(session, merchant_id=merchant.id, role=role, language=language)
        language = found.language
        values = {**values, "order_status": status_phrase(kind, language)}
    return enqueue_template(
        session, conversation_id=conversation_id, role=role, language=language,
        values={"merchant_name": merchant.name, **values}, merchant_id=merchant.id,
    )  # fmt: skip


def _fetch(session: Session, merchant_id: int, order_id: int) -> ShopifyOrder | None:
    """A fulfillment's order we have not seen: read it live, match and remember it."""
    store = store_of(session, merchant_id)
    if store is None:
        return None
    with shopify_client(store.shop_domain, store.access_token) as client:
        record = client.order(order_id)
    if record is None:
        return None
    _remember(session, merchant_id, record)
    return known_order(session, merchant_id, order_id)


def _paid_when_confirmed(session: Session, event: OrderEvent) -> bool:
    confirmed = session.scalar(
        select(OrderEvent.payload).where(
            OrderEvent.merchant_id == event.merchant_id,
            OrderEvent.shopify_order_id == event.shopify_order_id,
            OrderEvent.event == "confirmed",
        )
    )
    return confirmed is not None and confirmed.get("financial_status") == "paid"
