"""The Storefront checkout client against the fake store (Shopify's wire format, token
check and userErrors), cart permalinks, and reading a WhatsApp catalog `order`."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest

from channels.catalog_order import OrderItem, order_items
from channels.shopify.client import ShopifyAuthError, ShopifyError
from channels.shopify.storefront import Line, StorefrontClient, cart_permalink
from channels.simulators.shopify import ShopifySimulator
from channels.simulators.shopify_catalog import SimProduct, SimVariant
from tests.helpers import load_payload

ATTRIBUTES = {"switchboard_conversation_id": "42"}


@pytest.fixture(scope="module")
def shop() -> Iterator[ShopifySimulator]:
    sim = ShopifySimulator().start()
    yield sim
    sim.stop()


@pytest.fixture
def store(shop: ShopifySimulator) -> ShopifySimulator:
    shop.reset()
    shop.add(SimProduct(id=1001, title="Red Shoes", variants=[
        SimVariant(id=100101, price="89.00", options={"Size": "42"}, quantity=3),
        SimVariant(id=100102, price="89.00", options={"Size": "43"}, quantity=None),
    ]))  # fmt: skip
    return shop


def _client(shop: ShopifySimulator, token: str = "sf_test_token") -> StorefrontClient:
    return StorefrontClient(shop_domain=shop.shop_domain, token=token, base_url=shop.url,
                            version="2025-10")  # fmt: skip


def test_cart_create_returns_the_checkout_url_of_a_cart_with_our_lines(store):
    url = _client(store).create_cart([Line(100101, 2), Line(100102, 5)], ATTRIBUTES)
    [cart] = store.carts
    assert url == cart["checkoutUrl"]
    assert url.startswith("https://acme-shoes.myshopify.com/cart/c/")
    assert [(line["variant_id"], line["quantity"]) for line in cart["lines"]] == [
        (100101, 2), (100102, 5)]  # fmt: skip
    assert cart["attributes"] == ATTRIBUTES
    assert store.requests[-1]["variables"]["input"]["attributes"] == [
        {"key": "switchboard_conversation_id", "value": "42"}]  # fmt: skip


def test_an_unknown_variant_is_refused_with_shopifys_user_error(store):
    with pytest.raises(ShopifyError) as refused:
        _client(store).create_cart([Line(999, 1)], ATTRIBUTES)
    assert refused.value.message == (
        "The merchandise with id gid://shopify/ProductVariant/999 does not exist.")  # fmt: skip
    assert store.carts == []


def test_a_wrong_storefront_token_is_a_401_auth_error(store):
    with pytest.raises(ShopifyAuthError) as refused:
        _client(store, token="wrong").create_cart([Line(100101, 1)], ATTRIBUTES)
    assert refused.value.status == 401 and "UNAUTHORIZED" in refused.value.message


def test_a_cart_permalink_names_variants_quantities_and_the_conversation():
    url = cart_permalink("x.myshopify.com", [Line(100101, 2), Line(100200, 1)], ATTRIBUTES)
    assert url == (
        "https://x.myshopify.com/cart/100101:2,100200:1?attributes[switchboard_conversation_id]=42"
    )


def test_an_order_message_is_read_as_retailer_ids_and_quantities():
    message = load_payload("message_order")["entry"][0]["changes"][0]["value"]["messages"][0]
    assert order_items(message) == [
        OrderItem("100101", 2, Decimal("89"), "EUR"),
        OrderItem("100501", 1, Decimal("59.5"), "EUR"),
    ]


def test_malformed_order_items_are_left_out():
    raw = {"type": "order", "order": {"product_items": [
        {"product_retailer_id": None, "quantity": 1}, {"quantity": 2}, "junk",
        {"product_retailer_id": "7", "quantity": "x"}, {"product_retailer_id": 8},
    ]}}  # fmt: skip
    assert order_items(raw) == [OrderItem("8", 1, None, None)]
    assert order_items({"type": "text"}) == [] and order_items(None) == []
