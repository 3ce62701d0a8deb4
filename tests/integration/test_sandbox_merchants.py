"""The sandbox per merchant (#16, tenancy): a merchant's operator plays customers of their
own merchant on that merchant's own sandbox number, never sees or drives another
merchant's sandbox (404), and platform operators pick the merchant."""

from __future__ import annotations

import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Conversation, Message, PhoneNumber
from services.sandbox import sandbox
from tests.integration import sandbox_helpers

pytestmark = [
    pytest.mark.integration,
    pytest.mark.filterwarnings("ignore:You should not use the 'timeout' argument"),
]
sandbox_app, shops = sandbox_helpers.sandbox_app, sandbox_helpers.shops  # the fixtures
ANA = sandbox.DEFAULT_CUSTOMER.wa_id


_as = sandbox_helpers.signed_in


def _send(client: TestClient, path: str, text: str, **files: tuple) -> int:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/console/inbox").text)
    answer = client.post(
        path, data={"csrf_token": csrf.group(1), "text": text}, files=files or None,
        headers={"Origin": "http://testserver"}, follow_redirects=False,
    )  # fmt: skip
    return answer.status_code


def _merchant_of(text: str) -> int:
    """The merchant whose number received the message with this text."""
    with session_scope() as session:
        message = session.scalars(select(Message).where(Message.text == text)).one()
        conversation = session.get(Conversation, message.conversation_id)
        return session.get(PhoneNumber, conversation.phone_number_id).merchant_id


def test_a_merchants_operator_plays_customers_of_their_own_merchant(sandbox_app, shops):
    client = _as(sandbox_app, shops["a_token"])
    page = client.get("/sandbox")
    assert page.status_code == 200 and "Alpha Bikes" in page.text
    assert "demo Shopify store" not in page.text and 'name="merchant_id"' not in page.text
    sent = _send(client, f"/sandbox/chats/{ANA}/send", "Can you fix a flat tyre?")
    assert sent == 303
    assert _merchant_of("Can you fix a flat tyre?") == shops["a"]
    assert "Can you fix a flat tyre?" in client.get(f"/sandbox/chats/{ANA}/thread").text
    with session_scope() as session:  # its own number, not the demo merchant's
        numbers = session.scalars(select(PhoneNumber.phone_number_id)).all()
    assert numbers == [f"{sandbox.MERCHANT_NUMBER_PREFIX}{shops['a']:08d}"]
    assert client.get("/sandbox").status_code == 200  # opening it again adds nothing
    with session_scope() as session:
        assert len(session.scalars(select(PhoneNumber)).all()) == 1


def test_a_merchants_operator_can_neither_read_nor_post_into_anothers_sandbox(sandbox_app, shops):
    client = _as(sandbox_app, shops["b_token"])
    assert _send(client, f"/sandbox/chats/{ANA}/send", "Beta's secret order") == 303
    client = _as(sandbox_app, shops["a_token"])
    b = shops["b"]
    assert client.get(f"/sandbox?merchant_id={b}").status_code == 404
    assert client.get(f"/sandbox/chats/{ANA}/thread?merchant_id={b}").status_code == 404
    assert _send(client, f"/sandbox/chats/{ANA}/send?merchant_id={b}", "into Beta") == 404
    assert _send(client, f"/sandbox/people?merchant_id={b}", "") == 404
    # their own sandbox shows only their own chats, though the customer ids are the same
    assert "Beta's secret order" not in client.get("/sandbox").text
    assert "Beta's secret order" not in client.get(f"/sandbox/chats/{ANA}/thread").text
    with session_scope() as session:
        assert "into Beta" not in str(session.scalars(select(Message.text)).all())


def test_a_photo_in_one_merchants_sandbox_is_not_served_to_another(sandbox_app, shops):
    client = _as(sandbox_app, shops["b_token"])
    photo = ("tea.jpg", b"\xff\xd8tea-leaves", "image/jpeg")
    assert _send(client, f"/sandbox/chats/{ANA}/send", "this tea", file=photo) == 303
    with session_scope() as session:
        media_id = session.scalars(select(Message.media)).one()["id"]
    assert client.get(f"/sandbox/media/{media_id}").content == b"\xff\xd8tea-leaves"
    client = _as(sandbox_app, shops["a_token"])
    assert client.get(f"/sandbox/media/{media_id}").status_code == 404
    assert client.get(f"/sandbox/media/{media_id}?merchant_id={shops['b']}").status_code == 404


def test_a_platform_operator_picks_the_merchant(sandbox_app, shops):
    client = _as(sandbox_app, shops["platform"])
    demo = client.get("/sandbox")
    assert "Sandbox Running Co." in demo.text and 'name="merchant_id"' in demo.text
    assert "Alpha Bikes" in demo.text  # in the picker
    picked = client.get(f"/sandbox?merchant_id={shops['b']}")
    assert picked.status_code == 200 and "you play people writing to" in picked.text
    assert re.search(rf'<option value="{shops["b"]}" selected>Beta Teas', picked.text)
    path = f"/sandbox/chats/{ANA}/send?merchant_id={shops['b']}"
    assert _send(client, path, "Green tea please") == 303
    assert _merchant_of("Green tea please") == shops["b"]
    assert client.get("/sandbox?merchant_id=999999").status_code == 404
