"""A reply the owner typed in the WhatsApp Business app, seen in the console in Chromium."""

from __future__ import annotations

import json

import httpx
import pytest

from channels.simulators.webhooks import echo_payload, sign, text_message_payload
from tests.browser.conftest import SCREENSHOTS
from tests.conftest import APP_SECRET

pytestmark = pytest.mark.integration
WAIT_MS = 30_000
PHONE_NUMBER_ID = "777000111222"
OWNER_TEXT = "Hi Ana, Marta here: your parcel left this morning."


def _post(base: str, payload: dict) -> None:
    body = json.dumps(payload).encode()
    headers = {"Content-Type": "application/json", "X-Hub-Signature-256": sign(body, APP_SECRET)}
    assert httpx.post(f"{base}/webhook", content=body, headers=headers).status_code == 200


def _coexisting_number() -> None:
    from persistence.db import session_scope
    from services.merchants.merchant import add_phone_number, create_merchant

    with session_scope() as session:
        created = create_merchant(session, name="Marta's Shoes")
        add_phone_number(
            session, merchant_id=created.id, phone_number_id=PHONE_NUMBER_ID,
            access_token="EAAG-coexistence", display_phone_number="15550002222",
        )  # fmt: skip


def test_the_console_thread_shows_a_business_app_message(
    browser, live_server, operator_token, fakes
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    _coexisting_number()
    fakes["gemini"].reply("Let me check your parcel.")
    _post(live_server, text_message_payload(phone_number_id=PHONE_NUMBER_ID, text="my parcel?"))
    _post(live_server, echo_payload(phone_number_id=PHONE_NUMBER_ID, text=OWNER_TEXT))

    page = browser.new_context(viewport={"width": 1280, "height": 860}).new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", operator_token)
    page.click("button:has-text('Sign in')")
    row = page.locator(".inbox-row", has_text=OWNER_TEXT)
    expect(row).to_contain_text("Business app")
    row.locator("a").first.click()
    message = page.locator(".msg.author-business_app")
    expect(message).to_contain_text(OWNER_TEXT)
    expect(message.locator(".author")).to_have_text("WhatsApp Business app")
    expect(page.locator("#state")).to_contain_text("Operator: WhatsApp Business app")
    page.screenshot(path=str(SCREENSHOTS / "20-console-business-app-echo.png"), full_page=True)
