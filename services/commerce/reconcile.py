"""The periodic reconcile: a full sync of each store whose last one is older than
SHOPIFY_RECONCILE_SECONDS, so a webhook Shopify never delivered is caught up; and webhook
ids older than Shopify's retries (48 hours) are forgotten."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from persistence.models import ShopifyStore, ShopifyWebhookDelivery
from services.commerce.store import request_sync
from settings import get_settings

WEBHOOK_IDS_KEPT = timedelta(days=7)  # Shopify retries a webhook for up to 48 hours


def schedule_reconcile(session: Session) -> int:
    session.execute(
        delete(ShopifyWebhookDelivery).where(
            ShopifyWebhookDelivery.received_at < datetime.now(UTC) - WEBHOOK_IDS_KEPT
        )
    )
    period = get_settings().shopify_reconcile_seconds
    if period <= 0:
        return 0
    due = datetime.now(UTC) - timedelta(seconds=period)
    stores = session.scalars(
        select(ShopifyStore).where(
            or_(ShopifyStore.last_full_sync_at.is_(None), ShopifyStore.last_full_sync_at < due)
        )
    ).all()
    for store in stores:
        request_sync(session, store)  # not while one runs (unless it died with its worker)
    return len(stores)
