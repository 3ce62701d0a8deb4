"""Interactive messages end to end: the model offers options through reply_with_options and
the Graph API receives reply buttons (or, over WhatsApp's limits, numbered text); the
customer's tap or number reaches the model as the option chosen; operators offer options
from the API and the console."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import message_payload, text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation
from tests.conftest import ADMIN_TOKEN
from tests.helpers import eventually, load_payload, messages_in_db, post_webhook
from tests.integration.console_helpers import login, submit

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
STORES = [f"Store number {n}" for n in range(1, 13)]


def _customer_writes(client, merchant, text: str) -> None:
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text=text)
    assert post_webhook(client, payload).status_code == 200


def _customer_taps(client, merchant, fixture: str, context_wamid: str) -> None:
    """A recorded button_reply / list_reply, answering our message `context_wamid`."""
    recorded = load_payload(fixture)["entry"][0]["changes"][0]["value"]["messages"][0]
    message = {k: v for k, v in copy.deepcopy(recorded).items() if k not in ("id", "timestamp")}
    message["context"]["id"] = context_wamid
    payload = message_payload(phone_number_id=merchant["phone_number_id"], message=message)
    assert post_webhook(client, payload).status_code == 200


def _sent_offers() -> list:
    return [m for m in messages_in_db(direction="out") if (m.raw or {}).get("offer")]


def test_the_model_offers_reply_buttons_and_graph_receives_them(stack, client, merchant, fakes):
    options = {"text": "Which size would you like?", "options": ["Size 41", "Size 42"]}
    fakes["gemini"].call_tool("reply_with_options", options).empty()
    _customer_writes(client, merchant, "I want the red runner")
    [sent] = fakes["graph"].wait_for_sent(1, timeout=20)
    assert sent["type"] == "interactive" and sent["to"] == "15551234567"
    assert sent["interactive"] == {
        "type": "button",
        "body": {"text": "Which size would you like?"},
        "action": {"buttons": [
            {"type": "reply", "reply": {"id": "1", "title": "Size 41"}},
            {"type": "reply", "reply": {"id": "2", "title": "Size 42"}},
        ]},
    }  # fmt: skip
    second = fakes["gemini"].wait_for_requests(2, timeout=20)[1]
    assert "sent as reply buttons" in fakes["gemini"].tool_outputs(second)[0]
    [row] = eventually(lambda: [m for m in _sent_offers() if m.wamid])
    assert row.type == "interactive" and row.text == "Which size would you like?"
    assert row.raw["offer"]["sent_as"] == "buttons" and row.wamid == sent["_wamid"]
    assert "reply_with_options" in fakes["gemini"].system_text(second)


def test_a_button_reply_reaches_the_model_as_the_option_chosen(stack, client, merchant, fakes):
    options = {"text": "Can I help?", "options": ["Talk to a person", "Track my order"]}
    fakes["gemini"].call_tool("reply_with_options", options).empty()
    _customer_writes(client, merchant, "hi")
    [offer] = fakes["graph"].wait_for_sent(1, timeout=20)
    fakes["gemini"].reply("A colleague will write to you here.")
    _customer_taps(client, merchant, "message_interactive_button_reply.json", offer["_wamid"])
    fakes["graph"].wait_for_sent(2, timeout=20)
    last = fakes["gemini"].requests[-1]
    assert fakes["gemini"].user_texts(last)[-1] == "(chose: Talk to a person, id talk_to_human)"


def test_over_whatsapps_limits_the_options_go_as_numbered_text(stack, client, merchant, fakes):
    fakes["gemini"].call_tool("reply_with_options", {"text": "Which store?", "options": STORES})
    fakes["gemini"].reply("Just answer with its number.")  # a text after it, as models do
    _customer_writes(client, merchant, "where can I pick it up?")
    sent, _ = fakes["graph"].wait_for_sent(2, timeout=20)
    assert sent["type"] == "text"
    numbered = "\n".join(f"{n}. Store number {n}" for n in range(1, 13))
    assert sent["text"]["body"] == f"Which store?\n\n{numbered}"
    second = fakes["gemini"].wait_for_requests(2, timeout=20)[1]
    assert "sent as numbered text" in fakes["gemini"].tool_outputs(second)[0]
    [row] = eventually(lambda: [m for m in _sent_offers() if m.wamid])
    assert row.type == "text" and row.raw["offer"]["sent_as"] == "numbered"
    assert row.text == sent["text"]["body"]  # the console shows what the customer got
    assert row.error_code is None  # never a Graph API error

    fakes["gemini"].reply("Store 2 it is.")
    _customer_writes(client, merchant, "2")
    fakes["graph"].wait_for_sent(3, timeout=20)
    last = fakes["gemini"].requests[-1]
    assert fakes["gemini"].user_texts(last)[-1] == "2 (chose: Store number 2, id 2)"


# --- operators -------------------------------------------------------------------------


@pytest.fixture
def operator(client, merchant) -> dict:  # an operator of the merchant (the default one)
    response = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"})
    assert response.status_code == 201
    body = response.json()
    return {**body, "headers": {"Authorization": f"Bearer {body['token']}"}}


def _taken_over(client, merchant, fakes, operator) -> int:
    """A conversation the customer opened (answered by the AI), taken over by Olga."""
    _customer_writes(client, merchant, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)
    with session_scope() as session:
        conversation_id = session.scalars(select(Conversation.id)).one()
    ref = {"conversation_id": conversation_id}
    assert client.post("/api/v1/takeover", headers=operator["headers"], json=ref).status_code == 200
    return conversation_id


def test_an_operator_sends_options_from_the_api(stack, client, merchant, fakes, operator):
    conversation_id = _taken_over(client, merchant, fakes, operator)
    body = {
        "conversation_id": conversation_id,
        "text": "Which delivery do you prefer?",
        "options": ["Standard", "Express", "Pick up in store", "Courier at night"],
    }
    sent = client.post("/api/v1/operator-message", headers=operator["headers"], json=body)
    assert sent.status_code == 200, sent.text
    message = sent.json()["message"]
    assert message["type"] == "interactive" and message["offer"]["sent_as"] == "list"
    assert [o["title"] for o in message["offer"]["options"]] == body["options"]
    graph = fakes["graph"].sent[-1]["interactive"]
    assert graph["type"] == "list" and graph["action"]["button"] == "Choose"
    assert [r["title"] for r in graph["action"]["sections"][0]["rows"]] == body["options"]
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=operator["headers"])
    assert detail.json()["messages"][-1]["offer"]["kind"] == "list"


@pytest.mark.parametrize(
    ("extra", "reason"),
    [
        ({"options": [f"o{n}" for n in range(11)]}, "at most 10"),
        ({"options": ["a", ""]}, "at least 1 character"),
        ({"options": ["a"], "media_key": "red-shoe"}, "not with media_key"),
    ],
)
def test_operator_options_are_checked(client, merchant, operator, extra, reason):
    body = {"conversation_id": 1, "text": "Pick one", **extra}
    refused = client.post("/api/v1/operator-message", headers=operator["headers"], json=body)
    assert refused.status_code == 422 and reason in refused.text


def test_an_operator_adds_options_in_the_console(stack, client, merchant, fakes, operator):
    conversation_id = _taken_over(client, merchant, fakes, operator)
    assert login(client, operator["token"]).status_code == 303
    page = f"/console/conversations/{conversation_id}"
    assert 'name="options"' in client.get(page).text
    posted = submit(
        client, f"{page}/send", {"text": "Shall I reserve it?", "options": "Yes\r\nNo\r\n\r\n"}
    )
    assert posted.status_code == 303
    graph = fakes["graph"].sent[-1]
    assert graph["interactive"]["type"] == "button"
    titles = [b["reply"]["title"] for b in graph["interactive"]["action"]["buttons"]]
    assert titles == ["Yes", "No"]
    shown = client.get(page).text
    assert 'class="offer"' in shown and "<li>Yes</li><li>No</li>" in shown


def test_a_staff_quick_reply_button_reaches_their_agent(stack, client, merchant, fakes):
    """Staff tapping a template's quick-reply button ("I'll answer") is read as their choice
    in their own (admin) conversation: acknowledged, never an error."""
    from services.merchants.merchant import add_merchant_user

    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Alice", wa_id="15550000001")
    fakes["gemini"].reply("Thanks: write your answer here when you have it.")
    tap = {"type": "button", "button": {"payload": "NOTIF_1", "text": "I'll answer"}}
    payload = message_payload(
        phone_number_id=merchant["phone_number_id"], message=tap, wa_id="15550000001"
    )
    assert post_webhook(client, payload).status_code == 200
    [sent] = fakes["graph"].wait_for_sent(1, timeout=20)
    assert sent["to"] == "15550000001" and sent["text"]["body"].startswith("Thanks")
    [request] = fakes["gemini"].requests
    assert fakes["gemini"].tool_names(request) == ["answer_notification"]
    assert fakes["gemini"].user_texts(request)[-1] == "(chose: I'll answer, id NOTIF_1)"
