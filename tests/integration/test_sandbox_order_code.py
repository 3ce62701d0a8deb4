"""The demo store's order looked up by email in the sandbox, end to end (#14): the whole
system (API on a port, a real Celery worker, no SMTP) with the sandbox on; Ana asks for
order #1001 (placed from another phone) with its email, the one-time code shows on the
sandbox's Mail page, and echoing it back discloses the order."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest

from tests.helpers import eventually
from tests.integration import sandbox_helpers
from tests.integration.console_helpers import CSRF, login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(servers, fakes, tmp_path_factory) -> Iterator[str]:
    yield from sandbox_helpers.live_sandbox(servers, fakes, tmp_path_factory, "sandbox-order-code")


def _platform_operator() -> str:
    from persistence.db import session_scope
    from services.merchants.operator import create_operator

    with session_scope() as session:
        return create_operator(session, name="Pat")[1]


def _say(client: httpx.Client, live: str, text: str, expected_reply: str) -> None:
    from services.sandbox import sandbox

    ana = sandbox.DEFAULT_CUSTOMER.wa_id
    page = client.get("/sandbox")
    sent = client.post(
        f"/sandbox/chats/{ana}/send",
        data={"csrf_token": CSRF.search(page.text).group(1), "text": text},
        headers={"Origin": live}, follow_redirects=True,
    )  # fmt: skip
    assert sent.status_code == 200 and text in sent.text
    thread = f"/sandbox/chats/{ana}/thread"
    eventually(lambda: expected_reply in client.get(thread).text, timeout=120)


def test_the_code_for_the_demo_order_shows_in_the_sandbox_mail(live, fakes):
    from services.sandbox.demo_store import DEMO_ORDER_EMAIL

    gemini = fakes["gemini"]
    asked = {"order_number": "#1001", "email": DEMO_ORDER_EMAIL}
    gemini.call_tool("lookup_order", asked)
    gemini.reply("I sent a code to your email. Please write it here.")
    with httpx.Client(base_url=live, timeout=30) as client:
        assert login(client, _platform_operator()).status_code == 303
        assert "No mail yet" in client.get("/sandbox/mail").text
        _say(client, live, f"where is order #1001? my email is {DEMO_ORDER_EMAIL}",
             "I sent a code to your email.")  # fmt: skip
        outputs = gemini.tool_outputs(gemini.wait_for_requests(2, timeout=30)[1])
        assert "a 6-digit code has just been sent" in outputs[-1] and "JD0146" not in outputs[-1]
        mail = client.get("/sandbox/mail").text
        assert DEMO_ORDER_EMAIL in mail and "Sandbox Running Co.: your code" in mail
        code = re.search(r"your code (\d{6})", mail).group(1)

        gemini.reset()
        gemini.call_tool("lookup_order", {**asked, "code": code})
        gemini.reply("Your order #1001 is on its way with DHL Express.")
        _say(client, live, f"the code is {code}", "Your order #1001 is on its way")
    found = gemini.tool_outputs(gemini.wait_for_requests(2, timeout=30)[1])[-1]
    assert "JD014600003828" in found and "Cloudrunner Road Running Shoes" in found
