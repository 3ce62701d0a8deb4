"""The away message (#18 point 4) on the real stack, the clock frozen on a Saturday for every
process (FROZEN_TIME) and no model configured (no API key): a customer who writes while the
business is closed and nobody answers gets the merchant's away message at the Graph API,
once per closed period, whatever they send; open hours, no away message set, or an operator
at the console mean none."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select, update

from persistence.db import session_scope
from persistence.models import Author, Conversation, ConversationMode, Message, Turn
from services.handoff.phrases import HOLDING
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.factories import make_conversation
from tests.helpers import eventually
from tests.integration.desk_helpers import conversation_of, customer_writes, make_operator

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SATURDAY_NOON = "2026-12-05T12:00:00+00:00"  # 13:00 in Madrid
WEEKDAYS = {day: ["09:00-14:00", "16:00-19:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
AWAY = "We're closed for the weekend; we'll answer on Monday from 09:00."
CLOSED = {"timezone": "Europe/Madrid", "weekly": WEEKDAYS, "away_message": AWAY}
WA_ID = "34600123456"


@pytest.fixture(scope="module")
def no_model_stack(servers, tmp_path_factory):
    yield from running_stack(
        servers, tmp_path_factory, "away", FROZEN_TIME=SATURDAY_NOON,
        GOOGLE_API_KEY="", OPENAI_API_KEY="",
    )  # fmt: skip


def _set_hours(client, merchant: dict, hours: dict) -> None:
    response = client.put(
        f"/api/v1/merchants/{merchant['id']}/business-hours", headers=ADMIN, json=hours
    )
    assert response.status_code == 200, response.text


def _turns_done(count: int) -> bool:
    """Every inbound message has had its turn, and `count` turns finished."""
    with session_scope() as session:
        finished = session.scalar(
            select(func.count()).select_from(Turn).where(Turn.finished_at.is_not(None))
        )
        waiting = session.scalar(
            select(func.count()).select_from(Message).where(
                Message.direction == "in", Message.turn_id.is_(None)
            )
        )
    return finished == count and waiting == 0


def _writes_and_waits(client, merchant: dict, text: str, turns: int) -> None:
    customer_writes(client, merchant, text, wa_id=WA_ID)
    eventually(lambda: _turns_done(turns), timeout=120)


def test_outside_hours_the_away_message_goes_out_once_per_closed_period(
    no_model_stack, client, merchant, fakes
):
    _set_hours(client, merchant, CLOSED)
    graph = fakes["graph"]
    _writes_and_waits(client, merchant, "Hello, is anyone there?", turns=1)
    _writes_and_waits(client, merchant, "I need to change my order", turns=2)
    _writes_and_waits(client, merchant, "Hello???", turns=3)
    # the away message alone: not the holding message ("a technical problem") as well
    assert graph.texts_to(WA_ID) == [AWAY]
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_of(WA_ID))
        assert conversation is not None and conversation.needs_human  # a person still follows up
        authors = session.scalars(select(Message.author).where(Message.direction == "out"))
        assert list(authors) == [Author.SYSTEM]
        # as if the last one went out during Friday's opening hours: this closed period is new
        session.execute(
            update(Conversation)
            .where(Conversation.id == conversation.id)
            .values(away_sent_at="2026-12-04T10:00:00+00:00")
        )
    _writes_and_waits(client, merchant, "Still there?", turns=4)
    assert graph.texts_to(WA_ID) == [AWAY, AWAY]


def test_inside_hours_no_away_message(no_model_stack, client, merchant, fakes):
    _set_hours(client, merchant, {**CLOSED, "weekly": {**WEEKDAYS, "sat": ["10:00-14:00"]}})
    _writes_and_waits(client, merchant, "Hello, is anyone there?", turns=1)
    assert fakes["graph"].texts_to(WA_ID) == [HOLDING["en"]]


def test_without_an_away_message_the_holding_message_says_when_we_open(
    no_model_stack, client, merchant, fakes
):
    _set_hours(client, merchant, {**CLOSED, "away_message": None})
    _writes_and_waits(client, merchant, "Hello, is anyone there?", turns=1)
    (sent,) = fakes["graph"].texts_to(WA_ID)
    assert sent.startswith(HOLDING["en"]) and "09:00, Monday" in sent and AWAY not in sent


def _in_operator_mode(merchant: dict) -> None:
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=WA_ID
        )
        conversation.mode = ConversationMode.OPERATOR


def test_a_conversation_taken_over_gets_the_away_message_when_no_operator_is_online(
    no_model_stack, client, merchant, fakes
):
    _set_hours(client, merchant, CLOSED)
    _in_operator_mode(merchant)
    _writes_and_waits(client, merchant, "Are you there?", turns=1)
    _writes_and_waits(client, merchant, "Hello?", turns=2)
    assert fakes["graph"].texts_to(WA_ID) == [AWAY]


def test_no_away_message_while_an_operator_is_at_the_console(
    no_model_stack, client, merchant, fakes
):
    _set_hours(client, merchant, CLOSED)
    _in_operator_mode(merchant)
    operator = make_operator(client, "Ada")
    assert client.post("/api/v1/presence", headers=operator["headers"]).status_code == 204
    _writes_and_waits(client, merchant, "Are you there?", turns=1)
    assert fakes["graph"].texts_to(WA_ID) == []


def test_another_merchants_operator_online_does_not_count(
    no_model_stack, client, merchant, fakes
):
    _set_hours(client, merchant, CLOSED)
    _in_operator_mode(merchant)
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Other Shop"})
    assert other.status_code == 201, other.text
    made = client.post(
        "/api/v1/operators", headers=ADMIN,
        json={"name": "Zoe", "merchant_id": other.json()["id"]},
    )  # fmt: skip
    assert made.status_code == 201, made.text
    headers = {"Authorization": f"Bearer {made.json()['token']}"}
    assert client.post("/api/v1/presence", headers=headers).status_code == 204
    _writes_and_waits(client, merchant, "Are you there?", turns=1)
    assert fakes["graph"].texts_to(WA_ID) == [AWAY]
