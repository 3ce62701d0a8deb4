"""The Store page in the browser: an admin connects the fake Shopify store, watches the
sync finish (the page refreshes itself while it runs) and disconnects."""

from __future__ import annotations

import pytest

from channels.simulators.shopify_catalog import sample_catalog
from tests.browser.test_console_browser import _expect, _shot, _signed_in

pytestmark = pytest.mark.integration


def test_an_admin_connects_the_store_and_sees_the_sync(browser, live_server, fakes):
    from persistence.db import session_scope
    from services.merchants.merchant import create_merchant
    from services.merchants.operator import create_operator

    with session_scope() as session:
        create_merchant(session, name="Acme Shoes")
        _, token = create_operator(session, name="Ada", is_admin=True)
    fakes["shopify"].add(*sample_catalog(12))
    expect = _expect()
    page = _signed_in(browser, live_server, token, viewport={"width": 1280, "height": 860})
    page.click("nav.mainnav a:has-text('Store')")
    page.fill("input[name=shop_domain]", fakes["shopify"].shop_domain)
    page.fill("input[name=access_token]", fakes["shopify"].access_token)
    page.click("button:has-text('Connect')")
    expect(page.locator(".flash-ok")).to_contain_text("Connected")
    expect(page.locator("[data-sync-status]")).to_have_text("done", timeout=60_000)
    expect(page.locator("[data-products]")).to_have_text("12")
    assert fakes["shopify"].access_token not in page.content()
    _shot(page, "40-console-store-synced")

    page.on("dialog", lambda dialog: dialog.accept())
    page.click("button:has-text('Disconnect')")
    expect(page.locator(".flash-ok")).to_contain_text("Disconnected")
    expect(page.locator("input[name=shop_domain]")).to_be_visible()
