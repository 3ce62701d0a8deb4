"""Shopify webhooks, applied once each: a webhook id seen before is a retry (no-op), and a
body older than what is stored changes nothing (catalog.py)."""

from __future__ import annotations

from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from channels.shopify.records import webhook_inventory, webhook_product
from channels.shopify.webhook import ORDER_TOPICS, ShopifyWebhook
from observability.logs import get_logger
from persistence.models import ShopifyWebhookDelivery
from services.commerce.catalog import apply_inventory, delete_product, upsert_product
from services.commerce.order_updates import record_order_webhook
from services.commerce.queries import store_by_domain

log = get_logger(__name__)


def apply_webhook(session: Session, webhook: ShopifyWebhook) -> str:
    """What happened: applied, duplicate, stale, unknown_shop or ignored."""
    store = store_by_domain(session, webhook.shop_domain)
    if store is None:
        return "unknown_shop"
    first_time = session.scalar(
        insert(ShopifyWebhookDelivery)
        .values(
            webhook_id=webhook.webhook_id, shop_domain=webhook.shop_domain, topic=webhook.topic
        )  # fmt: skip
        .on_conflict_do_nothing(index_elements=["webhook_id"])
        .returning(ShopifyWebhookDelivery.webhook_id)
    )
    if first_time is None:
        return "duplicate"
    topic = webhook.topic
    if topic in ORDER_TOPICS:
        return record_order_webhook(session, store, webhook)
    if topic in ("products/create", "products/update"):
        written = upsert_product(session, store, webhook_product(webhook.body))
        return "applied" if written else "stale"
    if topic == "products/delete":
        delete_product(session, store.merchant_id, int(webhook.body.get("id") or 0))
        return "applied"
    if topic == "inventory_levels/update":
        changed = apply_inventory(session, store.merchant_id, webhook_inventory(webhook.body))
        return "applied" if changed else "stale"
    return "ignored"
