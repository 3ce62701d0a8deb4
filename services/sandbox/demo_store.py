"""The sandbox's demo Shopify store: a small running-shoe catalog in a fake Shopify (the
same simulator the tests use, channels.simulators.shopify) that the app serves at
/sandbox/shopify while the sandbox is active, connected to the sandbox merchant on first
use and synced through the real Admin API path. Product search, product cards, the cart
and checkout (Storefront cartCreate) can then be tried without a real store, and order
#1001 looked up by its email (the code goes to the sandbox's Mail page).
"""

from __future__ import annotations

import logging
import threading

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from channels.simulators.shopify import ShopifySimulator
from channels.simulators.shopify_catalog import SimProduct, SimVariant
from channels.simulators.shopify_orders import SimFulfillment, SimLine, SimOrder
from persistence.models import ShopifyStore
from services.commerce.queries import store_of
from services.commerce.store import request_sync
from settings import SANDBOX_SHOP_DOMAIN, SANDBOX_TOKEN_PREFIX

log = logging.getLogger(__name__)
SHOP_NAME = "Sandbox Running Co."
ADMIN_TOKEN = SANDBOX_TOKEN_PREFIX + "shopify-admin"
STOREFRONT_TOKEN = SANDBOX_TOKEN_PREFIX + "shopify-storefront"
SHOP_URL = f"https://{SANDBOX_SHOP_DOMAIN}"
# The demo order: placed from a phone no sandbox customer has (555-03xx, never 555-01xx),
# so a customer looks it up by its email and the one-time code in the sandbox's Mail page.
DEMO_ORDER_EMAIL = "ana.customer@example.com"
DEMO_ORDER_PHONE = "+1 555 0300 1001"


_SIZES = ("40", "41", "42", "43", "44")


def _shoe(product_id: int, title: str, price: str, colors: list[str], kind: str,
          description: str, sizes: tuple[str, ...] = _SIZES) -> SimProduct:  # fmt: skip
    variants = [
        SimVariant(
            id=product_id * 100 + n,
            price=price,
            options={"Size": size, "Color": color},
            quantity=(product_id + n) % 7,
            position=n + 1,
            sku=f"SRC-{product_id}-{n}",
        )  # fmt: skip
        for n, (color, size) in enumerate((c, s) for c in colors for s in sizes)
    ]
    return SimProduct(
        id=product_id, title=title, variants=variants, product_type=kind, vendor=SHOP_NAME,
        description=description, tags=[kind.lower(), *(c.lower() for c in colors)],
    )  # fmt: skip


def demo_catalog() -> list[SimProduct]:
    one = ("One size",)
    return [
        _shoe(7001, "Cloudrunner Road Running Shoes", "89.00", ["Red", "Blue"], "Running Shoes",
              "Light, cushioned road running shoes for daily training."),
        _shoe(7002, "Trailblazer Trail Running Shoes", "119.00", ["Black", "Green"],
              "Trail Shoes", "Grippy trail running shoes with a waterproof upper."),
        _shoe(7003, "Sprint Lite Racing Flats", "69.50", ["White"], "Running Shoes",
              "Minimal racing flats for 5k and 10k races."),
        _shoe(7004, "Merino Running Socks", "14.90", ["Grey"], "Socks",
              "Breathable merino wool socks, pack of two.", ("S", "M", "L")),
        _shoe(7005, "Windbreaker Running Jacket", "59.00", ["Yellow", "Black"], "Jackets",
              "Packable, water-repellent jacket with reflective details.", ("S", "M", "L")),
        _shoe(7006, "Hydration Running Belt", "24.00", ["Black"], "Accessories",
              "A belt with two 250 ml bottles and a phone pocket.", one),
    ]  # fmt: skip


def demo_orders() -> list[SimOrder]:
    shipped = SimFulfillment(id=4400001, shipment_status="in_transit")
    shoes = SimLine("Cloudrunner Road Running Shoes - Red / 42", 1, "89.00", 700102)
    socks = SimLine("Merino Running Socks - Grey / M", 2, "14.90", 700401)
    return [SimOrder(number=1001, email=DEMO_ORDER_EMAIL, phone=DEMO_ORDER_PHONE,
                     lines=[shoes, socks], country="US", fulfillments=[shipped])]  # fmt: skip


_simulator: ShopifySimulator | None = None
_lock = threading.Lock()


def demo_simulator() -> ShopifySimulator:
    """This process's demo store (the same catalog in every process; never started as a
    server of its own: the app hands it each request)."""
    global _simulator
    with _lock:
        if _simulator is None:
            sim = ShopifySimulator(
                shop_domain=SANDBOX_SHOP_DOMAIN, access_token=ADMIN_TOKEN,
                storefront_token=STOREFRONT_TOKEN,
            )  # fmt: skip
            sim.shop = {"name": SHOP_NAME, "currencyCode": "EUR", "url": SHOP_URL, "locale": "en"}
            sim.add(*demo_catalog())
            sim.add_orders(*demo_orders())
            _simulator = sim
        return _simulator


def ensure_demo_store(session: Session, merchant_id: int) -> None:
    """Connect the demo store to the sandbox merchant once, and schedule its first sync;
    a store the merchant already has is left alone."""
    if store_of(session, merchant_id) is not None:
        return
    store = ShopifyStore(
        merchant_id=merchant_id, shop_domain=SANDBOX_SHOP_DOMAIN, access_token=ADMIN_TOKEN,
        storefront_access_token=STOREFRONT_TOKEN, shop_name=SHOP_NAME, currency="EUR",
        primary_locale="en", storefront_url=SHOP_URL, webhook_ids={}, sync_status="idle",
        sync_products_done=0,
    )  # fmt: skip
    try:
        with session.begin_nested():
            session.add(store)
            session.flush()
    except IntegrityError:  # a concurrent first visit connected it
        return
    request_sync(session, store)
    log.info("sandbox.demo_store.connected merchant_id=%s", merchant_id)
