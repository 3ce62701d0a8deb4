"""Handoff timers with small values: unclaimed escalations and idle operators."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.helpers import eventually, messages_in_db, post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def timer_stack(servers, tmp_path_factory):
    yield from running_stack(
        servers, tmp_path_factory, "timers",
        HANDOFF_UNCLAIMED_SECONDS="2", OPERATOR_IDLE_SECONDS="2",
    )  # fmt: skip


def _conversation() -> Conversation:
    with session_scope() as session:
        return session.scalars(select(Conversation)).one()


def test_an_unclaimed_escalation_follows_up_once_and_is_announced_again(
    timer_stack, client, merchant, fakes
):
    fakes["gemini"].call_tool("request_intervention", {"reason": "Wants a person"})
    fakes["gemini"].reply("A colleague will follow up.")
    fakes["gemini"].reply("Sabrınız için teşekkürler, **bir arkadaşımız** yakında yazacak.")
    post_webhook(
        client,
        text_message_payload(phone_number_id=merchant["phone_number_id"],
                             text="bir insanla konuşmak istiyorum lütfen"),
    )  # fmt: skip
    sent = fakes["graph"].wait_for_sent(2, timeout=30)
    # Turkish has no fixed translation: the light model writes the one sentence
    assert sent[1]["text"]["body"] == (
        "Sabrınız için teşekkürler, *bir arkadaşımız* yakında yazacak."
    )
    assert fakes["gemini"].models[-1] == "gemini-2.5-flash-lite"
    announced = fakes["events"].wait_for("needs_human", count=3, timeout=30)
    assert announced[0].get("reannounced") is None and announced[-1]["reannounced"] is True
    assert len(fakes["graph"].sent) == 2  # the customer is followed up once, not every time
    follow_up = messages_in_db(direction="out")[-1]
    assert follow_up.author == "system"
    assert _conversation().needs_human


def test_an_idle_takeover_is_handed_back_with_a_note(timer_stack, client, merchant, fakes):
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    fakes["graph"].wait_for_sent(1, timeout=20)
    conversation_id = _conversation().id
    taken = client.post(
        "/api/v1/takeover", headers=ADMIN, json={"conversation_id": conversation_id}
    )
    assert taken.status_code == 200
    eventually(lambda: _conversation().mode == "ai", timeout=30)
    detail = client.get(f"/api/v1/conversations/{conversation_id}", headers=ADMIN).json()
    assert [e["action"] for e in detail["audit"]] == ["takeover", "auto_handback"]
    notes = [m for m in detail["messages"] if m["direction"] == "note"]
    assert "inactive" in notes[0]["text"]
    (event,) = fakes["events"].wait_for("handed_back")
    assert event["reason"] == "auto_handback" and event["answering_now"] is False
