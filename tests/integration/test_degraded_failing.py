"""Degraded mode with every LLM provider failing (the simulators answer errors), and the
figures that tell model-written replies, automatic answers, holding messages and people's
replies apart."""

from __future__ import annotations

import re

import pytest
from prometheus_client.parser import text_string_to_metric_families

from services.handoff.phrases import HOLDING
from tests.helpers import eventually
from tests.integration.console_helpers import login
from tests.integration.degraded_helpers import (
    ADMIN,
    add_faqs,
    ask,
    conversation_of,
    outbound_authors,
    sent_texts,
)

pytestmark = pytest.mark.integration
ANA, JORDI, LEA = "15551234567", "34600111222", "33612345678"


def _providers_down(fakes: dict) -> None:
    fakes["gemini"].fail(503, times=100)
    fakes["openai"].fail(500, times=100)


def test_failing_providers_answer_a_faq_and_hold_the_rest(stack, client, merchant, fakes):
    add_faqs(client, merchant)
    _providers_down(fakes)
    ask(client, merchant, "What are your opening hours?", wa_id=ANA)
    fakes["graph"].wait_for_sent(1, timeout=40)
    assert fakes["gemini"].requests  # the model was asked, and failed
    ana = eventually(lambda: outbound_authors(c := conversation_of(client, ANA)) and c)
    assert outbound_authors(ana) == ["auto_answer"] and not ana["needs_human"]
    ask(client, merchant, "My parcel arrived damaged, what now?", wa_id=JORDI)
    fakes["graph"].wait_for_sent(2, timeout=40)
    jordi = eventually(lambda: (c := conversation_of(client, JORDI))["needs_human"] and c)
    assert outbound_authors(jordi) == ["holding"]
    assert sent_texts(fakes)[1] == HOLDING["en"]


def test_stats_count_model_replies_automatic_answers_holding_messages_and_people_apart(
    stack, client, merchant, fakes
):
    add_faqs(client, merchant)
    _providers_down(fakes)
    ask(client, merchant, "What are your opening hours?", wa_id=ANA)  # automatic answer
    ask(client, merchant, "My parcel arrived damaged, what now?", wa_id=JORDI)  # holding
    fakes["graph"].wait_for_sent(2, timeout=40)
    fakes["gemini"].reset()  # the provider is back
    fakes["gemini"].reply("We ship to France in 3 days.")
    ask(client, merchant, "Do you ship to France?", wa_id=LEA)  # the model's reply
    fakes["graph"].wait_for_sent(3, timeout=40)
    ref = {"customer": JORDI}
    assert client.post("/api/v1/takeover", headers=ADMIN, json=ref).status_code == 200
    said = client.post("/api/v1/operator-message", headers=ADMIN,
                       json={**ref, "text": "Olga here: send me a photo please."})  # fmt: skip
    assert said.status_code == 200, said.text
    expected = {"ai": 1, "auto_answer": 1, "holding": 1, "human": 1}
    replies = eventually(
        lambda: (r := client.get("/stats", headers=ADMIN).json()["replies"]) == expected and r
    )
    assert replies == expected
    sent = {
        sample.labels["author"]: sample.value
        for family in text_string_to_metric_families(client.get("/metrics", headers=ADMIN).text)
        for sample in family.samples
        if sample.name == "switchboard_messages_sent_total"
    }
    assert sent.get("auto_answer", 0) >= 1 and sent.get("holding", 0) >= 1  # apart from "ai"
    login(client, ADMIN["Authorization"].removeprefix("Bearer "))
    page = client.get("/console/stats").text
    shown = dict(re.findall(r'data-kind="(\w+)">(\d+)<', page))
    assert shown == {"ai": "1", "auto_answer": "1", "holding": "1", "human": "1"}
    assert "25%</span> answered by the AI" in page  # holding messages are not AI answers
