"""The console's template picker in Chromium offers the merchant's own templates (imported
from their business account) with a live preview; one we cannot fill yet is disabled."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration
WAIT_MS = 20_000
ORDER_BODY = "Hi {{1}}, your order {{2}} has shipped."


def _day_two_conversation_with_own_templates() -> int:
    from persistence.db import session_scope
    from persistence.models import Conversation, MessageTemplate
    from services.merchants.merchant import add_phone_number, create_merchant
    from tests.conftest import ACCESS_TOKEN
    from tests.factories import make_conversation

    with session_scope() as session:
        merchant = create_merchant(session, name="Acme Shoes", description="Running shoes.")
        phone = add_phone_number(
            session, merchant_id=merchant.id, phone_number_id="106540352242998",
            access_token=ACCESS_TOKEN, display_phone_number="15550002223",
        )  # fmt: skip
        image = {"type": "HEADER", "format": "IMAGE"}
        title = {"type": "HEADER", "format": "TEXT", "text": "Order {{1}}"}
        for name, body, extra in (
            ("order_update", ORDER_BODY, []),
            ("order_ready", "Your order is ready, {{1}}.", [title]),
            ("new_collection", "Our new collection is here, {{1}}!", [image]),
        ):
            session.add(
                MessageTemplate(
                    merchant_id=merchant.id, role=None, name=name, language="en",
                    category="MARKETING", body=body, parameters=[], status="APPROVED",
                    components=[{"type": "BODY", "text": body}, *extra],
                )
            )  # fmt: skip
        conversation = make_conversation(session, merchant_id=merchant.id, phone_id=phone.id)
        session.get(Conversation, conversation.id).last_inbound_at = datetime.now(UTC) - timedelta(
            hours=25
        )
        return conversation.id


def test_the_picker_previews_a_merchants_own_template_and_disables_an_unsupported_one(
    browser, live_server, operator_token
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    conversation_id = _day_two_conversation_with_own_templates()
    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", operator_token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    page.goto(f"{live_server}/console/conversations/{conversation_id}")
    page.click("button:has-text('Take over')")

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
