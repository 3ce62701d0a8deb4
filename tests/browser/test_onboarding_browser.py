"""Connect WhatsApp in Chromium: our script drives Meta's Embedded Signup and posts its
result. Meta's SDK cannot load here, so Playwright serves a stand-in at its URL whose
FB.login answers a code, and a frame on https://www.facebook.com posts the
WA_EMBEDDED_SIGNUP message as Meta's window does; the server side is the real one, against
the Graph simulator."""

from __future__ import annotations

import json
import re

import pytest

from tests.browser.conftest import SCREENSHOTS
from tests.conftest import ADMIN_TOKEN
from tests.integration.onboarding_helpers import (
    CONFIG_ID,
    META_APP_ID,
    META_APP_SECRET,
    NEW_NUMBER,
    NEW_TOKEN,
    WABA_ID,
)

pytestmark = pytest.mark.integration
WAIT_MS = 30_000
FAKE_SDK = """
window.FB = {
  init: function (options) { window.fbInitOptions = options; },
  login: function (callback, options) {
    window.fbLoginOptions = options;
    var frame = document.createElement("iframe");
    frame.src = "https://www.facebook.com/embedded-signup-finish";
    frame.style.display = "none";
    document.body.appendChild(frame);
    callback({authResponse: {code: "%s"}});
  }
};
if (window.fbAsyncInit) window.fbAsyncInit();
"""
FINISH = {"type": "WA_EMBEDDED_SIGNUP", "event": "FINISH",
          "data": {"phone_number_id": NEW_NUMBER, "waba_id": WABA_ID}}  # fmt: skip


@pytest.fixture
def signup_settings(live_server, fakes):
    """Embedded Signup on, for the API server running in this process, against the Graph
    simulator."""
    from settings import get_settings

    env = pytest.MonkeyPatch()
    settings = {
        "META_APP_ID": META_APP_ID, "META_APP_SECRET": META_APP_SECRET,
        "META_EMBEDDED_SIGNUP_CONFIG_ID": CONFIG_ID,
        "WHATSAPP_API_BASE_URL": fakes["graph"].url,
    }  # fmt: skip
    for key, value in settings.items():
        env.setenv(key, value)
    get_settings.cache_clear()
    fakes["graph"].reset()
    fakes["graph"].onboarding.app_id = META_APP_ID
    fakes["graph"].onboarding.app_secret = META_APP_SECRET
    yield
    env.undo()
    get_settings.cache_clear()


@pytest.mark.usefixtures("signup_settings")
def test_embedded_signup_in_the_console_connects_the_number(browser, live_server, fakes):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    graph = fakes["graph"]
    graph.onboarding.add_number(NEW_NUMBER, verified_name="Sunrise Bakery")
    code = graph.onboarding.issue_code(NEW_TOKEN)
    context = browser.new_context(viewport={"width": 390, "height": 844})
    context.route(
        "https://connect.facebook.net/**",
        lambda route: route.fulfill(content_type="text/javascript", body=FAKE_SDK % code),
    )
    context.route(
        "https://www.facebook.com/**",
        lambda route: route.fulfill(
            content_type="text/html",
            body=f"<script>parent.postMessage({json.dumps(json.dumps(FINISH))}, '*')</script>",
        ),
    )
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(f"{live_server}/console")
    page.fill("#token", ADMIN_TOKEN)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))
    page.click("a:has-text('Connect WhatsApp')")
    page.wait_for_url(re.compile(r"/console/settings/whatsapp"))
    button = page.locator("#signup-start")
    expect(button).to_be_enabled()
    assert page.evaluate("window.fbInitOptions.appId") == META_APP_ID

    button.click()
    expect(page.locator("#signup-status")).to_contain_text("Connected", timeout=WAIT_MS)
    expect(page.locator("#signup-status")).to_contain_text("Sunrise Bakery")
    expect(page.locator("#signup-steps li")).to_have_count(6)
    options = page.evaluate("window.fbLoginOptions")
    assert options["config_id"] == CONFIG_ID and options["response_type"] == "code"
    assert options["override_default_response_type"] is True
    assert options["extras"] == {"setup": {}, "featureType": "", "sessionInfoVersion": "3"}
    page.screenshot(path=str(SCREENSHOTS / "40-console-connect-whatsapp.png"), full_page=True)
    page.reload()
    expect(page.locator(f'[data-onboarding="{NEW_NUMBER}"]')).to_contain_text("done")
    assert page.evaluate("document.documentElement.scrollWidth") <= 390  # fits a phone
    assert graph.onboarding.calls.count("exchange") == 1 and errors == []
    context.close()
