"""The console's template picker in Chromium offers the merchant's own templates (imported
from their business account) with a live preview; one we cannot fill yet is disabled."""

from __future__ import annotations

import pytest

from tests.browser.conftest import SCREENSHOTS, take_over_in_console
from tests.browser.test_parking_browser import _day_two_conversation

pytestmark = pytest.mark.integration
WAIT_MS = 20_000
ORDER_BODY = "Hi {{1}}, your order {{2}} has shipped."


def _day_two_conversation_with_own_templates() -> int:
    """The parking test's day-two conversation, its merchant with templates of its own."""
    from persistence.db import session_scope
    from persistence.models import Conversation, MessageTemplate, PhoneNumber

    conversation_id = _day_two_conversation()
    image = {"type": "HEADER", "format": "IMAGE"}
    title = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        phone = session.get(PhoneNumber, conversation.phone_number_id)
        for name, body, extra in (
            ("order_update", ORDER_BODY, []),
            ("order_ready", "Your order is ready, {{1}}.", [title]),
            ("new_collection", "Our new collection is here, {{1}}!", [image]),
        ):
            session.add(
                MessageTemplate(
                    merchant_id=phone.merchant_id, role=None, name=name, language="en",
                    category="MARKETING", body=body, parameters=[], status="APPROVED",
                    components=[{"type": "BODY", "text": body}, *extra],
                )
            )  # fmt: skip
    return conversation_id


def test_the_picker_previews_a_merchants_own_template_and_disables_an_unsupported_one(
    browser, live_server, operator_token
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    conversation_id = _day_two_conversation_with_own_templates()
    page = take_over_in_console(browser, live_server, operator_token, conversation_id)

    unsupported = page.locator("#template option[value='new_collection|en']")
    expect(unsupported).to_be_disabled()
    expect(unsupported).to_contain_text("not supported yet")
    page.select_option("#template", "order_update|en")
    page.fill("#parameters", "Ana\n#1001")
    expect(page.locator("[data-template-preview]")).to_contain_text(
        "Hi Ana, your order #1001 has shipped."
    )
    page.screenshot(path=str(SCREENSHOTS / "templates-01-own-template.png"), full_page=True)
    page.select_option("#template", "order_ready|en")  # the header's value comes first
    page.fill("#parameters", "#1001\nAna")
    expect(page.locator("[data-template-preview]")).to_have_text(
        "Order #1001\nYour order is ready, Ana."
    )
