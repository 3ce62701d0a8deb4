"""Degraded mode with no LLM configured (a worker without API keys): a question a FAQ surely
answers gets that answer; anything else gets the holding message once, and a person."""

from __future__ import annotations

import time

import pytest

from services.handoff.phrases import HOLDING
from tests.conftest import running_stack
from tests.helpers import eventually
from tests.integration.degraded_helpers import (
    add_faqs,
    ask,
    conversation_of,
    outbound_authors,
    sent_texts,
)

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def keyless_stack(servers, tmp_path_factory):
    """A worker and beat with no LLM key at all."""
    yield from running_stack(
        servers, tmp_path_factory, "keyless", GOOGLE_API_KEY="", OPENAI_API_KEY=""
    )


def test_a_faq_question_is_answered_from_the_knowledge_base(keyless_stack, client, merchant, fakes):
    add_faqs(client, merchant)
    ask(client, merchant, "Hi! What are your opening hours?")
    (text,) = fakes["graph"].wait_for_sent(1, timeout=30)
    assert text["text"]["body"] == (  # the document's content, in WhatsApp's formatting
        "We are open *Monday to Friday*, 9:00 to 18:00, and Saturday 10:00 to 14:00."
    )
    conversation = eventually(lambda: (c := conversation_of(client, "15551234567"))["messages"]
                              and outbound_authors(c) == ["auto_answer"] and c)  # fmt: skip
    assert conversation["needs_human"] is False  # the customer has their answer
    assert conversation["last_message"]["author"] == "auto_answer"
    assert conversation["unanswered"] == 0
    assert fakes["gemini"].requests == [] and fakes["openai"].requests == []


def test_the_answer_is_the_one_in_the_customers_language(keyless_stack, client, merchant, fakes):
    add_faqs(client, merchant)
    ask(client, merchant, "Hola, ¿cuál es vuestro horario de apertura?", wa_id="34600111222")
    (text,) = fakes["graph"].wait_for_sent(1, timeout=30)
    assert text["text"]["body"].startswith("Abrimos de *lunes a viernes*")


def test_a_question_no_faq_surely_answers_gets_the_holding_message_once(
    keyless_stack, client, merchant, fakes
):
    add_faqs(client, merchant)
    ask(client, merchant, "Can I return shoes I already wore twice?")  # the policy's topic only
    fakes["graph"].wait_for_sent(1, timeout=30)
    conversation = eventually(lambda: (c := conversation_of(client, "15551234567"))["needs_human"]
                              and c, timeout=20)  # fmt: skip
    assert "no LLM provider" in conversation["needs_human_reason"]
    assert sent_texts(fakes) == [HOLDING["en"]]
    assert outbound_authors(conversation) == ["holding"]
    ask(client, merchant, "Do you ship to Mars?")  # a draft FAQ is never sent
    ask(client, merchant, "hello??")
    time.sleep(4)
    assert sent_texts(fakes) == [HOLDING["en"]]  # once per outage; a person has it now
