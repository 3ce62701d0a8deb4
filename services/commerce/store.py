"""Connecting a merchant's Shopify store: check the token, read the shop, subscribe to the
webhooks that keep the catalog fresh, and schedule the first full sync."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from channels.shopify.client import ShopifyClient, ShopifyError
from channels.shopify.webhook import TOPICS
from observability.logs import get_logger
from persistence import jobs
from persistence.models import ShopifyStore
from services.commerce.catalog import delete_all
from services.commerce.clients import shopify_client
from services.commerce.errors import StoreNotConnected, StoreRejected
from services.commerce.queries import count_products, store_by_domain, store_of
from services.commerce.sync import is_running
from services.errors import Conflict, InvalidInput
from services.merchants.merchant import get_merchant

log = get_logger(__name__)
SYNC_TASK = "switchboard.commerce.sync"
_DOMAIN = re.compile(r"[a-z0-9][a-z0-9-]*\.myshopify\.com")
_TOKEN = re.compile(r"[\x21-\x7e]{1,500}")  # visible ASCII: it travels in a header


@dataclass(frozen=True)
class Connection:
    shop_domain: str
    access_token: str
    storefront_access_token: str | None = None


def normalize_domain(value: str) -> str:
    domain = value.strip().lower().removeprefix("https://").removeprefix("http://").rstrip("/")
    if not _DOMAIN.fullmatch(domain):
        raise InvalidInput(f"shop_domain must be the store's x.myshopify.com domain, not {value!r}")
    return domain


def connect(
    session: Session, *, merchant_id: int, connection: Connection, webhook_url: str | None
) -> ShopifyStore:
    """Connect (or reconnect) the merchant's store; Shopify's refusal is a 422 with its reason."""
    get_merchant(session, merchant_id)
    domain = normalize_domain(connection.shop_domain)
    for name, token in (
        ("access_token", connection.access_token),
        ("storefront_access_token", connection.storefront_access_token),
    ):
        if token is not None and not _TOKEN.fullmatch(token):
            raise InvalidInput(f"{name} must be a Shopify token (visible ASCII characters)")
    other = store_by_domain(session, domain)
    if other is not None and other.merchant_id != merchant_id:
        raise Conflict(f"{domain} is connected to another merchant")
    store = store_of(session, merchant_id) or ShopifyStore(merchant_id=merchant_id)
    with shopify_client(domain, connection.access_token) as client:
        try:
            shop = client.shop()
        except ShopifyError as exc:
            raise StoreRejected(f"Shopify refused the connection: {exc.message}") from None
        if store.shop_domain == domain:  # a reconnection: Shopify refuses a topic twice
            _unsubscribe(client, store.webhook_ids or {})
        webhook_ids = _subscribe(client, webhook_url) if webhook_url else {}
    store.shop_domain = domain
    store.access_token = connection.access_token
    store.storefront_access_token = connection.storefront_access_token
    store.shop_name = shop.name
    store.currency = shop.currency
    store.primary_locale = shop.primary_locale.split("-")[0]
    store.storefront_url = shop.url
    store.webhook_ids = webhook_ids
    store.sync_status = store.sync_status or "idle"
    store.sync_products_done = store.sync_products_done or 0
    session.add(store)
    session.flush()
    request_sync(session, store)
    log.info("shopify.connected", merchant_id=merchant_id, shop=domain)
    return store


def _subscribe(client: ShopifyClient, webhook_url: str) -> dict[str, object]:
    try:
        return {topic: client.subscribe_webhook(topic, webhook_url) for topic in TOPICS}
    except ShopifyError as exc:
        raise StoreRejected(f"Shopify refused the webhook subscription: {exc.message}") from None


def _unsubscribe(client: ShopifyClient, webhook_ids: dict[str, object]) -> None:
    for subscription_id in webhook_ids.values():
        try:
            client.delete_webhook(str(subscription_id))
        except ShopifyError as exc:
            log.warning("shopify.webhook.unsubscribe_failed", error=exc.message)


def get_store(session: Session, merchant_id: int) -> ShopifyStore:
    get_merchant(session, merchant_id)
    store = store_of(session, merchant_id)
    if store is None:
        raise StoreNotConnected(f"merchant {merchant_id} has no Shopify store connected")
    return store


def request_sync(session: Session, store: ShopifyStore) -> None:
    """Schedule a full sync after commit; a running one is not started twice."""
    if is_running(store, datetime.now(UTC)):
        return
    store.sync_status = "queued"
    store.sync_error = None
    session.flush()
    jobs.enqueue(session, SYNC_TASK, store.merchant_id)


def disconnect(session: Session, merchant_id: int) -> None:
    """Forget the store and its catalog; Shopify's webhook subscriptions are removed, best
    effort (a revoked token cannot remove them, and their deliveries are then ignored)."""
    store = get_store(session, merchant_id)
    with shopify_client(store.shop_domain, store.access_token) as client:
        _unsubscribe(client, store.webhook_ids or {})
    delete_all(session, merchant_id)
    session.delete(store)
    session.flush()


def product_count(session: Session, merchant_id: int) -> int:
    return count_products(session, merchant_id)
