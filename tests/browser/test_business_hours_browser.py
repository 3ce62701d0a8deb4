"""Business hours in the console Settings page, in Chromium on a 390 px phone: an admin
sets weekly hours (an overnight range, two ranges a day), a holiday and an SLA; a bad
range is refused with the reason and nothing changes."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration


def test_a_merchant_admin_sets_business_hours_on_a_phone(browser, live_server):
    from playwright.sync_api import expect

    from persistence.db import session_scope
    from services.hours.business import get_business_hours
    from services.merchants.merchant import create_merchant
    from services.merchants.operator import create_operator

    with session_scope() as session:
        merchant = create_merchant(session, name="Delta Bar")
        merchant_id = merchant.id
        _, token = create_operator(session, name="Dora", is_admin=True, merchant_id=merchant_id)

    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    page.goto(f"{live_server}/console/settings")
    hours = page.locator("#hours")
    hours.locator("input[name=timezone]").fill("Europe/Madrid")
    hours.locator("input[name=day_mon]").fill("09:00-14:00, 16:00-20:00")
    hours.locator("input[name=day_fri]").fill("20:00-02:00")
    hours.locator("textarea[name=holidays]").fill("2026-12-25 Christmas")
    hours.locator("input[name=sla_user_question_request_target]").fill("60")
    hours.locator("input[name=sla_user_question_request_close]").fill("240")
    page.click("button:has-text('Save hours')")
    expect(page.locator(".flash-ok")).to_contain_text("Hours saved")
    expect(hours.locator("input[name=day_fri]")).to_have_value("20:00-02:00")
    expect(hours.locator("textarea[name=holidays]")).to_have_value("2026-12-25 Christmas")
    with session_scope() as session:
        saved = get_business_hours(session, merchant_id)
    assert saved.weekly.mon == ["09:00-14:00", "16:00-20:00"] and saved.timezone == "Europe/Madrid"
    assert saved.notification_slas["user_question_request"].close_after_minutes == 240

    hours.locator("input[name=day_tue]").fill("18:00-18:00")
    page.click("button:has-text('Save hours')")
    expect(page.locator(".flash-error")).to_contain_text("opens and closes at the same time")
    with session_scope() as session:
        assert get_business_hours(session, merchant_id).weekly.tue == []
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(SCREENSHOTS / "settings-hours-phone.png"), full_page=True)
