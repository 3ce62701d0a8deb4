"""The sandbox's demo store in Chromium: opening the sandbox connects the demo Shopify
store to the sandbox merchant and syncs its catalog through the app's own fake Shopify;
a customer's turn then finds a demo product, puts it in the cart and gets a checkout
button whose link is the demo store's Storefront cart for that variant."""

from __future__ import annotations

import json

import pytest

from tests.browser.conftest import SCREENSHOTS, signed_in_page
from tests.helpers import eventually

pytestmark = pytest.mark.integration
WAIT_MS = 60_000


def _demo_store() -> tuple[str | None, str | None, int]:
    """The demo store's sync status, error and product count."""
    from persistence.db import session_scope
    from services.commerce.queries import count_products, store_by_domain
    from settings import SANDBOX_SHOP_DOMAIN

    with session_scope() as session:
        store = store_by_domain(session, SANDBOX_SHOP_DOMAIN)
        if store is None:
            return None, None, 0
        return store.sync_status, store.sync_error, count_products(session, store.merchant_id)


def test_a_sandbox_turn_finds_a_demo_product_and_checks_it_out(
    browser, live_server, operator_token, fakes
):
    from playwright.sync_api import expect

    from services.sandbox.demo_store import demo_simulator

    expect.set_options(timeout=WAIT_MS)
    page = signed_in_page(browser, live_server, operator_token)
    page.goto(f"{live_server}/sandbox")
    try:
        eventually(lambda: _demo_store()[0] in ("done", "failed"), timeout=240)
    finally:
        assert _demo_store() == ("done", None, 6)

    gemini = fakes["gemini"]
    gemini.call_tool("search_products", {"query": "trail running shoes"})
    gemini.call_tool("add_to_cart", {"variant_id": "700200"})
    gemini.call_tool("checkout", {})
    gemini.reply("Here is your checkout.")
    page.fill("#wa-text", "I want the trail running shoes, black 40")
    page.press("#wa-text", "Enter")
    expect(page.locator(".wa-bubble.theirs").last).to_contain_text("Here is your checkout.")

    outputs = gemini.tool_outputs(gemini.wait_for_requests(4, timeout=60)[3])
    found = json.loads(outputs[0])["products"]
    assert found[0]["title"] == "Trailblazer Trail Running Shoes"
    assert found[0]["url"] == (
        "https://sandbox-running-co.myshopify.com/products/trailblazer-trail-running-shoes"
    )
    assert json.loads(outputs[1])["total"] == "€119.00"
    button = page.locator(".wa-bubble.theirs", has_text="Total: €119.00")
    expect(button.locator(".wa-buttons")).to_contain_text("Checkout")
    assert outputs[2].startswith(
        "checkout link sent as a link button: https://sandbox-running-co.myshopify.com/cart/c/"
    )
    # the checkout came from the demo store's Storefront API, served by the app itself
    cart = demo_simulator().carts[-1]  # the API server runs in this process (a thread)
    assert [(line["variant_id"], line["quantity"]) for line in cart["lines"]] == [(700200, 1)]
    assert outputs[2].startswith(f"checkout link sent as a link button: {cart['checkoutUrl']}")
    page.screenshot(path=str(SCREENSHOTS / "40-sandbox-demo-store-checkout.png"), full_page=True)
