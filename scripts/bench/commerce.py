"""Commerce: a full catalog sync from the fake Shopify store (pages, and a bulk operation),
and product search latency over the synced catalog, in this process.

Shopify's throttle is what bounds a real sync (a standard store refills 50 query-cost points
a second, Shopify Plus 500; a page of 50 products with variants costs about 152), so the
fake's bucket is made large enough not to throttle: the figures measure our side, and the
report notes the bound Shopify's own limits would set.
"""

from __future__ import annotations

import os
import random
import time
from decimal import Decimal
from typing import Any

from scripts.bench.common import Deadline, percentiles

QUERIES = (
    ("running shoes", {"size": "42", "color": "red"}, 100),
    ("sneakers", {"color": "blue"}, None),
    ("trail shoes", {"size": "41"}, 80),
    ("boots", {}, 120),
    ("t-shirt black", {}, None),
    ("runing shoos", {}, None),  # typos
    ("sandals", {"size": "43", "color": "white"}, 60),
    ("socks", {}, 20),
)
PAGE_COST = 152  # requested cost of a page of 50 products (the fake's and Shopify's estimate)


def run(*, products: int, searches: int, deadline: Deadline) -> dict[str, Any]:
    from channels.simulators.shopify import ShopifySimulator
    from channels.simulators.shopify_catalog import sample_catalog

    shop = ShopifySimulator().start()
    try:
        shop.bucket.maximum = shop.bucket.available = 10_000_000.0
        shop.add(*sample_catalog(products))
        merchant_id = _merchant_with_store(shop)
        paged = _timed_sync(merchant_id, bulk=False)
        deadline.check("syncing pages")
        bulk = _timed_sync(merchant_id, bulk=True)
        deadline.check("syncing in bulk")
        latencies = _search_latencies(merchant_id, searches)
    finally:
        shop.stop()
    return {
        "products": products,
        "variants": products * 4,
        "sync_pages_seconds": paged,
        "sync_pages_products_per_second": products / paged,
        "sync_bulk_seconds": bulk,
        "sync_bulk_products_per_second": products / bulk,
        "shopify_bound_products_per_second": {
            "standard": 50 / PAGE_COST * 50,
            "plus": 500 / PAGE_COST * 50,
        },  # fmt: skip
        "search_ms": percentiles(latencies, 1000.0),
    }


def _merchant_with_store(shop: Any) -> int:
    from persistence.db import session_scope
    from services.commerce import store as stores
    from services.merchants.merchant import create_merchant
    from settings import get_settings

    os.environ["SHOPIFY_API_BASE_URL"] = shop.url
    get_settings.cache_clear()
    with session_scope() as session:
        merchant = create_merchant(session, name="Bench Shoes")
        connection = stores.Connection(shop_domain=shop.shop_domain, access_token=shop.access_token)
        stores.connect(session, merchant_id=merchant.id, connection=connection, webhook_url=None)
        return merchant.id


def _timed_sync(merchant_id: int, *, bulk: bool) -> float:
    from services.commerce.sync import full_sync
    from settings import get_settings

    os.environ["SHOPIFY_BULK_THRESHOLD"] = "0" if bulk else str(10**9)
    get_settings.cache_clear()
    started = time.perf_counter()
    status = full_sync(merchant_id)
    if status != "done":
        raise RuntimeError(f"the {'bulk' if bulk else 'paged'} sync ended {status}")
    return time.perf_counter() - started


def _search_latencies(merchant_id: int, count: int) -> list[float]:
    from persistence.db import session_scope
    from services.commerce.search import ProductQuery, search_products

    rng = random.Random(13)
    latencies = []
    for _ in range(count):
        text, options, budget = rng.choice(QUERIES)
        query = ProductQuery(text=text, options=options,
                             max_price=Decimal(budget) if budget else None)  # fmt: skip
        with session_scope() as session:
            started = time.perf_counter()
            search_products(session, merchant_id, query)
            latencies.append(time.perf_counter() - started)
    return latencies
