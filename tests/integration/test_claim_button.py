"""The "I'll answer" button on the escalation request to staff (#17): the request goes out
as the button version of the template once Meta approved it (the old one otherwise, never
a 132000), and a staff member's tap records the claim and is acknowledged at once."""

from __future__ import annotations

import json

import pytest

from channels.simulators.webhooks import DEFAULT_WA_ID, message_payload
from persistence.db import session_scope
from persistence.models import Notification
from services.merchants.merchant import add_merchant_user
from services.merchants.operator import create_operator
from services.templates.defaults import SHIPPED, TemplateRole
from tests.conftest import ADMIN_TOKEN
from tests.factories import make_template
from tests.helpers import eventually, post_webhook
from tests.integration.console_helpers import login
from tests.integration.test_notifications import ALICE, BOB, _ask_question, _say, _sent

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
V2 = TemplateRole.MERCHANT_USER_QUESTION_REQUEST_V2
CLAIM_BUTTON = {"type": "BUTTONS", "buttons": [{"type": "QUICK_REPLY", "text": "I'll answer"}]}


def _staff_with_button_template(merchant: dict, fakes: dict, status: str) -> None:
    """Alice is staff; the button version is `status` at Meta and in our records."""
    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Alice", wa_id=ALICE)
        make_template(session, merchant_id=merchant["id"], role=V2, status=status)
    fakes["graph"].message_templates.add(
        "102290129340398", SHIPPED[(V2, "en")].name, "en", SHIPPED[(V2, "en")].body,
        status=status, extra=[CLAIM_BUTTON],
    )  # fmt: skip


def _request_to_alice(client, merchant, fakes) -> dict:
    _ask_question(client, merchant, fakes)
    return eventually(lambda: _sent(fakes["graph"], to=ALICE, kind="template"))[0]


def _tap(client, merchant, wa_id: str = ALICE) -> None:
    tap = {"type": "button", "button": {"payload": "NOTIF_1", "text": "I'll answer"}}
    body = message_payload(phone_number_id=merchant["phone_number_id"], message=tap, wa_id=wa_id)
    assert post_webhook(client, body).status_code == 200


def _notification() -> Notification:
    with session_scope() as session:
        found = session.get(Notification, 1)
        assert found is not None
        return found


def test_the_request_uses_the_button_version_once_it_is_approved(stack, client, merchant, fakes):
    _staff_with_button_template(merchant, fakes, "APPROVED")

    request = _request_to_alice(client, merchant, fakes)

    assert request["template"]["name"] == "switchboard_question_request_v2"
    body, button = request["template"]["components"]
    assert body["type"] == "body" and body["parameters"][0] == {"type": "text", "text": "NOTIF_1"}
    assert button == {
        "type": "button", "sub_type": "quick_reply", "index": "0",
        "parameters": [{"type": "payload", "payload": "NOTIF_1"}],
    }  # fmt: skip
    assert _notification().error is None


def test_the_request_falls_back_to_the_old_template_while_the_button_one_is_pending(
    stack, client, merchant, fakes
):
    _staff_with_button_template(merchant, fakes, "PENDING")

    request = _request_to_alice(client, merchant, fakes)

    assert request["template"]["name"] == "switchboard_question_request"
    assert [c["type"] for c in request["template"]["components"]] == ["body"]
    assert all(s.get("error") is None for s in fakes["graph"].sent)


def test_a_staff_tap_claims_the_request_and_is_acknowledged(stack, client, merchant, fakes):
    _staff_with_button_template(merchant, fakes, "APPROVED")
    _request_to_alice(client, merchant, fakes)
    gemini, graph = fakes["gemini"], fakes["graph"]
    asked = len(gemini.requests)

    _tap(client, merchant)

    [ack] = eventually(lambda: _sent(graph, to=ALICE))
    assert ack["text"]["body"] == "Thanks — write your answer to NOTIF_1 here."
    assert len(gemini.requests) == asked  # no model for a tap
    claimed = _notification()
    assert claimed.claimed_by == "Alice" and claimed.claimed_at is not None
    listed = client.get("/api/v1/notifications", headers=ADMIN).json()
    assert [(n["ref"], n["claimed_by"]) for n in listed] == [("NOTIF_1", "Alice")]
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303
    assert "Being handled by <strong>Alice</strong>" in client.get("/console/notifications").text
    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Bob", wa_id=BOB)
    _tap(client, merchant, BOB)  # a colleague learns it is taken
    [taken] = eventually(lambda: _sent(graph, to=BOB))
    assert taken["text"]["body"].startswith("NOTIF_1 is already being handled by Alice")
    assert _notification().claimed_by == "Alice"

    # then she answers as always, through her agent
    gemini.call_tool(
        "answer_notification",
        {"notification_id": "NOTIF_1", "answer_json": json.dumps({"answer": "Yes, 5 days."})},
    )
    _say(client, merchant, ALICE, "Yes, 5 days.")
    assert eventually(lambda: _notification().status == "answered")
    assert _notification().answered_by == "Alice"
    assert eventually(lambda: _sent(graph, to=DEFAULT_WA_ID))
