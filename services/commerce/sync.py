"""The full sync, a workflow that owns its transactions: each page of products is written
and its progress shown in its own commit, so GET shows a sync advancing and a failure keeps
what was written. Catalogs above SHOPIFY_BULK_THRESHOLD are read by a bulk operation."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from channels.shopify.client import ShopifyClient, ShopifyError
from channels.shopify.records import ProductRecord
from observability.logs import get_logger
from persistence.db import session_scope
from persistence.models import ShopifyStore
from services.commerce.catalog import delete_unseen, upsert_product
from services.commerce.clients import shopify_client
from services.commerce.queries import store_of
from settings import get_settings

log = get_logger(__name__)
_BULK_POLL_SECONDS = 1.0
_BULK_MAX_SECONDS = 3600.0


def full_sync(merchant_id: int) -> str:
    """Read every product of the store into our catalog; returns the final status."""
    started = _start(merchant_id)
    if started is None:
        return "skipped"
    domain, token, since = started
    try:
        with shopify_client(domain, token) as client:
            total = client.product_count()
            _progress(merchant_id, done=0, total=total)
            done = 0
            for batch in _batches(client, total):
                done += _write(merchant_id, batch)
                _progress(merchant_id, done=done, total=total)
            log.info("shopify.sync.done", merchant_id=merchant_id, products=done,
                     throttled_seconds=round(client.waited, 2))  # fmt: skip
    except ShopifyError as exc:
        return _fail(merchant_id, exc.message)
    except BaseException as exc:  # a time limit, a lost database: not left "running"
        _fail(merchant_id, f"the sync stopped: {type(exc).__name__}")
        raise
    return _finish(merchant_id, since)


def _batches(client: ShopifyClient, total: int) -> Iterator[list[ProductRecord]]:
    if total > get_settings().shopify_bulk_threshold:
        yield from _bulk(client)
    else:
        yield from client.all_products(page_size=50)


def _bulk(client: ShopifyClient) -> Iterator[list[ProductRecord]]:
    client.start_bulk_products()
    deadline = time.monotonic() + _BULK_MAX_SECONDS
    while time.monotonic() < deadline:
        status = client.bulk_status()
        if status.status == "COMPLETED":
            products = client.bulk_result(status.url) if status.url else []
            for start in range(0, len(products), 200):
                yield products[start : start + 200]
            return
        if status.status not in ("CREATED", "RUNNING"):
            raise ShopifyError(f"bulk operation {status.status.lower()}: {status.error}")
        time.sleep(_BULK_POLL_SECONDS)
    raise ShopifyError("bulk operation did not finish within an hour")


def _start(merchant_id: int) -> tuple[str, str, datetime] | None:
    with session_scope() as session:
        store = _locked_store(session, merchant_id)
        if store is None or is_running(store, session.scalar(select(func.now()))):
            return None
        store.sync_status = "running"
        store.sync_error = None
        store.sync_products_done = 0
        store.sync_started_at = session.scalar(select(func.now()))
        assert store.sync_started_at is not None
        return store.shop_domain, store.access_token, store.sync_started_at


def is_running(store: ShopifyStore, now: datetime | None) -> bool:
    """A sync marked running longer than a task may live died with its worker."""
    if store.sync_status != "running":
        return False
    if store.sync_started_at is None or now is None:
        return True
    limit = timedelta(seconds=get_settings().task_time_limit_seconds)
    return now - store.sync_started_at < limit


def _write(merchant_id: int, batch: list[ProductRecord]) -> int:
    with session_scope() as session:
        store = store_of(session, merchant_id)
        if store is None:
            raise ShopifyError("the store was disconnected during the sync")
        for record in batch:
            upsert_product(session, store, record)
    return len(batch)


def _progress(merchant_id: int, *, done: int, total: int) -> None:
    with session_scope() as session:
        store = store_of(session, merchant_id)
        if store is not None:
            store.sync_products_done = done
            store.sync_products_total = total


def _finish(merchant_id: int, since: datetime) -> str:
    with session_scope() as session:
        store = store_of(session, merchant_id)
        if store is None:
            return "disconnected"
        removed = delete_unseen(session, merchant_id, since)
        store.sync_status = "done"
        store.last_full_sync_at = session.scalar(select(func.now()))
        log.info("shopify.sync.finished", merchant_id=merchant_id, removed=removed)
        return "done"


def _fail(merchant_id: int, reason: str) -> str:
    with session_scope() as session:
        store = store_of(session, merchant_id)
        if store is not None:
            store.sync_status = "failed"
            store.sync_error = reason[:2000]
    log.warning("shopify.sync.failed", merchant_id=merchant_id, reason=reason)
    return "failed"


def _locked_store(session: Session, merchant_id: int) -> ShopifyStore | None:
    return session.scalar(
        select(ShopifyStore).where(ShopifyStore.merchant_id == merchant_id).with_for_update()
    )
