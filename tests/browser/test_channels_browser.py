"""Three channels in Chromium (#15): a person plays a WhatsApp, a Twilio and an Instagram
customer in the sandbox; the operator's inbox badges each conversation with its channel and
filters by channel."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS, signed_in_page

pytestmark = pytest.mark.integration
WAIT_MS = 30_000


def test_the_inbox_shows_and_filters_channels_played_in_the_sandbox(
    browser, live_server, operator_token, fakes
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    fakes["gemini"].reply("Hello Ana!")
    fakes["gemini"].reply("Hello Tom!")
    fakes["gemini"].reply("Hello Ivy!")
    phone = signed_in_page(browser, live_server, operator_token)
    for chat, text, reply in (
        ("15550100001", "hi on WhatsApp", "Hello Ana!"),
        ("15550100002", "hi on Twilio", "Hello Tom!"),
        ("6100000000000001", "hi on Instagram", "Hello Ivy!"),
    ):
        phone.goto(f"{live_server}/sandbox?chat={chat}")
        phone.fill("#wa-text", text)
        phone.press("#wa-text", "Enter")
        expect(phone.locator(".wa-bubble.theirs").last).to_contain_text(reply)

    console = signed_in_page(browser, live_server, operator_token)
    rows = console.locator(".inbox-row")
    expect(rows).to_have_count(3)
    badges = console.locator(".inbox-row .badge.channel")
    expect(badges).to_have_text(["Instagram", "Twilio", "WhatsApp"])  # the latest first
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    console.screenshot(path=str(SCREENSHOTS / "channels-inbox.png"), full_page=True)

    console.select_option("#channel", "twilio_whatsapp")
    console.click("button:has-text('Search')")
    console.wait_for_url(re.compile(r"channel=twilio_whatsapp"))
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Tom via Twilio")
    expect(rows.first).to_contain_text("Hello Tom!")
    expect(console.locator("#channel")).to_have_value("twilio_whatsapp")
    # the live poll keeps the filter: the row is still alone after a refresh of the list
    console.wait_for_timeout(3500)
    expect(rows).to_have_count(1)
    console.click(".tab-ai")  # another view keeps the channel
    expect(console).to_have_url(re.compile(r"view=ai.*channel=twilio_whatsapp"))
    expect(rows).to_have_count(1)
