"""Escalations neither lose nor repeat questions (#21 point 5): two questions in one burst
are two requests, the same question is asked once, and pending questions are in the prompt."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Notification
from tasks import runner
from tests.helpers import store_text

pytestmark = pytest.mark.integration
ASK = "request_notification"
CANADA = {"notification_type": "user_question_request",
          "context": {"question": "Do you ship to Canada?"}}  # fmt: skip
GIFT = {"notification_type": "user_question_request",
        "context": {"question": "Do you sell gift cards?"}}  # fmt: skip



def _questions() -> list[str]:
    with session_scope() as session:
        rows = session.scalars(select(Notification).order_by(Notification.id))
        return [n.context["question"] for n in rows]


def test_two_questions_in_one_burst_are_two_requests(merchant, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool(ASK, CANADA).call_tool(ASK, GIFT).reply("I have asked the team both.")
    conversation_id = store_text(merchant, "Do you ship to Canada? And do you sell gift cards?")

    runner.run(conversation_id)

    assert _questions() == ["Do you ship to Canada?", "Do you sell gift cards?"]
    assert fakes["graph"].sent[-1]["text"]["body"] == "I have asked the team both."


def test_the_same_question_is_asked_once_and_the_prompt_lists_it_as_waiting(merchant, fakes):
    gemini = fakes["gemini"]
    gemini.call_tool(ASK, CANADA).reply("I have asked the team.")
    conversation_id = store_text(merchant, "Do you ship to Canada?")
    runner.run(conversation_id)

    again = {**CANADA, "context": {"question": "do you ship to  canada"}}
    gemini.call_tool(ASK, again).reply("It is still with the team.")
    store_text(merchant, "so, Canada?")
    runner.run(conversation_id)

    assert _questions() == ["Do you ship to Canada?"]
    turn = [r for r in gemini.requests if "so, Canada?" in str(r["contents"])]
    context = gemini.user_texts(turn[0])[0]  # the customer's words: data, not the system's
    assert "already with the team, still unanswered" in context
    assert '- "\\"Do you ship to Canada?\\" (asked ' in context
    assert "Do you ship to Canada?" not in gemini.system_text(turn[0])
    assert "already with the team and still waiting" in gemini.tool_outputs(gemini.requests[-1])[-1]


def test_the_tool_offers_only_known_request_types(merchant, fakes):
    conversation_id = store_text(merchant, "hello")
    runner.run(conversation_id)
    tools = fakes["gemini"].requests[0]["tools"][0]["functionDeclarations"]
    (ask,) = [t for t in tools if t["name"] == ASK]
    assert ask["parameters"]["properties"]["notification_type"]["enum"] == [
        "user_question_request"
    ]
