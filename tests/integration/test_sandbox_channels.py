"""The sandbox plays a Twilio and an Instagram customer too (#15), on the whole system: the
API on a port (so the workers can reach the sandbox's fakes of Twilio and Instagram), a
Celery worker, and the scripted LLM. What the person types goes through /webhooks/twilio
or /webhooks/instagram signed as the provider signs; the AI's reply shows up in the chat."""

from __future__ import annotations

import re
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Conversation, Customer, Message, PhoneNumber
from services.merchants.operator import create_operator
from services.sandbox.channels import (
    INSTAGRAM_ACCOUNT_ID,
    INSTAGRAM_CUSTOMER,
    TWILIO_CUSTOMER,
    TWILIO_SENDER,
)
from tests.browser.conftest import sandbox_system
from tests.conftest import wipe
from tests.helpers import eventually
from tests.integration.console_helpers import CSRF, login

pytestmark = pytest.mark.integration
TOM, IVY = TWILIO_CUSTOMER.wa_id, INSTAGRAM_CUSTOMER.wa_id


@pytest.fixture(scope="module")
def live(servers, tmp_path_factory) -> Iterator[str]:
    """The API on a free port with the sandbox on, and a worker sending through it."""
    with sandbox_system(servers, tmp_path_factory, "sandbox-channels") as base:
        yield base


@pytest.fixture
def person(live, servers, fakes) -> Iterator[httpx.Client]:
    """A signed-in console user on the sandbox page, with everything else empty."""
    wipe(servers)
    for fake in fakes.values():
        fake.reset()
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    with httpx.Client(base_url=live, timeout=30) as client:
        assert login(client, token).status_code == 303
        yield client


def _send(client: httpx.Client, chat: str, text: str) -> None:
    page = client.get(f"/sandbox?chat={chat}")
    assert page.status_code == 200, page.text
    csrf = CSRF.search(page.text).group(1)
    sent = client.post(
        f"/sandbox/chats/{chat}/send", data={"csrf_token": csrf, "text": text},
        headers={"Origin": str(client.base_url).rstrip("/")},
    )  # fmt: skip
    assert sent.status_code == 303, sent.text


def _bubbles(client: httpx.Client, chat: str) -> list[str]:
    thread = client.get(f"/sandbox/chats/{chat}/thread").text
    return re.findall(r'<p class="wa-text">([^<]*)</p>', thread)


def _conversation(customer: str) -> tuple[Conversation, PhoneNumber]:
    with session_scope() as session:
        row = session.execute(
            select(Conversation, PhoneNumber)
            .join(Customer, Customer.id == Conversation.customer_id)
            .join(PhoneNumber, PhoneNumber.id == Conversation.phone_number_id)
            .where((Customer.wa_id == customer) | (Customer.user_id == customer))
        ).one()
        return row[0], row[1]


def test_the_sandbox_offers_a_twilio_and_an_instagram_customer(person):
    page = person.get("/sandbox").text
    assert "Tom via Twilio" in page and "Ivy on Instagram" in page
    chat = person.get(f"/sandbox?chat={IVY}").text
    assert 'data-channel="instagram">Instagram<' in chat


def test_a_twilio_customer_in_the_sandbox_gets_the_ai_reply(person, fakes):
    fakes["gemini"].reply("Hi Tom, through Twilio!")
    _send(person, TOM, "hello from Twilio")
    assert eventually(lambda: "Hi Tom, through Twilio!" in _bubbles(person, TOM), timeout=60)
    assert _bubbles(person, TOM)[0] == "hello from Twilio"
    conversation, account = _conversation(TOM)
    assert (account.type, account.phone_number_id) == ("twilio_whatsapp", TWILIO_SENDER)

    def delivered() -> list[Message]:  # the signed status callbacks reached /webhooks/twilio/status
        with session_scope() as session:
            rows = session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation.id)
                .order_by(Message.id)
            ).all()
            return rows if rows[-1].status == "delivered" else []

    inbound, reply = eventually(delivered, timeout=30)
    assert inbound.wamid.startswith("SM") and inbound.text == "hello from Twilio"
    assert reply.wamid.startswith("SM") and reply.text == "Hi Tom, through Twilio!"
    assert fakes["twilio"].sent == [] and fakes["graph"].sent == []  # nothing left the server


def test_an_instagram_customer_in_the_sandbox_gets_the_ai_reply(person, fakes):
    fakes["gemini"].reply("Hi Ivy, on Instagram!")
    _send(person, IVY, "hello from Instagram")
    assert eventually(lambda: "Hi Ivy, on Instagram!" in _bubbles(person, IVY), timeout=60)
    conversation, account = _conversation(IVY)
    assert (account.type, account.phone_number_id) == ("instagram", INSTAGRAM_ACCOUNT_ID)

    def customer() -> Customer:
        with session_scope() as session:
            found = session.get(Customer, conversation.customer_id)
            assert found is not None
            return found

    assert (customer().user_id, customer().wa_id) == (IVY, None)
    # the sandbox's Instagram answers the User Profile API for its customer
    named = eventually(lambda: customer().profile_name and customer(), timeout=30)
    assert (named.profile_name, named.username) == ("Ivy on Instagram", "ivy.runs")
    assert fakes["instagram"].sent == [] and fakes["graph"].sent == []
    # the WhatsApp customer's chat is untouched by either
    assert _bubbles(person, "15550100001") == []
