"""A Shopify store end to end against the fake Admin API: connect (checked, webhooks
subscribed, no token echoed), a full sync by a real worker through THROTTLED answers and
pages, a bulk operation for a large catalog, and webhooks applied once, in order, and only
when signed."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import Text, select

from channels.simulators.shopify_catalog import rest_product, sample_catalog
from persistence.db import session_scope
from persistence.models import Product, ProductVariant, ShopifyStore
from tests.conftest import ADMIN_TOKEN
from tests.helpers import eventually

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _connect(client, merchant, fakes, **overrides) -> object:
    body = {"shop_domain": fakes["shopify"].shop_domain,
            "access_token": fakes["shopify"].access_token, **overrides}  # fmt: skip
    return client.post(f"/api/v1/merchants/{merchant['id']}/shopify", headers=ADMIN, json=body)


def _synced(client, merchant) -> dict:
    def done() -> dict:
        state = client.get(f"/api/v1/merchants/{merchant['id']}/shopify", headers=ADMIN).json()
        assert state["sync_status"] in ("done", "failed"), state
        return state

    return eventually(done, timeout=60)


def _variant(variant_id: int) -> ProductVariant:
    with session_scope() as session:
        return session.scalars(
            select(ProductVariant).where(ProductVariant.shopify_id == variant_id)
        ).one()


def _product(product_id: int) -> Product | None:
    with session_scope() as session:
        return session.scalars(select(Product).where(Product.shopify_id == product_id)).first()


def _post(client, delivery: tuple[bytes, dict[str, str]]) -> object:
    body, headers = delivery
    return client.post("/webhooks/shopify", content=body, headers=headers)


def test_connecting_reads_the_shop_subscribes_webhooks_and_never_echoes_the_token(
    stack, client, merchant, fakes, caplog
):
    caplog.set_level(logging.DEBUG)
    fakes["shopify"].add(*sample_catalog(3))
    response = _connect(client, merchant, fakes, storefront_access_token="storefront-secret")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["shop_name"] == "Acme Shoes" and body["currency"] == "EUR"
    assert body["primary_locale"] == "en" and body["storefront_url"] == "https://shoes.example"
    assert body["webhook_topics"] == sorted(
        ["products/create", "products/update", "products/delete", "inventory_levels/update",
         "orders/create", "orders/paid", "orders/cancelled", "fulfillments/create",
         "fulfillments/update"]
    )  # fmt: skip
    assert set(fakes["shopify"].subscriptions.values()) == {
        "PRODUCTS_CREATE", "PRODUCTS_UPDATE", "PRODUCTS_DELETE", "INVENTORY_LEVELS_UPDATE",
        "ORDERS_CREATE", "ORDERS_PAID", "ORDERS_CANCELLED", "FULFILLMENTS_CREATE",
        "FULFILLMENTS_UPDATE",
    }  # fmt: skip
    assert "shpat_test_token" not in response.text and "storefront-secret" not in response.text
    with session_scope() as session:  # encrypted at rest
        raw = session.execute(select(ShopifyStore.access_token.cast(Text)))
        assert "shpat" not in raw.scalar_one()
    state = _synced(client, merchant)
    assert state["products"] == 3
    # nor in any answer or log line of the run (this process's, the worker's sync)
    for where in (str(state), caplog.text, stack.worker_log()):
        assert "shpat_test_token" not in where and "storefront-secret" not in where


def test_a_wrong_token_is_refused_with_shopifys_reason(client, merchant, fakes):
    response = _connect(client, merchant, fakes, access_token="shpat_wrong")
    assert response.status_code == 422
    assert "Invalid API key or access token" in response.json()["detail"]
    missing = client.get(f"/api/v1/merchants/{merchant['id']}/shopify", headers=ADMIN)
    assert missing.status_code == 404


def test_a_bad_domain_or_token_is_refused_before_calling_shopify(client, merchant, fakes):
    response = _connect(client, merchant, fakes, shop_domain="https://evil.example/x")
    assert response.status_code == 422 and "myshopify.com" in response.json()["detail"]
    response = _connect(client, merchant, fakes, access_token="shpat_x\r\nX-Evil: 1")
    assert response.status_code == 422 and "access_token" in response.json()["detail"]
    assert fakes["shopify"].requests == []


def test_a_full_sync_pages_through_hundreds_of_products_despite_throttling(
    stack, client, merchant, fakes
):
    shop = fakes["shopify"]
    shop.add(*sample_catalog(260))
    shop.bucket.restore_rate = 400.0  # the waits stay short; the THROTTLED answers are real
    shop.throttle_next(2, field="products(")
    assert _connect(client, merchant, fakes).status_code == 201
    state = _synced(client, merchant)
    assert state["sync_status"] == "done" and state["sync_error"] is None
    assert state["products"] == 260 and state["sync_products_done"] == 260
    assert state["last_full_sync_at"] is not None
    pages = [r for r in shop.requests if "products(" in r["query"]]
    assert len(pages) >= 6 + 2 and shop.throttled >= 2  # 6 pages, two asked again
    variant = _variant(100102)
    assert variant.options == {"Size": "42", "Color": "Red"} and str(variant.price) == "40.00"


def test_a_catalog_over_the_threshold_is_read_by_a_bulk_operation(stack, client, merchant, fakes):
    stack.stop()
    stack.start(SHOPIFY_BULK_THRESHOLD="10")
    try:
        fakes["shopify"].add(*sample_catalog(25))
        assert _connect(client, merchant, fakes).status_code == 201
        state = _synced(client, merchant)
        assert state["sync_status"] == "done" and state["products"] == 25
        queries = [r["query"] for r in fakes["shopify"].requests]
        assert any("bulkOperationRunQuery" in q for q in queries)
        assert not any("products(first" in q for q in queries)
        assert _product(1003).images == ["https://cdn.shopify.example/files/1003.jpg"]
    finally:
        stack.stop()
        stack.start()


def test_a_sync_that_shopify_refuses_shows_its_error(stack, client, merchant, fakes):
    fakes["shopify"].add(*sample_catalog(2))
    assert _connect(client, merchant, fakes).status_code == 201
    _synced(client, merchant)
    fakes["shopify"].access_token = "rotated"  # the merchant revoked our token
    try:
        sync = client.post(f"/api/v1/merchants/{merchant['id']}/shopify/sync", headers=ADMIN)
        assert sync.status_code == 202
        state = _synced(client, merchant)
        assert state["sync_status"] == "failed"
        assert "Invalid API key" in state["sync_error"]
    finally:
        fakes["shopify"].access_token = "shpat_test_token"


@pytest.fixture
def synced(stack, client, merchant, fakes) -> dict:
    fakes["shopify"].add(*sample_catalog(5))
    assert _connect(client, merchant, fakes).status_code == 201
    _synced(client, merchant)
    return merchant


def test_an_inventory_update_selling_out_a_variant_marks_it_unavailable(client, synced, fakes):
    assert _variant(100101).available
    response = _post(client, fakes["shopify"].inventory_webhook(100101, 0))
    assert response.status_code == 200 and response.json()["outcome"] == "applied"
    variant = _variant(100101)
    assert variant.inventory_quantity == 0 and not variant.available


def test_a_forged_webhook_is_refused_and_changes_nothing(client, synced, fakes):
    shop = fakes["shopify"]
    product = shop.catalog[1001]
    product.title = "Forged title"
    product.touch()
    body, headers = shop.webhook("products/update", rest_product(product), secret="wrong")
    assert client.post("/webhooks/shopify", content=body, headers=headers).status_code == 401
    unsigned = {k: v for k, v in headers.items() if k != "X-Shopify-Hmac-Sha256"}
    assert client.post("/webhooks/shopify", content=body, headers=unsigned).status_code == 401
    assert _product(1001).title != "Forged title"


def test_a_product_update_is_applied_once_and_an_older_one_changes_nothing(client, synced, fakes):
    shop = fakes["shopify"]
    product = shop.catalog[1001]
    product.title = "Old name"
    product.touch()
    older = shop.product_webhook(1001)
    product.title = "New name"
    product.touch()
    newer = shop.product_webhook(1001)
    assert _post(client, newer).json()["outcome"] == "applied"
    assert _post(client, newer).json()["outcome"] == "duplicate"  # Shopify's retry
    assert _post(client, older).json()["outcome"] == "stale"  # delivered out of order
    assert _product(1001).title == "New name"


def test_a_duplicated_or_older_inventory_update_changes_nothing(client, synced, fakes):
    shop = fakes["shopify"]
    older = shop.inventory_webhook(100102, 7)
    newer = shop.inventory_webhook(100102, 0)
    assert _post(client, newer).json()["outcome"] == "applied"
    assert _post(client, newer).json()["outcome"] == "duplicate"
    assert _post(client, older).json()["outcome"] == "stale"
    assert _variant(100102).inventory_quantity == 0


def test_products_created_and_deleted_by_webhook(client, synced, fakes):
    shop = fakes["shopify"]
    shop.add(*sample_catalog(1, first_id=2001))
    assert _post(client, shop.product_webhook(2001, "products/create")).status_code == 200
    assert _product(2001) is not None
    assert _post(client, shop.product_webhook(2001, "products/delete")).status_code == 200
    assert _product(2001) is None


def test_a_webhook_without_its_headers_is_a_clear_400(client, synced, fakes):
    body, headers = fakes["shopify"].inventory_webhook(100101, 3)
    del headers["X-Shopify-Topic"]
    response = client.post("/webhooks/shopify", content=body, headers=headers)
    assert response.status_code == 400 and "x-shopify-topic" in response.json()["detail"]


def test_disconnecting_forgets_the_store_and_its_catalog(client, synced, fakes):
    url = f"/api/v1/merchants/{synced['id']}/shopify"
    assert client.delete(url, headers=ADMIN).status_code == 204
    assert client.get(url, headers=ADMIN).status_code == 404
    assert _product(1001) is None
    assert fakes["shopify"].subscriptions == {}


def test_manage_connects_and_syncs_a_store_from_the_shell(stack, client, merchant, fakes, capsys):
    from scripts import manage

    fakes["shopify"].add(*sample_catalog(4))
    shop = fakes["shopify"]
    argv = ["shopify-connect", str(merchant["id"]), shop.shop_domain, shop.access_token]
    assert manage.main(argv) == 0
    assert "(Acme Shoes, EUR, en) connected" in capsys.readouterr().out
    _synced(client, merchant)  # the first sync, queued by the connection, ran on the worker
    assert manage.main(["shopify-sync", str(merchant["id"])]) == 0
    assert capsys.readouterr().out.strip() == "sync done: done, 4/4 products"
    assert manage.main(["shopify-connect", str(merchant["id"]), shop.shop_domain, "bad"]) == 1
    assert "Invalid API key" in capsys.readouterr().err


def test_a_sync_left_running_by_a_dead_worker_is_started_again(stack, client, merchant, fakes):
    from datetime import UTC, datetime, timedelta

    from services.commerce.reconcile import schedule_reconcile
    from services.commerce.sync import full_sync

    fakes["shopify"].add(*sample_catalog(2))
    assert _connect(client, merchant, fakes).status_code == 201
    first = _synced(client, merchant)
    now = datetime.now(UTC)
    with session_scope() as session:
        store = session.scalars(select(ShopifyStore)).one()
        store.sync_status, store.sync_started_at = "running", now - timedelta(minutes=1)
        store.last_full_sync_at = now - timedelta(days=1)
    assert full_sync(merchant["id"]) == "skipped"  # a live sync is not run twice
    with session_scope() as session:
        session.scalars(select(ShopifyStore)).one().sync_started_at = now - timedelta(hours=2)
    with session_scope() as session:
        assert schedule_reconcile(session) == 1  # its worker died: queued again
    state = _synced(client, merchant)
    assert state["sync_status"] == "done"
    assert state["last_full_sync_at"] > first["last_full_sync_at"]


def test_reconnecting_replaces_the_webhook_subscriptions(client, merchant, fakes):
    assert _connect(client, merchant, fakes).status_code == 201
    first = set(fakes["shopify"].subscriptions)
    again = _connect(client, merchant, fakes)  # Shopify refuses a topic and URL twice
    assert again.status_code == 201, again.text
    assert len(fakes["shopify"].subscriptions) == 9  # 4 catalog and 5 order topics
    assert not first & set(fakes["shopify"].subscriptions)


def test_the_shops_language_is_read_and_defaults_to_english_without_the_scope(
    client, merchant, fakes
):
    fakes["shopify"].shop["locale"] = "pt-BR"
    assert _connect(client, merchant, fakes).json()["primary_locale"] == "pt"
    fakes["shopify"].locales_denied = True  # the app was not granted read_locales
    assert _connect(client, merchant, fakes).json()["primary_locale"] == "en"


def test_webhook_ids_are_forgotten_a_week_after_shopify_stops_retrying(clean):
    from datetime import UTC, datetime, timedelta

    from persistence.models import ShopifyWebhookDelivery
    from services.commerce.reconcile import schedule_reconcile

    with session_scope() as session:
        for webhook_id, days in (("old", 8), ("recent", 1)):
            session.add(ShopifyWebhookDelivery(
                webhook_id=webhook_id, shop_domain="a.myshopify.com", topic="products/update",
                received_at=datetime.now(UTC) - timedelta(days=days),
            ))  # fmt: skip
    with session_scope() as session:
        schedule_reconcile(session)
        kept = session.scalars(select(ShopifyWebhookDelivery.webhook_id)).all()
    assert kept == ["recent"]
