"""Options in the browser: the AI's reply buttons reach the sandbox phone and show in the
console; an operator adds options to a message from the console's composer."""

from __future__ import annotations

import pytest

from tests.browser.test_console_browser import _expect, _shot, _signed_in

pytestmark = pytest.mark.integration


def test_options_from_the_ai_and_from_an_operator(browser, live_server, operator_token, fakes):
    expect = _expect()
    offer = {"text": "Which size would you like?", "options": ["Size 41", "Size 42"]}
    fakes["gemini"].call_tool("reply_with_options", offer).empty()
    laptop = {"viewport": {"width": 1280, "height": 860}}
    console = _signed_in(browser, live_server, operator_token, **laptop)
    phone = _signed_in(browser, live_server, operator_token, **laptop)

    # The AI offers reply buttons: the customer's phone shows them under its message.
    phone.goto(f"{live_server}/sandbox")
    phone.fill("#wa-text", "I want the trail shoes")
    phone.press("#wa-text", "Enter")
    offered = phone.locator(".wa-bubble.theirs").last
    expect(offered).to_contain_text("Which size would you like?")
    expect(offered.locator(".wa-buttons")).to_contain_text("Size 42")

    # The console shows what was offered, under the AI's message.
    row = console.locator(".inbox-row").first
    expect(row).to_be_visible()
    row.locator("a").click()
    expect(console.locator(".msg.author-ai ul.offer")).to_contain_text("Size 41")
    _shot(console, "30-console-ai-offer")

    # The operator takes over and asks with options of their own.
    console.click("button:has-text('Take over')")
    expect(console.locator("#text")).to_be_visible()
    console.fill("#text", "Shall I reserve a pair for you?")
    console.click("details.options-field summary")
    console.fill("#options", "Yes please\nNo thanks")
    console.click("form.send button[type=submit]")
    mine = console.locator(".msg.author-operator ul.offer").last
    expect(mine).to_contain_text("No thanks")
    reply = phone.locator(".wa-bubble.theirs").last
    expect(reply).to_contain_text("Shall I reserve a pair for you?")
    expect(reply.locator(".wa-buttons")).to_contain_text("Yes please")
    _shot(phone, "31-sandbox-operator-options")
