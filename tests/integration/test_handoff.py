"""Takeover, operator messages and handback on the real stack."""

from __future__ import annotations

import hashlib
import hmac
import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, DeliveryStatus
from services.handoff.handoff import HOLDING_TEXT
from tests.conftest import ADMIN_TOKEN, EVENTS_SECRET
from tests.helpers import eventually, messages_in_db, post_webhook

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture
def operator(client, merchant) -> dict:  # an operator of the merchant (the default one)
    response = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"})
    assert response.status_code == 201
    body = response.json()
    return {**body, "headers": {"Authorization": f"Bearer {body['token']}"}}


def _answered_conversation(client, merchant, fakes, text: str = "hello") -> int:
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text=text)
    )
    fakes["graph"].wait_for_sent(1, timeout=20)
    with session_scope() as session:
        return session.scalars(select(Conversation.id)).one()


def _conversation(conversation_id: int) -> Conversation:
    with session_scope() as session:
        return session.get(Conversation, conversation_id)


def test_after_takeover_customer_messages_get_no_ai_reply(stack, client, merchant, fakes, operator):
    conversation_id = _answered_conversation(client, merchant, fakes)
    taken = client.post(
        "/api/v1/takeover", headers=operator["headers"], json={"conversation_id": conversation_id}
    )
    assert taken.status_code == 200
    assert taken.json()["mode"] == "operator" and taken.json()["assigned_to"] == "Olga"
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="hello?")
    )
    received = fakes["events"].wait_for("message_received")
    assert received[0]["text"] == "hello?" and received[0]["operator"] == "Olga"
    eventually(_silent_turn_finished)  # an AI reply would have been sent before it finished
    assert len(fakes["gemini"].requests) == 1 and len(fakes["graph"].sent) == 1
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=operator["headers"])
    assert [m["text"] for m in detail.json()["messages"] if m["direction"] == "in"] == [
        "hello", "hello?",
    ]  # fmt: skip
    assert [e["action"] for e in detail.json()["audit"]] == ["takeover"]


def test_a_takeover_during_a_turn_drops_the_ai_reply(stack, client, merchant, fakes, operator):
    fakes["gemini"].delay = 3
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    fakes["gemini"].wait_for_requests(1, timeout=20)  # the AI is thinking now
    response = client.post(
        "/api/v1/takeover",
        headers=operator["headers"],
        json={"customer": "15551234567", "phone_number_id": merchant["phone_number_id"]},
    )
    assert response.status_code == 200
    dropped = eventually(
        lambda: [m for m in messages_in_db(direction="out") if m.status == DeliveryStatus.DROPPED]
    )
    assert dropped[0].author == "ai"
    assert fakes["graph"].sent == []


def test_operator_messages_reach_the_customer_and_the_ai_after_handback(
    stack, client, merchant, fakes, operator
):
    conversation_id = _answered_conversation(client, merchant, fakes)
    ref = {"conversation_id": conversation_id}
    client.post("/api/v1/takeover", headers=operator["headers"], json=ref)
    sent = client.post(
        "/api/v1/operator-message",
        headers=operator["headers"],
        json={**ref, "text": "Your order #123 ships tomorrow."},
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["author"] == "operator"
    assert sent.json()["message"]["status"] == "accepted"
    assert fakes["graph"].sent[-1]["text"]["body"] == "Your order #123 ships tomorrow."
    back = client.post("/api/v1/handback", headers=operator["headers"], json=ref)
    assert back.status_code == 200 and back.json()["mode"] == "ai"
    time.sleep(1.5)
    assert len(fakes["gemini"].requests) == 1  # nothing was waiting: the AI stays quiet
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="thanks!")
    )
    fakes["graph"].wait_for_sent(3, timeout=20)
    request = fakes["gemini"].requests[-1]
    assert "Your order #123 ships tomorrow." in str(request["contents"])
    assert "[Operator Olga]" in str(request["contents"])


def _silent_turn_finished() -> bool:
    """The customer's latest message was taken by a turn that has finished."""
    from persistence.models import Turn

    latest = messages_in_db(direction="in")[-1]
    if latest.turn_id is None:
        return False
    with session_scope() as session:
        return session.get(Turn, latest.turn_id).finished_at is not None


def test_handback_answers_the_waiting_customer_with_the_note(
    stack, client, merchant, fakes, operator
):
    conversation_id = _answered_conversation(client, merchant, fakes)
    ref = {"conversation_id": conversation_id}
    client.post("/api/v1/takeover", headers=operator["headers"], json=ref)
    post_webhook(
        client,
        text_message_payload(phone_number_id=merchant["phone_number_id"], text="when do you open?"),
    )
    fakes["events"].wait_for("message_received")
    eventually(_silent_turn_finished)  # a sleep here raced the turn on a loaded machine
    fakes["gemini"].reply("We open at 9.")
    back = client.post(
        "/api/v1/handback",
        headers=operator["headers"],
        json={**ref, "note": "Store hours are 9 to 18."},
    )
    assert back.status_code == 200
    sent = fakes["graph"].wait_for_sent(2, timeout=20)
    assert sent[-1]["text"]["body"] == "We open at 9."
    request = fakes["gemini"].requests[-1]
    assert "when do you open?" in str(request["contents"])
    # the note travels in the system prompt, where no customer can write
    assert "Store hours are 9 to 18." not in str(request["contents"])
    assert "Store hours are 9 to 18." in fakes["gemini"].system_text(request)
    handed = fakes["events"].wait_for("handed_back")
    assert handed[0]["answering_now"] is True


def test_operator_api_errors_say_what_to_do(client, merchant, operator, fakes):
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    with session_scope() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    ref = {"conversation_id": conversation_id}
    assert client.post("/api/v1/takeover", json=ref).status_code == 401
    bad_token = {"Authorization": "Bearer sbo_not-a-token"}
    assert client.post("/api/v1/takeover", headers=bad_token, json=ref).status_code == 401
    missing = client.post(
        "/api/v1/takeover", headers=operator["headers"], json={"conversation_id": 999}
    )
    assert missing.status_code == 404
    unknown = client.post("/api/v1/takeover", headers=operator["headers"], json={"customer": "999"})
    assert unknown.status_code == 404
    early = client.post(
        "/api/v1/operator-message", headers=operator["headers"], json={**ref, "text": "hi"}
    )
    assert early.status_code == 409 and "take it over first" in early.json()["detail"]
    nothing = client.post("/api/v1/handback", headers=operator["headers"], json=ref)
    assert nothing.status_code == 409 and "already with the AI" in nothing.json()["detail"]
    assert client.post("/api/v1/takeover", headers=operator["headers"], json=ref).status_code == 200
    again = client.post("/api/v1/takeover", headers=operator["headers"], json=ref)
    assert again.status_code == 200  # idempotent for the same operator
    other = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Pia"}).json()
    taken = client.post(
        "/api/v1/takeover", headers={"Authorization": f"Bearer {other['token']}"}, json=ref
    )
    assert taken.status_code == 409 and "Olga" in taken.json()["detail"]
    assert client.post("/api/v1/takeover", headers=operator["headers"], json={}).status_code == 422


def test_outside_the_24_hour_window_operator_messages_are_parked(client, merchant, operator):
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    with session_scope() as session:
        session.execute(
            update(Conversation).values(last_inbound_at=datetime.now(UTC) - timedelta(hours=25))
        )
        conversation_id = session.scalars(select(Conversation.id)).one()
    ref = {"conversation_id": conversation_id}
    client.post("/api/v1/takeover", headers=operator["headers"], json=ref)
    parked = client.post(
        "/api/v1/operator-message", headers=operator["headers"], json={**ref, "text": "hi"}
    )
    assert parked.status_code == 202 and parked.json()["message"]["status"] == "parked"


def test_a_revoked_operator_token_stops_working(client, operator):
    assert client.get("/api/v1/conversations", headers=operator["headers"]).status_code == 200
    listed = client.get("/api/v1/operators", headers=ADMIN).json()
    assert "token" not in listed[0] and listed[0]["name"] == "Olga"
    revoked = client.post(f"/api/v1/operators/{operator['id']}/revoke", headers=ADMIN)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert client.get("/api/v1/conversations", headers=operator["headers"]).status_code == 401


def test_operators_cannot_create_operators_but_admin_operators_can(client, operator):
    refused = client.post("/api/v1/operators", headers=operator["headers"], json={"name": "X"})
    assert refused.status_code == 403
    boss = client.post("/api/v1/operators", headers=ADMIN, json={"name": "B", "is_admin": True})
    boss_headers = {"Authorization": f"Bearer {boss.json()['token']}"}
    assert (
        client.post("/api/v1/operators", headers=boss_headers, json={"name": "Y"}).status_code
        == 201
    )


def test_events_are_signed_and_retried(stack, client, merchant, fakes, operator):
    conversation_id = _answered_conversation(client, merchant, fakes)
    fakes["events"].fail_next(1)
    client.post(
        "/api/v1/takeover", headers=operator["headers"], json={"conversation_id": conversation_id}
    )
    # one 503, then the retry with backoff
    first, event = fakes["events"].wait_for("taken_over", count=2, timeout=30)
    assert first == event  # the same event (same id) delivered again
    attempts = [r for r in fakes["events"].received if r.json()["type"] == "taken_over"]
    assert len(attempts) == 2
    from persistence.models import OutgoingEvent

    def delivered() -> OutgoingEvent | None:
        with session_scope() as session:
            stored = session.get(OutgoingEvent, event["id"])
            return stored if stored.delivered_at else None

    assert eventually(delivered).attempts == 2
    request = attempts[-1]
    expected = (
        "sha256=" + hmac.new(EVENTS_SECRET.encode(), request.body, hashlib.sha256).hexdigest()
    )
    assert request.headers["x-switchboard-signature-256"] == expected
    assert request.headers["x-switchboard-event"] == "taken_over"
    assert event["conversation_id"] == conversation_id and event["operator"] == "Olga"


def test_concurrent_takeovers_and_handbacks_leave_a_consistent_state(
    stack, client, merchant, operator
):
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    with session_scope() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    ref = {"conversation_id": conversation_id}
    statuses: list[int] = []

    def call(path: str) -> None:
        statuses.append(client.post(path, headers=operator["headers"], json=ref).status_code)

    threads = [
        threading.Thread(target=call, args=("/api/v1/takeover" if i % 2 else "/api/v1/handback",))
        for i in range(20)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert set(statuses) <= {200, 409}
    detail = client.get(
        f"/api/v1/conversations/{conversation_id}", headers=operator["headers"]
    ).json()
    actions = [e["action"] for e in detail["audit"]]
    # the trail alternates, starting with a takeover, and the mode matches its last entry
    assert all(a != b for a, b in zip(actions, actions[1:], strict=False))
    assert not actions or actions[0] == "takeover"
    assert detail["mode"] == ("operator" if actions and actions[-1] == "takeover" else "ai")
    # the events, turns and retries these left in flight must not run into the next test's
    # wipe (it empties Redis under the worker, and its sends and events went missing)
    stack.wait_idle()


def test_after_the_ai_asks_for_a_person_it_stays_quiet(stack, client, merchant, fakes):
    fakes["gemini"].call_tool("request_intervention", {"reason": "Refund request"})
    fakes["gemini"].reply("A colleague will follow up here.")
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    fakes["graph"].wait_for_sent(1, timeout=20)
    (event,) = fakes["events"].wait_for("needs_human")
    assert event["reason"] == "Refund request"
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="??")
    )
    eventually(_silent_turn_finished)  # a reply would have been sent before it finished
    assert len(fakes["graph"].sent) == 1 and len(fakes["gemini"].requests) == 2
    assert len(messages_in_db(direction="in")) == 2


def _served_by_olga(client, merchant, fakes, operator, conversation_id: int) -> dict:
    """Olga takes over, answers, and the customer writes back while she has it."""
    ref = {"conversation_id": conversation_id}
    client.post("/api/v1/takeover", headers=operator["headers"], json=ref)
    answer = {**ref, "text": "Olga here: your refund is on its way."}
    assert client.post("/api/v1/operator-message", headers=operator["headers"], json=answer)
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="thanks!")
    )
    fakes["events"].wait_for("message_received")
    eventually(lambda: all(m.turn_id for m in messages_in_db(direction="in")))  # silent turn
    return ref


def _customer_texts(fakes) -> list[str]:
    return fakes["graph"].texts_to("15551234567")


def test_handback_while_the_llm_fails_leaves_the_customer_to_a_person(
    stack, client, merchant, fakes, operator
):
    for name in ("gemini", "openai"):
        fakes[name].fail(503, times=50)
    conversation_id = _answered_conversation(client, merchant, fakes)  # the holding message
    asked = len(fakes["gemini"].requests)
    ref = _served_by_olga(client, merchant, fakes, operator, conversation_id)
    back = client.post("/api/v1/handback", headers=operator["headers"], json=ref)
    assert back.status_code == 200 and back.json()["mode"] == "ai"
    assert back.json()["needs_human"]
    assert "providers are failing" in back.json()["needs_human_reason"]
    post_webhook(
        client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="hello?")
    )
    eventually(_silent_turn_finished)  # anything sent would have been sent before it finished
    assert _customer_texts(fakes) == [HOLDING_TEXT, "Olga here: your refund is on its way."]
    assert len(fakes["gemini"].requests) == asked  # nothing asked of the failing AI
    assert _conversation(conversation_id).needs_human


def test_handback_without_an_llm_key_sends_nothing_to_the_customer(
    stack, client, merchant, fakes, operator, monkeypatch
):
    from settings import get_settings

    conversation_id = _answered_conversation(client, merchant, fakes)  # the worker has a key
    ref = _served_by_olga(client, merchant, fakes, operator, conversation_id)
    for key in ("GOOGLE_API_KEY", "OPENAI_API_KEY"):
        monkeypatch.setenv(key, "")  # this API process has no LLM
    get_settings.cache_clear()
    try:
        back = client.post("/api/v1/handback", headers=operator["headers"], json=ref)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    assert back.status_code == 200 and back.json()["needs_human"]
    assert "no LLM is configured" in back.json()["needs_human_reason"]
    time.sleep(3)
    assert len(fakes["graph"].sent) == 2  # the AI's first answer and Olga's
    assert len(fakes["gemini"].requests) == 1
    handed = fakes["events"].wait_for("handed_back")
    assert handed[0]["answering_now"] is False


def test_an_ai_failing_after_handback_sends_no_holding_message(
    stack, client, merchant, fakes, operator
):
    conversation_id = _answered_conversation(client, merchant, fakes)  # the AI worked then
    ref = _served_by_olga(client, merchant, fakes, operator, conversation_id)
    for name in ("gemini", "openai"):
        fakes[name].fail(503, times=50)
    back = client.post("/api/v1/handback", headers=operator["headers"], json=ref)
    assert back.status_code == 200 and not back.json()["needs_human"]  # answering "thanks!"
    eventually(lambda: _conversation(conversation_id).needs_human, timeout=30)
    time.sleep(1)
    assert len(fakes["graph"].sent) == 2  # no "technical problem" after Olga's answer
    assert fakes["graph"].sent[-1]["text"]["body"] == "Olga here: your refund is on its way."
