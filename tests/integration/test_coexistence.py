"""Coexistence with the WhatsApp Business app, end to end on the real stack: the owner's
replies typed on their phone (`smb_message_echoes`) take the conversation over, the chat
history shared at onboarding is stored without AI turns, and app contacts give names."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import (
    echo_payload,
    history_payload,
    text_message_payload,
)
from persistence.db import session_scope
from persistence.models import Conversation, Customer, DeliveryStatus, Turn
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.helpers import eventually, load_payload, messages_in_db, post_webhook
from tests.integration.console_helpers import login, submit

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
IDLE_SECONDS = 8
OWNER_TEXT = "Hi Ana, this is Marta from the shop: your order ships tomorrow."


@pytest.fixture(scope="module")
def coexistence_stack(servers, tmp_path_factory):
    yield from running_stack(
        servers, tmp_path_factory, "coexistence", OPERATOR_IDLE_SECONDS=str(IDLE_SECONDS)
    )


def _conversation() -> Conversation:
    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


def _echo(client, merchant, text: str = OWNER_TEXT, **extra) -> list[str | None]:
    """Post an echo; the texts of the business app's messages stored since."""
    payload = echo_payload(phone_number_id=merchant["phone_number_id"], text=text, **extra)
    response = post_webhook(client, payload)
    assert response.status_code == 200, response.text
    return [m.text for m in messages_in_db(author="business_app")]


def _customer_says(client, merchant, text: str) -> None:
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text=text)
    assert post_webhook(client, payload).status_code == 200


def test_an_echo_during_a_slow_turn_takes_over_and_the_ai_reply_is_dropped(
    coexistence_stack, client, merchant, fakes
):
    graph, gemini = fakes["graph"], fakes["gemini"]
    gemini.hang(2)
    _customer_says(client, merchant, "when does my order ship?")
    gemini.wait_for_requests(1, timeout=20)  # the AI is thinking now

    assert _echo(client, merchant) == [OWNER_TEXT]
    conversation = _conversation()
    assert conversation.mode == "operator"
    assert conversation.assigned_to == "WhatsApp Business app"
    dropped = eventually(
        lambda: [m for m in messages_in_db(direction="out") if m.status == DeliveryStatus.DROPPED]
    )
    assert dropped[0].author == "ai"
    assert graph.sent == []  # the owner answered from their phone; the AI stays silent

    detail = client.get(f"/api/v1/conversations/{conversation.id}", headers=ADMIN).json()
    (echo,) = [m for m in detail["messages"] if m["author"] == "business_app"]
    assert echo["text"] == OWNER_TEXT and echo["direction"] == "out"
    assert echo["wamid"].startswith("wamid.")
    assert [e["action"] for e in detail["audit"]] == ["takeover"]


def test_an_echo_delivered_twice_is_stored_once(coexistence_stack, client, merchant, fakes):
    _customer_says(client, merchant, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)
    payload = echo_payload(phone_number_id=merchant["phone_number_id"], text=OWNER_TEXT)
    assert post_webhook(client, payload).status_code == 200
    assert [m.text for m in messages_in_db(author="business_app")] == [OWNER_TEXT]
    assert post_webhook(client, payload).status_code == 200
    assert [m.text for m in messages_in_db(author="business_app")] == [OWNER_TEXT]


def test_after_the_idle_timeout_the_ai_answers_knowing_what_the_owner_said(
    coexistence_stack, client, merchant, fakes
):
    graph, gemini = fakes["graph"], fakes["gemini"]
    _customer_says(client, merchant, "hello")
    graph.wait_for_sent(1, timeout=20)
    _echo(client, merchant)
    assert _conversation().mode == "operator"
    _customer_says(client, merchant, "great, thanks")  # recorded silently: the owner has it
    time.sleep(3)
    assert len(graph.sent) == 1

    eventually(lambda: _conversation().mode == "ai", timeout=IDLE_SECONDS + 20)
    (event,) = fakes["events"].wait_for("handed_back")
    assert event["reason"] == "auto_handback"
    graph.wait_for_sent(2, timeout=30)  # the waiting customer is answered after handback
    contents = gemini.requests[-1]["contents"]
    said = [(c["role"], p.get("text", "")) for c in contents for p in c.get("parts", [])]
    owner = [(role, text) for role, text in said if OWNER_TEXT in text]
    assert owner == [("model", f"[Operator (WhatsApp Business app)] {OWNER_TEXT}")]


def test_the_console_thread_shows_the_business_app_message(
    coexistence_stack, client, merchant, fakes
):
    _customer_says(client, merchant, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)
    _echo(client, merchant)
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303
    page = f"/console/conversations/{_conversation().id}"
    messages = client.get(f"{page}/messages").text
    assert OWNER_TEXT.replace("'", "&#39;") in messages
    assert "author-business_app" in messages and "WhatsApp Business app" in messages
    shown = client.get(page).text
    assert "Operator: WhatsApp Business app" in shown
    assert "answering from the WhatsApp Business app" in shown  # and Olga may take it over
    assert submit(client, f"{page}/takeover").status_code == 303
    assert _conversation().assigned_to == "Olga"
    assert 'action="' + page + '/send"' in client.get(page).text


def test_shared_history_is_stored_without_ai_turns(coexistence_stack, client, merchant, fakes):
    payload = history_payload(
        phone_number_id=merchant["phone_number_id"],
        thread=[(False, "Do you have the red sneakers in 42?"), (True, "Yes, we do!")],
    )
    assert post_webhook(client, payload).status_code == 200
    assert len(messages_in_db()) == 2
    assert post_webhook(client, payload).status_code == 200  # the same two again
    time.sleep(3)  # more than the buffer and a sweep
    assert fakes["gemini"].requests == [] and fakes["graph"].sent == []
    stored = messages_in_db()
    assert [(m.direction, m.author, m.text) for m in stored] == [
        ("in", "customer", "Do you have the red sneakers in 42?"),
        ("out", "business_app", "Yes, we do!"),
    ]
    with session_scope() as session:
        (turn,) = session.scalars(select(Turn)).all()
    assert turn.outcome == "imported" and {m.turn_id for m in stored} == {turn.id}
    assert _conversation().mode == "ai"  # history is the past: nobody took anything over


def test_imported_history_is_not_answered_after_a_handback(
    coexistence_stack, client, merchant, fakes
):
    thread = [(True, "Welcome to Acme!"), (False, "Do you open on Sundays?")]
    payload = history_payload(phone_number_id=merchant["phone_number_id"], thread=thread)
    assert post_webhook(client, payload).status_code == 200
    assert len(messages_in_db()) == 2
    ref = {"conversation_id": _conversation().id}
    assert client.post("/api/v1/takeover", headers=ADMIN, json=ref).status_code == 200
    assert client.post("/api/v1/handback", headers=ADMIN, json=ref).status_code == 200
    (event,) = fakes["events"].wait_for("handed_back")
    assert event["answering_now"] is False  # a days-old question is not waiting for the AI
    time.sleep(2)
    assert fakes["gemini"].requests == [] and fakes["graph"].sent == []


def test_app_contacts_name_the_customers(coexistence_stack, client, merchant, fakes):
    payload = load_payload("smb_app_state_sync")
    metadata = payload["entry"][0]["changes"][0]["value"]["metadata"]
    metadata["phone_number_id"] = merchant["phone_number_id"]
    assert post_webhook(client, payload).status_code == 200
    with session_scope() as session:
        customers = session.execute(select(Customer.wa_id, Customer.profile_name)).all()
    assert [tuple(c) for c in customers] == [("16505551234", "Pablo Morales")]
