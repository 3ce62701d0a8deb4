"""The Reports page in Chromium: the date range form, the figures, the SVG charts and the
CSV link."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from tests.browser.conftest import SCREENSHOTS, signed_in_page

pytestmark = pytest.mark.integration
WAIT_MS = 30_000


@pytest.fixture
def answered_conversation(live_server) -> int:
    """A customer wrote on 2 Nov and the AI answered 40 s later."""
    from persistence.db import session_scope
    from persistence.models import Author, Direction
    from services.merchants.merchant import add_phone_number, create_merchant
    from tests.conftest import ACCESS_TOKEN, PHONE_NUMBER_ID
    from tests.factories import make_conversation, make_message

    begun = datetime(2026, 11, 2, 9, tzinfo=UTC)
    with session_scope() as session:
        merchant = create_merchant(session, name="Acme Shoes", description="Running shoes.")
        phone = add_phone_number(
            session, merchant_id=merchant.id, phone_number_id=PHONE_NUMBER_ID,
            access_token=ACCESS_TOKEN,
        )  # fmt: skip
        conversation = make_conversation(session, merchant_id=merchant.id, phone_id=phone.id)
        conversation.created_at, conversation.labels = begun, ["shipping"]
        make_message(session, conversation_id=conversation.id, direction=Direction.INBOUND,
                     author=Author.CUSTOMER, created_at=begun)  # fmt: skip
        make_message(session, conversation_id=conversation.id,
                     created_at=begun + timedelta(seconds=40))  # fmt: skip
        return merchant.id


def test_the_reports_page_filters_by_date_and_draws_charts(browser, live_server, operator_token,
                                                           answered_conversation):  # fmt: skip
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    page = signed_in_page(browser, live_server, operator_token, height=900)
    page.click("nav.mainnav a:has-text('Reports')")
    page.wait_for_url(re.compile(r"/console/reports"))
    page.fill("input[name=from]", "2026-11-01")
    page.fill("input[name=to]", "2026-11-03")
    page.click("button:has-text('Show')")
    page.wait_for_url(re.compile(r"from=2026-11-01"))
    expect(page.locator("[data-figure=conversations]")).to_have_text("1")
    expect(page.locator("[data-figure=first_response_median]")).to_have_text("40.0")
    expect(page.locator("section.report svg.chart")).to_have_count(3)
    csv_link = page.locator("a:has-text('CSV')")
    assert csv_link.get_attribute("href") == (
        "/console/reports/export.csv?from=2026-11-01&to=2026-11-03"
    )
    with page.expect_download() as download:
        csv_link.click()
    assert download.value.suggested_filename == "report-2026-11-01-2026-11-03.csv"
    page.screenshot(path=str(SCREENSHOTS / "reports.png"), full_page=True)
    page.context.close()
