"""The desk in Chromium: inbox tabs and search, the composer's /shortcut, labels and
private notes on the conversation page."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration
WAIT_MS = 30_000


@pytest.fixture
def waiting_customer(live_server) -> int:
    """A customer's message stored as the webhook would (no turn runs), and a canned reply."""
    from persistence.db import session_scope
    from services.desk import canned
    from services.merchants.merchant import add_phone_number, create_merchant
    from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID
    from tests.helpers import store_text

    with session_scope() as session:
        merchant = create_merchant(session, name="Acme Shoes", description="Running shoes.")
        add_phone_number(session, merchant_id=merchant.id, phone_number_id=PHONE_NUMBER_ID,
                         access_token=ACCESS_TOKEN)  # fmt: skip
        canned.create(session, merchant_id=merchant.id, shortcut="thanks",
                      text="Hi {{customer_name}}, {{operator_name}} here. Order {{order}}?")
        merchant_id = merchant.id
    return store_text({"phone_number_id": PHONE_NUMBER_ID, "id": merchant_id}, "hello, my boots")


def test_tabs_search_shortcut_labels_and_notes(browser, live_server, operator_token,
                                               waiting_customer):  # fmt: skip
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", operator_token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    row = page.locator(".inbox-row")
    expect(row).to_have_count(1)
    page.click(".tab-desk-mine")
    expect(page.locator(".inbox .empty")).to_be_visible()
    page.click(".tab-desk-unassigned")
    expect(row).to_have_count(1)

    row.first.locator("a").click()
    page.click("button:has-text('Take over')")
    page.fill("#text", "/tha")
    page.locator("#text").dispatch_event("input")
    option = page.locator(".canned-option[data-shortcut=thanks]")
    expect(option).to_be_visible()
    page.press("#text", "Enter")  # inserts the reply, does not send
    expect(page.locator("#text")).to_have_value("Hi Ana, Olga here. Order {{order}}?")
    expect(page.locator("[data-canned-unknown]")).to_contain_text("{{order}}")
    page.fill("#text", "Hi Ana, Olga here. Your boots ship Monday.")
    page.press("#text", "Enter")
    expect(page.locator(".msg-out").last).to_contain_text("Your boots ship Monday")

    page.fill("#labels", "VIP,  Refund ")
    page.click("button:has-text('Save labels')")
    expect(page.locator("[data-labels] .chip")).to_have_text(["refund", "vip"])
    page.fill("#private-note", "Gave a 10% code by phone")
    page.click("button:has-text('Add note')")
    note = page.locator(".msg-private-note")
    expect(note).to_contain_text("Gave a 10% code by phone")
    expect(note).to_contain_text("Olga")
    page.screenshot(path=str(SCREENSHOTS / "desk-conversation.png"), full_page=True)

    page.goto(f"{live_server}/console/inbox?assigned=mine")
    expect(row).to_have_count(1)  # self-assigned on takeover
    expect(row.first.locator(".chip.label")).to_have_text(["refund", "vip"])
    page.fill("#q", "boots")
    page.click("button:has-text('Search')")
    expect(row).to_have_count(1)
    page.fill("#q", "umbrella")
    page.click("button:has-text('Search')")
    expect(page.locator(".inbox .empty")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "desk-inbox-search.png"), full_page=True)
    context.close()
