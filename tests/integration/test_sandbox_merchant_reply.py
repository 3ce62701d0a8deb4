"""A merchant's sandbox end to end (#16, tenancy): the whole system (API on a port, a real
Celery worker) with the sandbox on; merchant A's operator writes as a customer in the
sandbox and the reply comes back on A's sandbox number, from a turn that ran with A's AI
profile and searched A's knowledge only (merchant B has a document on the same subject)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from tests.helpers import eventually
from tests.integration import sandbox_helpers
from tests.integration.console_helpers import CSRF, login

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def live(servers, fakes, tmp_path_factory) -> Iterator[str]:
    yield from sandbox_helpers.live_sandbox(servers, fakes, tmp_path_factory, "sandbox-reply")


def _two_merchants() -> tuple[int, str]:
    """Alpha (with an operator, whose token is returned) and Beta, each with a document
    about punctures."""
    from persistence.db import session_scope
    from services.merchants.merchant import create_merchant
    from services.merchants.operator import create_operator
    from tests.factories import make_document

    with session_scope() as session:
        alpha = create_merchant(session, name="Alpha Bikes", description="Bike repairs in Porto.")
        beta = create_merchant(session, name="Beta Teas", description="Green tea from Shizuoka.")
        make_document(
            session, merchant_id=alpha.id, title="Puncture repair",
            content="A puncture repair costs 15 euros and takes one hour.",
        )  # fmt: skip
        make_document(
            session, merchant_id=beta.id, title="Puncture tea",
            content="Our puncture-proof tea tins cost 3 euros.",
        )  # fmt: skip
        _, token = create_operator(session, name="Ann", merchant_id=alpha.id)
        return alpha.id, token


def test_the_sandbox_reply_comes_from_the_operators_own_merchant(live, fakes):
    from persistence.db import session_scope
    from persistence.models import PhoneNumber
    from services.sandbox import sandbox

    alpha, token = _two_merchants()
    gemini = fakes["gemini"]
    gemini.call_tool("search_knowledge_base", {"query": "puncture repair price"})
    gemini.reply("A puncture repair is 15 euros, done in an hour.")
    ana = sandbox.DEFAULT_CUSTOMER.wa_id
    with httpx.Client(base_url=live, timeout=30) as client:
        assert login(client, token).status_code == 303
        page = client.get("/sandbox")
        assert page.status_code == 200 and "Alpha Bikes" in page.text
        sent = client.post(
            f"/sandbox/chats/{ana}/send",
            data={"csrf_token": CSRF.search(page.text).group(1), "text": "How much for a flat?"},
            headers={"Origin": live}, follow_redirects=True,
        )  # fmt: skip
        assert sent.status_code == 200 and "How much for a flat?" in sent.text
        thread = f"/sandbox/chats/{ana}/thread"
        eventually(lambda: "A puncture repair is 15 euros" in client.get(thread).text, timeout=120)
    first, second = gemini.wait_for_requests(2, timeout=10)[:2]
    system = gemini.system_text(first)
    assert "Alpha Bikes" in system and "Bike repairs in Porto." in system
    assert "Beta Teas" not in system
    [found] = gemini.tool_outputs(second)
    assert "15 euros" in found and "tea tins" not in json.dumps(found)
    with session_scope() as session:
        [number] = session.scalars(select(PhoneNumber)).all()  # Alpha's own sandbox number
        assert number.merchant_id == alpha
        assert re.fullmatch(rf"{sandbox.MERCHANT_NUMBER_PREFIX}0*{alpha}", number.phone_number_id)
