"""Two merchants on one deployment, in Chromium: an operator of one sees only its own."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration


def test_an_operator_sees_only_their_merchants_conversations(browser, live_server):
    from playwright.sync_api import expect

    from persistence.db import session_scope
    from persistence.models import Direction
    from services.merchants.merchant import add_phone_number, create_merchant
    from services.merchants.operator import create_operator
    from tests.factories import make_conversation, make_message

    with session_scope() as session:
        ids = {}
        tenants = (("Alpha", "3330001", "Ana Alpha"), ("Beta", "3330002", "Bea Beta"))
        for name, number, customer in tenants:
            merchant = create_merchant(session, name=name)
            phone = add_phone_number(
                session, merchant_id=merchant.id, phone_number_id=number, access_token="t"
            )
            conversation = make_conversation(
                session, merchant_id=merchant.id, phone_id=phone.id, wa_id=number + "9",
                profile_name=customer,
            )  # fmt: skip
            make_message(
                session, conversation_id=conversation.id, direction=Direction.INBOUND,
                text=f"hello from {customer}",
            )  # fmt: skip
            ids[name] = (merchant.id, conversation.id)
        _, token = create_operator(session, name="Alma", merchant_id=ids["Alpha"][0])

    page = browser.new_context().new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    expect(page.locator(".inbox-row")).to_have_count(1)
    expect(page.locator(".inbox-row")).to_contain_text("Ana Alpha")
    expect(page.locator("body")).not_to_contain_text("Bea Beta")
    page.screenshot(path=str(SCREENSHOTS / "tenancy-inbox.png"), full_page=True)

    page.goto(f"{live_server}/console/conversations/{ids['Beta'][1]}")
    expect(page.locator("h1")).to_have_text("Not found")
    expect(page.locator("body")).not_to_contain_text("Bea Beta")
