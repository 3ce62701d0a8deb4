"""Instagram Direct end to end on the real stack: signed webhooks in, replies out at the
fake Instagram API; echoes from the Instagram app take over; operators answer with the
HUMAN_AGENT tag up to 7 days; staff answering on WhatsApp reach the Instagram customer."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.simulators.instagram import message_event, sign, signed, webhook_body
from channels.simulators.webhooks import message_payload
from persistence.db import session_scope
from persistence.models import Conversation, Customer, Notification
from services.merchants.channel import add_channel
from services.merchants.merchant import add_merchant_user
from tests.conftest import ADMIN_TOKEN, APP_SECRET, INSTAGRAM_APP_SECRET, VERIFY_TOKEN
from tests.helpers import eventually, messages_in_db, post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
ACCOUNT, IG_TOKEN, IGSID = "17841400000000001", "IGAA-test-instagram-token", "6543210987654321"
ALICE = "15550000001"
DAY = 24 * 3600


@pytest.fixture
def instagram(merchant: dict, fakes: dict) -> dict:
    with session_scope() as session:
        account = add_channel(
            session, merchant_id=merchant["id"], type="instagram", external_id=ACCOUNT,
            secret=IG_TOKEN, display_name="@acme.shoes",
        )  # fmt: skip
        session.flush()
        account_id = account.id
    fakes["instagram"].tokens = {ACCOUNT: IG_TOKEN}
    return {**merchant, "instagram_id": account_id}


def _post(client, *events: dict, secret: str = INSTAGRAM_APP_SECRET, signature=None):
    body, headers = signed(webhook_body(ACCOUNT, list(events)), secret=secret, signature=signature)
    return client.post("/webhooks/instagram", content=body, headers=headers)


def _says(client, text: str, **extra) -> dict:
    response = _post(client, message_event(account_id=ACCOUNT, igsid=IGSID, text=text, **extra))
    assert response.status_code == 200, response.text
    return response.json()


def _conversation() -> Conversation:
    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


def _customer() -> Customer:
    with session_scope() as session:
        return session.scalars(select(Customer)).one()


def _wrote(days_ago: float) -> None:
    """The customer last wrote `days_ago` days ago (our record and Instagram's)."""
    with session_scope() as session:
        at = datetime.now(UTC) - timedelta(days=days_ago)
        session.execute(update(Conversation).values(last_inbound_at=at))


def test_a_signed_message_gets_one_ai_reply_on_instagram(stack, client, instagram, fakes):
    ig, gemini = fakes["instagram"], fakes["gemini"]
    ig.add_user(IGSID, name="Ana Lima", username="ana.lima")
    gemini.reply("Hi! Yes, we ship to Spain.")
    assert _says(client, "Do you ship to Spain?") == {"stored": 1, "duplicates": 0, "rejected": 0}

    (sent,) = ig.wait_for_sent(1, timeout=30)
    assert sent["recipient"] == {"id": IGSID} and sent["_account_id"] == ACCOUNT
    assert sent["messaging_type"] == "RESPONSE"
    assert sent["message"] == {"text": "Hi! Yes, we ship to Spain."}
    assert fakes["graph"].sent == []  # nothing went to WhatsApp
    with session_scope() as session:
        customer = session.scalars(select(Customer)).one()
        assert (customer.user_id, customer.wa_id) == (IGSID, None)
    named = eventually(lambda: (c := _customer()).profile_name and c, timeout=30)
    assert (named.profile_name, named.username) == ("Ana Lima", "ana.lima")
    detail = client.get(f"/api/v1/conversations/{_conversation().id}", headers=ADMIN).json()
    out = [m for m in detail["messages"] if m["direction"] == "out"]
    assert [m["wamid"] for m in out] == [sent["_mid"]]


def test_a_forged_signature_is_refused_and_nothing_is_stored(stack, client, instagram, fakes):
    event = message_event(account_id=ACCOUNT, igsid=IGSID, text="hi")
    assert _post(client, event, signature="sha256=" + "0" * 64).status_code == 401
    assert _post(client, event, secret="another-app-secret").status_code == 401
    assert messages_in_db() == []
    not_instagram = client.post(
        "/webhooks/instagram",
        content=b"{}",
        headers={"X-Hub-Signature-256": sign(b"{}", INSTAGRAM_APP_SECRET)},
    )
    assert not_instagram.status_code == 400


def test_a_duplicate_delivery_gets_one_reply(stack, client, instagram, fakes):
    event = message_event(account_id=ACCOUNT, igsid=IGSID, text="Hello!")
    assert _post(client, event).json()["stored"] == 1
    assert _post(client, event).json() == {"stored": 0, "duplicates": 1, "rejected": 0}
    fakes["instagram"].wait_for_sent(1, timeout=30)
    time.sleep(3)  # a second reply would have been sent by now
    assert len(fakes["instagram"].sent) == 1


def test_an_echo_from_the_instagram_app_takes_over_but_our_own_echo_does_not(
    stack, client, instagram, fakes
):
    ig = fakes["instagram"]
    _says(client, "hello")
    (ours,) = ig.wait_for_sent(1, timeout=30)
    own_echo = message_event(
        account_id=ACCOUNT, igsid=IGSID, text=ours["message"]["text"], mid=ours["_mid"], echo=True
    )
    assert _post(client, own_echo).json()["stored"] == 0
    assert _conversation().mode == "ai"

    typed = message_event(account_id=ACCOUNT, igsid=IGSID, text="Marta here", echo=True)
    assert _post(client, typed).json()["stored"] == 1
    assert _conversation().mode == "operator"
    _says(client, "thanks Marta")  # recorded; the person who answered has it
    time.sleep(3)
    assert len(ig.sent) == 1
    (echo,) = messages_in_db(author="business_app")
    assert (echo.text, echo.direction) == ("Marta here", "out")


def test_takeover_operator_message_and_handback(stack, client, instagram, fakes):
    ig = fakes["instagram"]
    _says(client, "hello")
    ig.wait_for_sent(1, timeout=30)
    ref = {"conversation_id": _conversation().id}
    assert client.post("/api/v1/takeover", headers=ADMIN, json=ref).status_code == 200
    sent = client.post("/api/v1/operator-message", headers=ADMIN, json={**ref, "text": "Olga"})
    assert sent.status_code == 200, sent.text
    operator = ig.wait_for_sent(2, timeout=30)[1]
    assert operator["message"] == {"text": "Olga"} and operator["messaging_type"] == "RESPONSE"
    back = client.post("/api/v1/handback", headers=ADMIN, json=ref)
    assert back.status_code == 200 and back.json()["mode"] == "ai"


def test_outside_the_window_operators_answer_with_human_agent_until_seven_days(
    stack, client, instagram, fakes
):
    ig = fakes["instagram"]
    _says(client, "hello")
    ig.wait_for_sent(1, timeout=30)
    ref = {"conversation_id": _conversation().id}
    assert client.post("/api/v1/takeover", headers=ADMIN, json=ref).status_code == 200

    _wrote(days_ago=3)
    ig.customer_wrote(IGSID, at=time.time() - 3 * DAY)
    sent = client.post("/api/v1/operator-message", headers=ADMIN, json={**ref, "text": "Still?"})
    assert sent.status_code == 200, sent.text
    tagged = ig.wait_for_sent(2, timeout=30)[1]
    assert (tagged["messaging_type"], tagged["tag"]) == ("MESSAGE_TAG", "HUMAN_AGENT")

    _wrote(days_ago=8)
    refused = client.post("/api/v1/operator-message", headers=ADMIN, json={**ref, "text": "?"})
    assert refused.status_code == 409
    assert "7 days" in refused.json()["detail"]
    template = {"name": "switchboard_reengagement", "language": "en", "parameters": []}
    no_template = client.post(
        "/api/v1/operator-message", headers=ADMIN, json={**ref, "template": template}
    )
    assert no_template.status_code == 409
    time.sleep(1)
    assert len(ig.sent) == 2


def test_staff_answer_on_whatsapp_reaches_the_instagram_customer(stack, client, instagram, fakes):
    ig, graph, gemini = fakes["instagram"], fakes["graph"], fakes["gemini"]
    with session_scope() as session:
        add_merchant_user(session, merchant_id=instagram["id"], name="Alice", wa_id=ALICE)
    gemini.structured = lambda request, schema: (
        {"reusable": False, "title": "", "content": ""}
        if "reusable" in schema["properties"]
        else {"language": "en", "continuation_fragment": "yes, we ship to Canada in 5 days",
              "full_sentence": "Yes, we ship to Canada in 5 days."}
    )  # fmt: skip
    question = "Do you ship to Canada?"
    gemini.call_tool(
        "request_notification",
        {"notification_type": "user_question_request", "context": {"question": question}},
    )
    gemini.reply("I have asked the team and will get back to you here.")
    _says(client, question)
    request = eventually(
        lambda: [s for s in graph.sent if s.get("to") == ALICE and s.get("type") == "template"],
        timeout=60,
    )[0]
    assert ig.wait_for_sent(1, timeout=60)[0]["message"]["text"].startswith("I have asked")

    gemini.call_tool(
        "answer_notification",
        {"notification_id": "NOTIF_1", "answer_json": json.dumps({"answer": "Yes, 5 days."})},
    )
    gemini.reply("Good news: we ship to Canada within 5 days.")
    staff = {"type": "text", "text": {"body": "Yes, 5 days."},
             "context": {"from": "15550001111", "id": request["_wamid"]}}  # fmt: skip
    payload = message_payload(
        phone_number_id=instagram["phone_number_id"], message=staff, wa_id=ALICE,
        profile_name="Alice",
    )  # fmt: skip
    assert post_webhook(client, payload, secret=APP_SECRET).status_code == 200

    relayed = eventually(
        lambda: [s for s in ig.sent if "5 days" in s["message"].get("text", "")], timeout=90
    )
    assert relayed[0]["recipient"] == {"id": IGSID}
    with session_scope() as session:
        notification = session.get(Notification, 1)
        assert notification is not None and notification.delivery_method == "conversation"


def test_verification_uses_the_verify_token(client, clean):
    params = {"hub.mode": "subscribe", "hub.challenge": "1158201444"}
    ok = client.get("/webhooks/instagram", params={**params, "hub.verify_token": VERIFY_TOKEN})
    assert (ok.status_code, ok.text) == (200, "1158201444")
    bad = client.get("/webhooks/instagram", params={**params, "hub.verify_token": "nope"})
    assert bad.status_code == 403


def test_an_instagram_run_never_shows_the_token(stack, client, instagram, fakes, caplog):
    import logging

    caplog.set_level(logging.DEBUG)
    fakes["instagram"].add_user(IGSID, name="Ana Lima", username="ana.lima")
    fakes["gemini"].reply("Hi! Yes, we ship to Spain.")
    _says(client, "Do you ship to Spain?")
    fakes["instagram"].wait_for_sent(1, timeout=30)
    eventually(lambda: _customer().profile_name, timeout=30)  # the profile lookup ran too
    answers = [
        client.get(path, headers=ADMIN)
        for path in ("/api/v1/merchants", f"/api/v1/merchants/{instagram['id']}/channels",
                     f"/api/v1/conversations/{_conversation().id}")
    ]  # fmt: skip
    assert {a.status_code for a in answers} == {200} and ACCOUNT in answers[1].text
    for where in (*(a.text for a in answers), caplog.text, stack.worker_log()):
        assert IG_TOKEN not in where
