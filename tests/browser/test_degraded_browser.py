"""Degraded mode in Chromium: with every LLM provider failing, a customer's FAQ question in
the sandbox gets the knowledge base's answer, which the console labels as an automatic
answer and its stats page does not count as the AI's."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.integration
WAIT_MS = 30_000


def _faq() -> None:
    from persistence.db import session_scope
    from services.knowledge import knowledge
    from services.sandbox.sandbox import ensure_sandbox

    with session_scope() as session:
        number = ensure_sandbox(session)
        knowledge.create_document(
            session, merchant_id=number.merchant_id, category="faq", language="en",
            title="What are your opening hours?",
            content="We are open **Monday to Friday**, 9:00 to 18:00.",
        )  # fmt: skip


def test_an_automatic_answer_in_the_sandbox_console_and_stats(
    browser, live_server, operator_token, fakes
):
    from playwright.sync_api import expect

    expect.set_options(timeout=WAIT_MS)
    _faq()
    fakes["gemini"].fail(503, times=100)
    fakes["openai"].fail(500, times=100)
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    page = context.new_page()
    page.goto(f"{live_server}/console")
    page.fill("#token", operator_token)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r"/console/inbox"))

    page.goto(f"{live_server}/sandbox")
    page.fill("#wa-text", "Hello! What are your opening hours?")
    page.press("#wa-text", "Enter")
    expect(page.locator(".wa-bubble.theirs").last).to_contain_text("Monday to Friday")

    page.goto(f"{live_server}/console/inbox")
    row = page.locator(".inbox-row").first
    expect(row).to_contain_text("Automatic answer")
    expect(row).to_contain_text("+15550100001")
    row.locator("a").click()
    answer = page.locator(".msg.author-auto_answer")
    expect(answer.locator(".author")).to_contain_text("Automatic answer")
    expect(answer).to_contain_text("Monday to Friday")
    page.screenshot(path=str(SCREENSHOTS / "30-console-automatic-answer.png"), full_page=True)

    page.goto(f"{live_server}/console/stats")
    expect(page.locator('[data-share="day"] [data-kind="auto_answer"]')).to_have_text("1")
    expect(page.locator('[data-share="day"] [data-kind="ai"]')).to_have_text("0")
    expect(page.locator(".figures")).to_contain_text("0% answered by the AI")
    page.screenshot(path=str(SCREENSHOTS / "31-console-stats-by-kind.png"), full_page=True)
    context.close()
