"""Notification SLAs (#18): reminders to the staff asked, escalation to the admins when
overdue, and closing with a message to the customer, counted in business time. The clock
is frozen for every process (FROZEN_TIME, a Wednesday at 11:00 in Madrid); time passes by
moving the request's opening back, never by sleeping."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import update

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, Merchant, Notification, NotificationStatus
from services.merchants.merchant import add_merchant_user
from services.notifications import sla
from services.notifications.sla import CLOSED_FOR_CUSTOMER, Stage, Step
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.factories import make_conversation
from tests.helpers import eventually, post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
NOW = datetime(2026, 12, 2, 10, 0, tzinfo=UTC)  # Wednesday 11:00 in Madrid
MADRID = ZoneInfo("Europe/Madrid")
ALICE, BOB, CUSTOMER = "15550000001", "15550000002", "15551234567"
SLA = {"user_question_request": {"target_minutes": 60, "close_after_minutes": 180}}
HOURS = {
    "timezone": "Europe/Madrid",
    "weekly": {day: ["09:00-17:00"] for day in ("mon", "tue", "wed", "thu", "fri")},
    "notification_slas": SLA,
}


@pytest.fixture(scope="module")
def sla_stack(servers, tmp_path_factory):
    yield from running_stack(
        servers, tmp_path_factory, "sla", FROZEN_TIME=NOW.isoformat(), SLA_CHECK_SECONDS="1"
    )


def _opened_at(local: str) -> None:
    """The staff were asked at this Madrid wall-clock time."""
    opened = datetime.fromisoformat(local).replace(tzinfo=MADRID)
    with session_scope() as session:
        session.execute(update(Notification).values(dispatched_at=opened))


def _notification() -> Notification:
    with session_scope() as session:
        return session.get(Notification, 1)


def _templates_to(graph, wa_id: str) -> list[dict]:
    return [s for s in graph.sent if s.get("to") == wa_id and s.get("type") == "template"]


def test_each_step_happens_once_however_often_beat_finds_it(merchant):
    """Runs before the module's stack starts: no beat of its own interferes."""
    with session_scope() as session:
        session.get(Merchant, merchant["id"]).notification_slas = SLA
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"]
        )
        session.add(Notification(
            merchant_id=merchant["id"], conversation_id=conversation.id,
            type="user_question_request", context={"question": "Do you ship to Canada?"},
            answer_schema={}, dispatched_at=NOW.replace(hour=8),  # 2 hours ago, always open
        ))  # fmt: skip
    with session_scope() as session:
        first, second = sla.due_steps(session, now=NOW), sla.due_steps(session, now=NOW)
    assert first == second == [Step(1, Stage.ESCALATED)]
    with session_scope() as session:
        sla.advance(session, first[0])
    with session_scope() as session:
        assert sla.advance(session, second[0]) == []  # beat's second find: nothing to do
        assert sla.due_steps(session, now=NOW) == []
        assert session.get(Notification, 1).sla_stage == Stage.ESCALATED


def test_an_unanswered_question_is_reminded_escalated_and_closed_in_business_time(
    sla_stack, client, merchant, fakes
):
    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Alice", wa_id=ALICE)
    put = client.put(
        f"/api/v1/merchants/{merchant['id']}/business-hours", headers=ADMIN, json=HOURS
    )
    assert put.status_code == 200
    gemini, graph = fakes["gemini"], fakes["graph"]
    gemini.call_tool("request_notification", {
        "notification_type": "user_question_request",
        "context": {"question": "Do you ship to Canada?"},
    })  # fmt: skip
    gemini.reply("I've asked the team; their answer will come here.")
    post_webhook(client, text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id=CUSTOMER,
        text="Do you ship to Canada?",
    ))  # fmt: skip
    eventually(lambda: len(_templates_to(graph, ALICE)) == 1, timeout=90)
    assert _notification().sla_stage == Stage.WAITING

    _opened_at("2026-12-02T10:20")  # 40 business minutes ago: past half the target
    eventually(lambda: _notification().sla_stage == Stage.REMINDED, timeout=30)
    eventually(lambda: len(_templates_to(graph, ALICE)) == 2, timeout=30)

    with session_scope() as session:  # a second admin, not asked so far
        add_merchant_user(session, merchant_id=merchant["id"], name="Bob", wa_id=BOB)
    # Tuesday 16:30: 18.5 hours ago, but only 2.5 business hours (30 min + 2 h): overdue,
    # not closed
    _opened_at("2026-12-01T16:30")
    eventually(lambda: _notification().sla_stage == Stage.ESCALATED, timeout=30)
    eventually(lambda: len(_templates_to(graph, BOB)) == 1, timeout=30)
    eventually(lambda: len(_templates_to(graph, ALICE)) == 3, timeout=30)
    assert _notification().status == NotificationStatus.REQUESTED

    _opened_at("2026-12-01T15:00")  # 4 business hours: closed
    eventually(lambda: _notification().status == NotificationStatus.EXPIRED, timeout=30)
    told = eventually(
        lambda: [s for s in graph.sent if s.get("to") == CUSTOMER and s["type"] == "text"][1:],
        timeout=30,
    )
    assert told[0]["text"]["body"] == CLOSED_FOR_CUSTOMER["en"]
    with session_scope() as session:
        conversation = session.get(Conversation, _notification().conversation_id)
        assert conversation.needs_human  # an operator follows up
    assert len(_templates_to(graph, ALICE)) == 3 and len(_templates_to(graph, BOB)) == 1
