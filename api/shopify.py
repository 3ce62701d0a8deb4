"""Commerce administration: a merchant's Shopify store (connect, state, sync, disconnect),
and Shopify's webhooks. Tokens are write-only: no response carries them."""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request, status
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from api.deps import AdminDep, SessionDep
from channels.shopify import webhook as shopify_webhook
from channels.shopify.records import InvalidPayload
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import ShopifyStore
from services.commerce import store as stores
from services.commerce.webhooks import apply_webhook
from settings import get_settings

log = get_logger(__name__)
router = APIRouter(tags=["commerce"])


class ShopifyConnect(BaseModel):
    shop_domain: str = Field(min_length=1, max_length=255, examples=["acme.myshopify.com"])
    access_token: str = Field(min_length=1, max_length=500, description="Admin API token")
    storefront_access_token: str | None = Field(default=None, max_length=500)


class ShopifyStoreRead(BaseModel):
    shop_domain: str
    shop_name: str
    currency: str
    primary_locale: str
    storefront_url: str | None
    sync_status: str  # idle, queued, running, done, failed
    sync_products_done: int
    sync_products_total: int | None
    sync_error: str | None
    last_full_sync_at: datetime | None
    webhook_topics: list[str]
    products: int

    @classmethod
    def of(cls, store: ShopifyStore, products: int) -> ShopifyStoreRead:
        return cls(
            shop_domain=store.shop_domain, shop_name=store.shop_name, currency=store.currency,
            primary_locale=store.primary_locale, storefront_url=store.storefront_url,
            sync_status=store.sync_status, sync_products_done=store.sync_products_done,
            sync_products_total=store.sync_products_total, sync_error=store.sync_error,
            last_full_sync_at=store.last_full_sync_at,
            webhook_topics=sorted(store.webhook_ids or {}), products=products,
        )  # fmt: skip


def _read(session: SessionDep, merchant_id: int) -> ShopifyStoreRead:
    store = stores.get_store(session, merchant_id)
    return ShopifyStoreRead.of(store, stores.product_count(session, merchant_id))


@router.post("/api/v1/merchants/{merchant_id}/shopify", status_code=status.HTTP_201_CREATED)
def connect(
    merchant_id: int, body: ShopifyConnect, request: Request, session: SessionDep, _: AdminDep
) -> ShopifyStoreRead:
    """Connect the merchant's Shopify store: the token is checked against Shopify (422 with
    Shopify's reason when refused), the shop's name, currency and language are read, product
    and inventory webhooks are subscribed, and a full sync is started."""
    connection = stores.Connection(**body.model_dump())
    webhook_url = str(request.url_for("shopify_webhook"))
    stores.connect(session, merchant_id=merchant_id, connection=connection, webhook_url=webhook_url)
    return _read(session, merchant_id)


@router.get("/api/v1/merchants/{merchant_id}/shopify")
def state(merchant_id: int, session: SessionDep, _: AdminDep) -> ShopifyStoreRead:
    """The connected store and its sync: status, progress, last error, last full sync."""
    return _read(session, merchant_id)


@router.post("/api/v1/merchants/{merchant_id}/shopify/sync", status_code=status.HTTP_202_ACCEPTED)
def sync(merchant_id: int, session: SessionDep, _: AdminDep) -> ShopifyStoreRead:
    """Start a full sync of the catalog (a running one is not started twice)."""
    stores.request_sync(session, stores.get_store(session, merchant_id))
    return _read(session, merchant_id)


@router.delete("/api/v1/merchants/{merchant_id}/shopify", status_code=status.HTTP_204_NO_CONTENT)
def disconnect(merchant_id: int, session: SessionDep, _: AdminDep) -> None:
    """Disconnect the store and forget its synced catalog."""
    stores.disconnect(session, merchant_id)


@router.post("/webhooks/shopify", name="shopify_webhook")
async def receive(request: Request) -> JSONResponse:
    """Shopify's product, inventory, order and fulfillment webhooks, signed with
    SHOPIFY_API_SECRET."""
    body = await request.body()
    secret = get_settings().shopify_api_secret
    header = request.headers.get("x-shopify-hmac-sha256")
    if secret is None:
        return _refuse(401, "SHOPIFY_API_SECRET is not configured: webhooks cannot be verified")
    if not shopify_webhook.verify(body, header, secret.get_secret_value()):
        return _refuse(401, "missing or invalid X-Shopify-Hmac-Sha256")
    try:
        parsed = shopify_webhook.parse(request.headers, body)
        outcome = await run_in_threadpool(_apply, parsed)
    except InvalidPayload as exc:
        return _refuse(400, f"not a Shopify webhook: {exc}")
    log.info("shopify.webhook", topic=parsed.topic, outcome=outcome)
    return JSONResponse({"outcome": outcome})


def _apply(parsed: shopify_webhook.ShopifyWebhook) -> str:
    with session_scope() as session:
        return apply_webhook(session, parsed)


def _refuse(status_code: int, reason: str) -> JSONResponse:
    log.warning("shopify.webhook.rejected", status=status_code, reason=reason)
    return JSONResponse({"detail": reason}, status_code=status_code)
