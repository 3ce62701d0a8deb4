"""CSAT on the real stack: resolving sends a survey (a list inside the window, the
csat_survey template outside it, once per cooldown); the customer's tap or typed digit is
stored as the score and thanked, the next text as the comment, neither reaching the AI nor
reopening the conversation; anything else is answered by the AI as usual."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select, update

from channels.simulators.webhooks import message_payload
from persistence.db import session_scope
from persistence.models import Conversation, CsatResponse
from services.templates.defaults import TemplateRole
from tests.factories import make_template
from tests.helpers import eventually, post_webhook
from tests.integration.desk_helpers import (
    ADMIN,
    conversation_of,
    customer_writes,
    detail,
    make_operator,
)

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]


def _resolve(client, conversation_id: int, headers: dict) -> None:
    url = f"/api/v1/conversations/{conversation_id}/resolve"
    assert client.post(url, headers=headers).status_code == 200


def _answered(client, merchant, fakes) -> int:
    customer_writes(client, merchant, "hello")
    fakes["graph"].wait_for_sent(1, timeout=20)
    return conversation_of()


def _tap(client, merchant, row_id: str, title: str, context: str) -> None:
    reply = {"type": "list_reply", "list_reply": {"id": row_id, "title": title}}
    message = {"type": "interactive", "interactive": reply, "context": {"id": context}}
    payload = message_payload(phone_number_id=merchant["phone_number_id"], message=message)
    assert post_webhook(client, payload).status_code == 200


def _surveys() -> list[CsatResponse]:
    with session_scope() as session:
        rows = list(session.scalars(select(CsatResponse).order_by(CsatResponse.id)))
        session.expunge_all()
        return rows


def test_a_tapped_score_and_a_comment_are_stored_without_the_ai_and_later_text_reopens(
    stack, client, merchant, fakes, clean
):
    olga = make_operator(client, "Olga")
    conversation_id = _answered(client, merchant, fakes)
    client.post("/api/v1/takeover", headers=olga["headers"],
                json={"conversation_id": conversation_id})  # fmt: skip
    _resolve(client, conversation_id, olga["headers"])
    survey = fakes["graph"].wait_for_sent(2, timeout=20)[1]
    assert survey["type"] == "interactive" and survey["interactive"]["type"] == "list"
    assert survey["interactive"]["body"]["text"] == "How did we do?"
    rows = survey["interactive"]["action"]["sections"][0]["rows"]
    titles = ["5 Excellent", "4 Good", "3 Okay", "2 Poor", "1 Very poor"]
    assert [r["title"] for r in rows] == titles
    llm_calls = len(fakes["gemini"].requests)

    _tap(client, merchant, rows[1]["id"], rows[1]["title"], survey["_wamid"])
    thanks = fakes["graph"].wait_for_sent(3, timeout=20)[2]
    assert thanks["text"]["body"].startswith("Thank you for your rating!")
    customer_writes(client, merchant, "Olga was very quick")
    eventually(lambda: _surveys()[0].comment == "Olga was very quick")
    [answer] = _surveys()
    assert (answer.score, answer.ai_only, answer.operator_id) == (4, False, olga["id"])
    assert detail(client, conversation_id)["status"] == "resolved"
    assert len(fakes["gemini"].requests) == llm_calls  # no turn for the answer or comment

    customer_writes(client, merchant, "where is my order?")
    fakes["graph"].wait_for_sent(4, timeout=20)  # the AI answers as usual
    assert fakes["gemini"].user_texts(fakes["gemini"].requests[-1])[-1] == "where is my order?"
    assert detail(client, conversation_id)["status"] == "open"
    assert len(_surveys()) == 1


def test_outside_the_window_the_template_goes_out_and_a_typed_digit_scores(
    stack, client, merchant, fakes
):
    with session_scope() as session:
        make_template(session, merchant_id=merchant["id"], role=TemplateRole.CSAT_SURVEY)
    conversation_id = _answered(client, merchant, fakes)
    with session_scope() as session:
        day_ago = datetime.now(UTC) - timedelta(hours=25)
        session.execute(update(Conversation).values(last_inbound_at=day_ago))
    _resolve(client, conversation_id, ADMIN)
    survey = fakes["graph"].wait_for_sent(2, timeout=20)[1]
    assert survey["template"]["name"] == "switchboard_csat_survey"
    llm_calls = len(fakes["gemini"].requests)
    customer_writes(client, merchant, "5")
    fakes["graph"].wait_for_sent(3, timeout=20)  # the thank-you
    [answer] = _surveys()
    assert (answer.score, answer.ai_only, answer.operator_id) == (5, True, None)
    assert len(fakes["gemini"].requests) == llm_calls


def test_the_cooldown_allows_one_survey_per_conversation(stack, client, merchant, fakes):
    conversation_id = _answered(client, merchant, fakes)
    _resolve(client, conversation_id, ADMIN)
    fakes["graph"].wait_for_sent(2, timeout=20)
    customer_writes(client, merchant, "actually, one more thing")  # not an answer: the AI
    fakes["graph"].wait_for_sent(3, timeout=20)
    eventually(lambda: detail(client, conversation_id)["status"] == "open")
    _resolve(client, conversation_id, ADMIN)
    customer_writes(client, merchant, "thanks")
    sent = fakes["graph"].wait_for_sent(4, timeout=20)
    assert [m["type"] for m in sent] == ["text", "interactive", "text", "text"]
    assert len(_surveys()) == 1 and _surveys()[0].score is None
