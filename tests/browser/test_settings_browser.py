"""The Settings page in Chromium on a 390 px phone: a merchant's admin saves the AI profile
and adds a staff member, without the page scrolling sideways."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration


def test_a_merchant_admin_uses_settings_on_a_phone(browser, live_server):
    from playwright.sync_api import expect

    from persistence.db import session_scope
    from services.merchants.merchant import add_phone_number, create_merchant
    from services.merchants.operator import create_operator

    with session_scope() as session:
        merchant = create_merchant(session, name="Gamma Shoes")
        add_phone_number(
            session, merchant_id=merchant.id, phone_number_id="3339001", access_token="EAAG-secret"
        )
        _, token = create_operator(session, name="Gina", is_admin=True, merchant_id=merchant.id)

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    page.goto(f"{live_server}/console/settings")
    expect(page.locator("h1")).to_have_text("Settings")
    page.fill("textarea[name=greeting]", "Hola! Welcome to Gamma.")
    page.fill("textarea[name=ai_rules]", "promise discounts")
    page.click("button:has-text('Save profile')")
    expect(page.locator(".flash-ok")).to_contain_text("Saved")
    expect(page.locator("textarea[name=greeting]")).to_have_value("Hola! Welcome to Gamma.")
    page.fill("#staff input[name=name]", "Maria")
    page.fill("#staff input[name=wa_id]", "15550009")
    page.click("button:has-text('Add staff member')")
    expect(page.locator(".staff-list")).to_contain_text("Maria")
    expect(page.locator("body")).not_to_contain_text("EAAG-secret")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(SCREENSHOTS / "settings-phone.png"), full_page=True)
