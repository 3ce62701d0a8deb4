"""The WhatsApp business profile and the quality banner in Chromium on a 390 px phone: the
form shows Meta's current values, saves through the API's service to the Graph simulator,
takes a new photo; a number rated RED is a banner on every page until it is GREEN again."""

from __future__ import annotations

import io
import re

import pytest
from PIL import Image

from tests.browser.conftest import SCREENSHOTS
from tests.integration.onboarding_helpers import META_APP_ID

pytestmark = pytest.mark.integration
NUMBER = "3339002"


@pytest.fixture
def graph_settings(live_server, fakes):
    """This process's API server speaks to the Graph simulator, with a Meta app id."""
    from settings import get_settings

    env = pytest.MonkeyPatch()
    env.setenv("META_APP_ID", META_APP_ID)
    env.setenv("WHATSAPP_API_BASE_URL", fakes["graph"].url)
    get_settings.cache_clear()
    fakes["graph"].reset()
    fakes["graph"].onboarding.app_id = META_APP_ID
    yield fakes["graph"]
    env.undo()
    get_settings.cache_clear()


def _admin_token(number: str = NUMBER) -> str:
    from persistence.db import session_scope
    from services.merchants.merchant import add_phone_number, create_merchant
    from services.merchants.operator import create_operator

    with session_scope() as session:
        merchant = create_merchant(session, name="Delta Bikes")
        add_phone_number(
            session, merchant_id=merchant.id, phone_number_id=number,
            access_token="EAAG-delta-secret", display_phone_number="15550002222",
        )  # fmt: skip
        return create_operator(session, name="Dora", is_admin=True, merchant_id=merchant.id)[1]


def _sign_in(browser, live_server: str, token: str):
    page = browser.new_context(viewport={"width": 390, "height": 844}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    return page


def _rate(rating: str, number: str) -> None:
    from persistence.db import session_scope
    from persistence.models import PhoneNumber
    from services.merchants.merchant import find_phone_number

    with session_scope() as session:
        phone: PhoneNumber | None = find_phone_number(session, number)
        assert phone is not None
        phone.quality_rating = rating


def test_the_business_profile_form_shows_metas_values_and_saves_on_a_phone(
    browser, live_server, graph_settings, tmp_path
):
    from playwright.sync_api import expect

    graph_settings.business_profiles.profiles[NUMBER] = {
        "about": "Bikes and repairs", "address": "1 Main St", "email": "hi@delta.example",
        "websites": ["https://delta.example"], "vertical": "RETAIL",
        "description": "Since 1990.",
    }  # fmt: skip
    page = _sign_in(browser, live_server, _admin_token())
    page.goto(f"{live_server}/console/settings")
    form = page.locator("form.business-profile")
    expect(form.locator("input[name=about]")).to_have_value("Bikes and repairs")
    expect(form.locator("input[name=address]")).to_have_value("1 Main St")
    expect(form.locator("input[name=website_1]")).to_have_value("https://delta.example")
    expect(form.locator("select[name=vertical]")).to_have_value("RETAIL")

    form.locator("input[name=website_2]").fill("https://shop.delta.example")
    form.locator("textarea[name=description]").fill("Family bike shop since 1990.")
    form.locator("select[name=vertical]").select_option("AUTO")
    form.locator("button:has-text('Update WhatsApp profile')").click()
    expect(page.locator(".flash-ok")).to_contain_text("WhatsApp business profile updated")
    posted = graph_settings.business_profiles.posted[-1]
    assert posted["websites"] == ["https://delta.example", "https://shop.delta.example"]
    assert (posted["vertical"], posted["description"]) == ("AUTO", "Family bike shop since 1990.")
    expect(page.locator("form.business-profile select[name=vertical]")).to_have_value("AUTO")

    # emptied fields are removed at Meta ("" as Meta clears); untouched ones are not sent
    form = page.locator("form.business-profile")
    form.locator("input[name=email]").fill("")
    form.locator("input[name=website_2]").fill("")
    form.locator("button:has-text('Update WhatsApp profile')").click()
    expect(page.locator(".flash-ok")).to_contain_text("WhatsApp business profile updated")
    assert graph_settings.business_profiles.posted[-1] == {
        "messaging_product": "whatsapp", "email": "", "websites": ["https://delta.example"],
    }  # fmt: skip
    expect(page.locator("form.business-profile input[name=email]")).to_have_value("")
    expect(page.locator("form.business-profile input[name=address]")).to_have_value("1 Main St")

    photo = tmp_path / "logo.png"
    Image.new("RGB", (300, 300), (10, 120, 200)).save(photo, format="PNG")
    page.set_input_files("input[name=photo]", str(photo))
    page.click("button:has-text('Upload photo')")
    expect(page.locator(".flash-ok")).to_contain_text("Profile photo updated")
    assert page.locator(".profile-photo img").get_attribute("src").startswith(
        "https://pps.whatsapp.net/"
    )
    expect(page.locator("body")).not_to_contain_text("EAAG-delta-secret")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the page scrolls sideways: {width}px"
    page.screenshot(path=str(SCREENSHOTS / "business-profile-phone.png"), full_page=True)


def test_a_red_number_is_a_banner_on_every_page_until_it_recovers(
    browser, live_server, graph_settings
):
    from playwright.sync_api import expect

    page = _sign_in(browser, live_server, _admin_token("3339003"))
    expect(page.locator(".quality-warning")).to_have_count(0)
    _rate("RED", "3339003")
    for path in ("/console/inbox", "/console/templates", "/console/settings"):
        page.goto(f"{live_server}{path}")
        expect(page.locator(".quality-warning")).to_contain_text("15550002222")
        expect(page.locator(".quality-warning")).to_contain_text("quality RED")
    page.screenshot(path=str(SCREENSHOTS / "quality-banner-phone.png"), full_page=True)
    _rate("GREEN", "3339003")
    page.goto(f"{live_server}/console/inbox")
    expect(page.locator(".quality-warning")).to_have_count(0)


def test_the_photo_form_refuses_a_file_whatsapp_would_not_take(
    browser, live_server, graph_settings, tmp_path
):
    from playwright.sync_api import expect

    page = _sign_in(browser, live_server, _admin_token("3339004"))
    page.goto(f"{live_server}/console/settings")
    small = tmp_path / "tiny.png"
    out = io.BytesIO()
    Image.new("RGB", (50, 50)).save(out, format="PNG")
    small.write_bytes(out.getvalue())
    page.set_input_files("input[name=photo]", str(small))
    page.click("button:has-text('Upload photo')")
    expect(page.locator(".flash-error")).to_contain_text("at least 192 x 192")
    assert not any("/uploads" in r.path for r in graph_settings.requests)
