"""Outside the customer's window, in Chromium: an operator sends an approved template
(previewed as they type its parameters) and parks a text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import SCREENSHOTS, take_over_in_console

pytestmark = pytest.mark.integration
WAIT_MS = 20_000


def _day_two_conversation() -> int:
    """A customer who wrote 25 hours ago to a merchant with approved templates."""
    from persistence.db import session_scope
    from persistence.models import Conversation
    from services.merchants.merchant import add_phone_number, create_merchant
    from services.templates.defaults import TemplateRole
    from tests.conftest import ACCESS_TOKEN
    from tests.factories import make_conversation, make_template

    with session_scope() as session:
        merchant = create_merchant(session, name="Acme Shoes", description="Running shoes.")
        phone = add_phone_number(
            session, merchant_id=merchant.id, phone_number_id="106540352242999",
            access_token=ACCESS_TOKEN, display_phone_number="15550002222",
        )  # fmt: skip
        for role in (TemplateRole.CUSTOMER_REENGAGEMENT, TemplateRole.CUSTOMER_SUPPORT_RESPONSE):
            make_template(session, merchant_id=merchant.id, role=role)
        conversation = make_conversation(session, merchant_id=merchant.id, phone_id=phone.id)
        session.get(Conversation, conversation.id).last_inbound_at = datetime.now(UTC) - timedelta(
            hours=25
        )
        return conversation.id


def test_an_operator_sends_a_previewed_template_and_parks_a_text(
    browser, live_server, operator_token
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    page = take_over_in_console(browser, live_server, operator_token, _day_two_conversation())
    expect(page.locator(".window-closed")).to_contain_text("parked")

    page.select_option("#template", "switchboard_support_response|en")
    page.fill("#parameters", "Acme Shoes\nyour refund is on its way")
    preview = page.locator("[data-template-preview]")
    expect(preview).to_contain_text("This is Acme Shoes following up")
    expect(preview).to_contain_text("response: your refund is on its way")
    page.screenshot(path=str(SCREENSHOTS / "parking-01-template-preview.png"), full_page=True)
    page.click("button:has-text('Send template')")
    expect(page.locator("#messages")).to_contain_text("response: your refund is on its way")

    page.fill("#text", "Also: your voucher code is SHOES10")
    page.click("button:has-text('Park until they answer')")
    parked = page.locator(".msg.is-parked")
    expect(parked).to_contain_text("SHOES10")
    expect(parked.locator(".tick.parked")).to_be_visible()
    page.screenshot(path=str(SCREENSHOTS / "parking-02-parked.png"), full_page=True)
