"""Twilio WhatsApp end to end (#15): signed inbound -> one AI reply at the fake Twilio,
forged signatures refused, duplicates answered once, status callbacks forward only,
takeover and handback, and the outside-window template through the Content API."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from persistence.db import session_scope
from persistence.models import Conversation, Message
from tests.conftest import ADMIN_TOKEN, TWILIO_SID, TWILIO_TOKEN
from tests.helpers import eventually, messages_in_db

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SENDER = "+14155238886"
CUSTOMER = "+15551234567"
INBOUND = "http://testserver/webhooks/twilio"
STATUS = "http://testserver/webhooks/twilio/status"
REENGAGE_SID = "HX" + "b" * 32


@pytest.fixture
def twilio(client, merchant, fakes) -> dict:
    """The merchant's Twilio WhatsApp sender, connected through the API."""
    sids = {"switchboard_reengagement": REENGAGE_SID}
    body = {"type": "twilio_whatsapp", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
            "sender": SENDER, "content_sids": sids}  # fmt: skip
    url = f"/api/v1/merchants/{merchant['id']}/channels"
    made = client.post(url, headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    return {"fake": fakes["twilio"], "channel_id": made.json()["id"]}


def _say(client, twilio: dict, text: str, **kwargs: object):
    fake = twilio["fake"]
    form = fake.inbound_form(sender=SENDER, customer=CUSTOMER, body=text, **kwargs)
    return fake.post(client, INBOUND, form), form


def _conversation() -> Conversation:
    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


def test_a_signed_message_gets_one_ai_reply_through_the_messages_api(stack, client, twilio, fakes):
    fakes["gemini"].reply("Hello Ana! How can I help?")
    response, _ = _say(client, twilio, "hi there")
    assert response.status_code == 200, response.text
    assert "<Response>" in response.text
    [sent] = twilio["fake"].wait_for_sent(1)
    assert sent["To"] == f"whatsapp:{CUSTOMER}" and sent["From"] == f"whatsapp:{SENDER}"
    assert sent["Body"] == "Hello Ana! How can I help?"
    outbound = eventually(lambda: [m for m in messages_in_db(direction="out") if m.wamid])
    assert outbound[0].wamid == sent["_sid"]
    assert "hi there" in fakes["gemini"].user_texts(fakes["gemini"].requests[0])[-1]
    assert fakes["graph"].sent == []  # nothing went to WhatsApp Cloud
    assert _conversation().phone_number_id == twilio["channel_id"]
    listed = client.get(
        "/api/v1/conversations", headers=ADMIN, params={"channel": "twilio_whatsapp"}
    )
    assert [c["channel"] for c in listed.json()] == ["twilio_whatsapp"]
    cloud = client.get("/api/v1/conversations", headers=ADMIN, params={"channel": "whatsapp_cloud"})
    assert cloud.json() == []


def test_a_forged_or_missing_signature_is_refused(client, twilio):
    fake = twilio["fake"]
    form = fake.inbound_form(sender=SENDER, customer=CUSTOMER, body="hi")
    forged = fake.sign(INBOUND, form, auth_token="not-the-token")
    assert fake.post(client, INBOUND, form, signature=forged).status_code == 403
    tampered = fake.sign(INBOUND, form)
    assert (
        fake.post(client, INBOUND, {**form, "Body": "changed"}, signature=tampered).status_code
        == 403
    )
    unknown = fake.inbound_form(sender="+14155550000", customer=CUSTOMER, body="hi")
    assert fake.post(client, INBOUND, unknown).status_code == 403
    assert messages_in_db(direction="in") == []


def test_the_public_url_is_what_is_signed_behind_a_proxy(client, twilio, monkeypatch):
    from settings import get_settings

    monkeypatch.setenv("PUBLIC_BASE_URL", "https://shop.example.com/")
    get_settings.cache_clear()
    try:
        fake = twilio["fake"]
        form = fake.inbound_form(sender=SENDER, customer=CUSTOMER, body="hi")
        public = fake.sign("https://shop.example.com/webhooks/twilio", form)
        assert fake.post(client, INBOUND, form, signature=public).status_code == 200
        assert fake.post(client, INBOUND, form).status_code == 403  # signed for the inner URL
    finally:
        monkeypatch.delenv("PUBLIC_BASE_URL")
        get_settings.cache_clear()


def test_bad_forms_get_a_4xx(client, twilio):
    fake = twilio["fake"]
    form = fake.inbound_form(sender=SENDER, customer=CUSTOMER, body="hi")
    del form["MessageSid"]
    assert fake.post(client, INBOUND, form).status_code == 400
    junk = client.post(INBOUND, content=b"\xff\xfe", headers={"X-Twilio-Signature": "x"})
    assert junk.status_code in (400, 403)


def test_the_same_delivery_twice_gives_one_reply(stack, client, twilio, fakes):
    fakes["gemini"].reply("Hi!")
    first, form = _say(client, twilio, "hello")
    assert first.status_code == 200
    assert twilio["fake"].post(client, INBOUND, form).status_code == 200
    twilio["fake"].wait_for_sent(1)
    time.sleep(2.5)  # longer than a burst window: a second reply would be out by now
    assert len(twilio["fake"].sent) == 1
    assert len(messages_in_db(direction="in")) == 1


def test_status_callbacks_move_a_reply_forward_only(stack, client, twilio, fakes):
    fakes["gemini"].reply("Hi!")
    _say(client, twilio, "hello")
    [sent] = twilio["fake"].wait_for_sent(1)
    sid, fake = sent["_sid"], twilio["fake"]

    def report(status: str, **kwargs: object) -> None:
        form = fake.status_form(sid=sid, status=status, sender=SENDER, customer=CUSTOMER, **kwargs)
        assert fake.post(client, STATUS, form).status_code == 200

    def status_of() -> str | None:
        found = [m.status for m in messages_in_db(direction="out") if m.wamid == sid]
        return found[0] if found else None

    eventually(lambda: status_of() == "accepted")
    report("queued")
    report("sent")
    report("read")
    assert status_of() == "read"
    report("delivered")  # late: never moves it back
    assert status_of() == "read"
    forged = fake.status_form(sid=sid, status="failed", sender=SENDER, customer=CUSTOMER)
    bad = fake.post(client, STATUS, forged, signature=fake.sign(STATUS, forged, "wrong"))
    assert bad.status_code == 403 and status_of() == "read"


def test_an_undelivered_status_records_twilios_error_code(stack, client, twilio, fakes):
    fakes["gemini"].reply("Hi!")
    _say(client, twilio, "hello")
    [sent] = twilio["fake"].wait_for_sent(1)
    # Twilio's callback comes after our send is recorded (sent at the fake is a moment before)
    eventually(lambda: [m for m in messages_in_db(direction="out") if m.wamid == sent["_sid"]])
    form = twilio["fake"].status_form(
        sid=sent["_sid"], status="undelivered", sender=SENDER, customer=CUSTOMER, error_code=63024
    )
    assert twilio["fake"].post(client, STATUS, form).status_code == 200
    failed = eventually(
        lambda: [m for m in messages_in_db(direction="out") if m.status == "failed"]
    )
    assert failed[0].error_code == 63024


def test_takeover_and_handback_on_twilio(stack, client, twilio, fakes):
    fakes["gemini"].reply("Hi!")
    _say(client, twilio, "hello")
    twilio["fake"].wait_for_sent(1)
    operator = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"}).json()
    headers = {"Authorization": f"Bearer {operator['token']}"}
    ref = {"conversation_id": _conversation().id}
    assert client.post("/api/v1/takeover", headers=headers, json=ref).status_code == 200
    said = client.post(
        "/api/v1/operator-message", headers=headers, json={**ref, "text": "Olga here"}
    )
    assert said.status_code in (200, 202), said.text
    sent = twilio["fake"].wait_for_sent(2)
    assert sent[1]["Body"] == "Olga here" and sent[1]["To"] == f"whatsapp:{CUSTOMER}"
    _say(client, twilio, "thanks Olga")
    fakes["events"].wait_for("message_received")
    assert len(fakes["gemini"].requests) == 1  # no AI turn while Olga has it
    assert client.post("/api/v1/handback", headers=headers, json=ref).status_code == 200
    fakes["gemini"].reply("Anything else?")
    _say(client, twilio, "one more thing")
    sent = twilio["fake"].wait_for_sent(3)
    assert sent[-1]["Body"] == "Anything else?"


def test_outside_the_window_the_customer_gets_the_content_api_template(
    stack, client, twilio, fakes
):
    fakes["gemini"].reply("Hi!")
    _say(client, twilio, "hello")
    twilio["fake"].wait_for_sent(1)
    conversation = _conversation()
    with session_scope() as session:
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(last_inbound_at=datetime.now(UTC) - timedelta(days=2))
        )
    operator = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"}).json()
    headers = {"Authorization": f"Bearer {operator['token']}"}
    ref = {"conversation_id": conversation.id}
    client.post("/api/v1/takeover", headers=headers, json=ref)
    said = client.post("/api/v1/operator-message", headers=headers, json={**ref, "text": "Back!"})
    assert said.status_code == 202, said.text
    sent = twilio["fake"].wait_for_sent(2)
    template = sent[1]
    assert template["ContentSid"] == REENGAGE_SID and "Body" not in template
    assert template["ContentVariables"].startswith("{")
    with session_scope() as session:
        parked = session.scalars(select(Message).where(Message.text == "Back!")).one()
        assert parked.status == "parked"
    _say(client, twilio, "I'm here")  # the window opens: the parked message follows
    sent = twilio["fake"].wait_for_sent(3)
    assert sent[2]["Body"] == "Back!"


def test_a_twilio_run_never_shows_the_auth_token(stack, client, twilio, fakes, caplog):
    import base64
    import logging

    caplog.set_level(logging.DEBUG)
    fakes["gemini"].reply("Hello Ana!")
    response, _ = _say(client, twilio, "hi there")
    assert response.status_code == 200 and TWILIO_TOKEN not in response.text
    twilio["fake"].wait_for_sent(1)
    eventually(lambda: [m for m in messages_in_db(direction="out") if m.wamid])
    conversation = _conversation().id
    merchant_id = client.get("/api/v1/merchants", headers=ADMIN).json()[0]["id"]
    answers = [
        client.get(path, headers=ADMIN)
        for path in ("/api/v1/merchants", f"/api/v1/merchants/{merchant_id}/channels",
                     "/api/v1/conversations", f"/api/v1/conversations/{conversation}")
    ]  # fmt: skip
    assert {a.status_code for a in answers} == {200} and SENDER in answers[1].text
    bodies = [a.text for a in answers]
    basic = base64.b64encode(f"{TWILIO_SID}:{TWILIO_TOKEN}".encode()).decode()
    for where in (*bodies, caplog.text, stack.worker_log()):
        assert TWILIO_TOKEN not in where and basic not in where
