"""Park-and-release on the real stack: what cannot reach a customer whose 24-hour window is
closed waits, a re-engagement template goes out once, and the customer's next message
releases the waiting messages, in order, once; operators may send approved templates."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.simulators.webhooks import status_payload, text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, DeliveryStatus
from services.merchants.operator import create_operator
from services.templates.defaults import TemplateRole
from tests.conftest import ADMIN_TOKEN
from tests.factories import CUSTOMER_WA_ID, make_template
from tests.helpers import (
    eventually,
    load_payload,
    messages_in_db,
    operator_headers,
    post_webhook,
)
from tests.integration.console_helpers import login, submit

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
DAY_AGO = timedelta(hours=25)
REENGAGEMENT = "switchboard_reengagement"


@pytest.fixture
def operator(client, clean) -> dict:
    return operator_headers(client, ADMIN_TOKEN)


@pytest.fixture
def approved(merchant) -> dict:
    with session_scope() as session:
        for role in (TemplateRole.CUSTOMER_REENGAGEMENT, TemplateRole.CUSTOMER_SUPPORT_RESPONSE):
            make_template(session, merchant_id=merchant["id"], role=role)
    return merchant


def _say(client, merchant, fakes, text: str, **kwargs) -> None:
    fakes["graph"].customer_wrote(CUSTOMER_WA_ID)
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text=text, **kwargs)
    assert post_webhook(client, payload).status_code == 200


def _conversation_id() -> int:
    with session_scope() as session:
        return session.scalars(select(Conversation.id)).one()


def _close_window() -> None:
    """A day passes: WhatsApp (the simulator) and our records agree the window is closed.
    Tests take the conversation over first: an AI conversation silent for a day is due for
    auto-resolve, whose survey would race the test's own sends."""
    with session_scope() as session:
        session.execute(update(Conversation).values(last_inbound_at=datetime.now(UTC) - DAY_AGO))


def _sent(fakes) -> list[str]:
    """What reached the customer, in order: texts, and templates by name."""
    return [
        body["text"]["body"] if body.get("type", "text") == "text" else body["template"]["name"]
        for body in fakes["graph"].sent
    ]


def test_an_operator_text_on_day_two_is_parked_then_released_once_when_the_customer_answers(
    stack, client, approved, fakes, operator
):
    _say(client, approved, fakes, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)  # the AI's echo, on day one
    conversation_id = _conversation_id()
    ref = {"conversation_id": conversation_id}
    assert client.post("/api/v1/takeover", headers=operator, json=ref).status_code == 200
    _close_window()
    fakes["graph"].customer_wrote(CUSTOMER_WA_ID, at=time.time() - DAY_AGO.total_seconds())
    first = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "text": "Your refund is done."}
    )
    assert first.status_code == 202, first.text
    assert first.json()["message"]["status"] == "parked"
    second = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "text": "Anything else?"}
    )
    assert second.status_code == 202
    assert _sent(fakes) == ["Echo: hello", REENGAGEMENT]  # one template for both
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=operator).json()
    operators = [m for m in detail["messages"] if m["author"] == "operator"]
    assert [m["status"] for m in operators] == ["parked", "parked"]
    assert client.post("/api/v1/handback", headers=operator, json=ref).status_code == 200

    _say(client, approved, fakes, "ok, tell me", wamid="wamid.ANSWER")
    _say(client, approved, fakes, "ok, tell me", wamid="wamid.ANSWER")  # delivered twice
    fakes["graph"].wait_for_sent(5, timeout=20)
    time.sleep(1.5)
    assert _sent(fakes) == [
        "Echo: hello", REENGAGEMENT, "Your refund is done.", "Anything else?", "Echo: ok, tell me",
    ]  # fmt: skip
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=operator).json()
    statuses = {m["text"]: m["status"] for m in detail["messages"]}
    assert statuses["Your refund is done."] == statuses["Anything else?"] == "accepted"


def test_an_ai_reply_refused_with_131047_is_parked_and_released_after_the_customer_answers(
    stack, client, approved, fakes
):
    fakes["graph"].customer_wrote(CUSTOMER_WA_ID, at=time.time() - DAY_AGO.total_seconds())
    payload = text_message_payload(phone_number_id=approved["phone_number_id"], text="late hi")
    post_webhook(client, payload)  # WhatsApp thinks the window closed: the reply is refused
    fakes["graph"].wait_for_sent(1, timeout=20)
    parked = eventually(lambda: messages_in_db(status=DeliveryStatus.PARKED))
    assert parked[0].text == "Echo: late hi" and parked[0].error_code == 131047
    assert _sent(fakes) == [REENGAGEMENT]
    (conversation,) = _conversations()
    assert not conversation.needs_human  # the reply will go out: nobody needs to step in

    _say(client, approved, fakes, "I'm here")
    fakes["graph"].wait_for_sent(3, timeout=20)
    time.sleep(1.5)
    assert _sent(fakes) == [REENGAGEMENT, "Echo: late hi", "Echo: I'm here"]
    assert messages_in_db(status=DeliveryStatus.PARKED) == []


def test_a_reply_failed_later_by_a_131047_status_is_parked_then_released(
    stack, client, approved, fakes
):
    _say(client, approved, fakes, "hi")
    (reply,) = fakes["graph"].wait_for_sent(1, timeout=20)
    eventually(lambda: messages_in_db(direction="out", status=DeliveryStatus.ACCEPTED))
    errors = load_payload("status_failed")["entry"][0]["changes"][0]["value"]["statuses"][0]
    failed = status_payload(
        phone_number_id=approved["phone_number_id"], wamid=reply["_wamid"], status="failed",
        errors=errors["errors"],
    )  # fmt: skip
    assert post_webhook(client, failed).status_code == 200
    fakes["graph"].wait_for_sent(2, timeout=20)
    assert _sent(fakes) == ["Echo: hi", REENGAGEMENT]
    (parked,) = messages_in_db(status=DeliveryStatus.PARKED)
    assert parked.text == "Echo: hi"

    _say(client, approved, fakes, "still there?")
    fakes["graph"].wait_for_sent(4, timeout=20)
    time.sleep(1.5)
    assert _sent(fakes) == ["Echo: hi", REENGAGEMENT, "Echo: hi", "Echo: still there?"]
    released = messages_in_db(id=parked.id)[0]
    assert released.status == DeliveryStatus.ACCEPTED and released.error_code is None


def _conversations() -> list[Conversation]:
    with session_scope() as session:
        return list(session.scalars(select(Conversation)))


def _taken_over_on_day_two(client, merchant, fakes, operator) -> dict:
    _say(client, merchant, fakes, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)
    ref = {"conversation_id": _conversation_id()}
    assert client.post("/api/v1/takeover", headers=operator, json=ref).status_code == 200
    _close_window()
    fakes["graph"].customer_wrote(CUSTOMER_WA_ID, at=time.time() - DAY_AGO.total_seconds())
    return ref


def test_an_operator_sends_an_approved_template_outside_the_window(
    stack, client, approved, fakes, operator
):
    ref = _taken_over_on_day_two(client, approved, fakes, operator)
    template = {"name": "switchboard_support_response", "language": "en",
                "parameters": ["Acme Shoes", "your refund\nwas approved"]}  # fmt: skip
    sent = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "template": template}
    )
    assert sent.status_code == 200, sent.text
    assert sent.json()["message"]["status"] == "accepted"
    assert "Our team's response: your refund was approved" in sent.json()["message"]["text"]
    body = fakes["graph"].sent[-1]["template"]
    assert body["name"] == "switchboard_support_response" and body["language"]["code"] == "en"
    assert _sent(fakes) == ["Echo: hello", "switchboard_support_response"]  # nothing parked


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ({"name": "switchboard_support_response", "language": "en", "parameters": ["Acme"]},
         "takes 2 parameter(s)"),
        ({"name": "no_such_template", "language": "en", "parameters": []}, "has no template"),
        ({"name": "switchboard_question_answer", "language": "en",
          "parameters": ["a", "b", "c"]}, "PENDING"),
        ({"name": "switchboard_support_response", "language": "de", "parameters": ["a", "b"]},
         "no 'de' version"),
    ],
)  # fmt: skip
def test_a_template_the_merchant_cannot_send_is_refused_with_a_reason(
    client, approved, fakes, operator, template, reason
):
    with session_scope() as session:
        make_template(
            session, merchant_id=approved["id"], role=TemplateRole.MERCHANT_USER_QUESTION_ANSWER,
            status="PENDING",
        )  # fmt: skip
    _say(client, approved, fakes, "hello")
    conversation_id = eventually(lambda: [c.id for c in _conversations()])[0]
    ref = {"conversation_id": conversation_id}
    assert client.post("/api/v1/takeover", headers=operator, json=ref).status_code == 200
    refused = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "template": template}
    )
    assert refused.status_code == 422, refused.text
    assert reason in refused.json()["detail"]
    assert [m for m in messages_in_db(direction="out") if m.type == "template"] == []


def test_a_template_and_text_together_are_refused(client, approved, operator):
    both = client.post(
        "/api/v1/operator-message", headers=operator,
        json={"conversation_id": 1, "text": "hi",
              "template": {"name": "x", "language": "en", "parameters": []}},
    )  # fmt: skip
    assert both.status_code == 422 and "not both" in str(both.json()["detail"])


def test_the_console_offers_approved_templates_with_a_preview_and_sends_one(
    client, approved, fakes
):
    with session_scope() as session:
        make_template(
            session, merchant_id=approved["id"], role=TemplateRole.MERCHANT_USER_QUESTION_ANSWER,
            status="PENDING",
        )  # fmt: skip
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303
    _say(client, approved, fakes, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)  # the AI's echo, on day one
    page = f"/console/conversations/{_conversation_id()}"
    submit(client, f"{page}/takeover")
    _close_window()
    html = client.get(page).text
    assert 'value="switchboard_support_response|en"' in html
    assert "switchboard_question_answer" not in html  # pending at Meta: not offered
    assert "This is {{1}} following up on your support request" in html  # the preview

    chosen = {"template": "switchboard_support_response|en"}
    submit(client, f"{page}/send", {**chosen, "parameters": "Acme Shoes\nyour refund is done"})
    assert _sent(fakes) == ["Echo: hello", "switchboard_support_response"]
    assert "response: your refund is done" in client.get(f"{page}/messages").text

    submit(client, f"{page}/send", {**chosen, "parameters": "Acme Shoes"})
    assert "takes 2 parameter(s) for its body placeholders, got 1" in client.get(page).text
    assert len(fakes["graph"].sent) == 2
