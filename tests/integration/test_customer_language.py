"""The customer's language is detected, remembered and used (#21 point 8): short words do
not flip it, fixed texts follow it, and staff read a foreign question in their language."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Customer, Message, NotificationRecipient
from services.conversations.language import detect_language
from services.handoff.phrases import FOLLOW_UP, HOLDING, phrase
from services.merchants.merchant import add_merchant_user
from services.notifications.flows import dispatch
from services.notifications.notifications import open_for_staff, open_notification
from tasks import runner, runtime
from tests.helpers import store_text

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("text", "prior", "language"),
    [
        ("Hola, ¿tienen zapatillas de trail en talla 42?", None, "es"),
        ("Olá, vocês entregam em Lisboa amanhã?", "es", "pt"),
        ("Do you ship to Canada?", "en", "en"),  # short, but what was expected
        ("Do you ship to Canada?", None, None),  # short, and 0.93 is not sure enough
        ("a poisonous question", "en", None),  # short: French at 0.89 is not sure enough
        ("ok", "es", None), ("👍👍", None, None), ("gracias!", "es", None),
        ("Nike Pegasus 41", "en", None),
    ],
)  # fmt: skip
def test_only_text_long_enough_to_tell_sets_a_language(
    text: str, prior: str | None, language: str | None
) -> None:
    assert detect_language(text, prior=prior) == language


def _language() -> str | None:
    with session_scope() as session:
        return session.scalars(select(Customer.language)).one()


def test_the_language_is_remembered_and_ok_does_not_flip_it(merchant, fakes):
    gemini = fakes["gemini"]
    conversation_id = store_text(merchant, "Hola, ¿tienen zapatillas de trail en talla 42?")
    runner.run(conversation_id)
    assert _language() == "es"
    store_text(merchant, "ok 👍")
    runner.run(conversation_id)
    assert _language() == "es"
    system = gemini.system_text(gemini.requests[-1])
    assert "The customer writes in the language with code 'es'" in system


def test_the_holding_message_is_in_the_customers_language(merchant, fakes, monkeypatch):
    monkeypatch.setattr(runtime, "agent_model", lambda *toolset: None)  # no LLM at all
    conversation_id = store_text(merchant, "Olá, vocês entregam em Lisboa amanhã?")
    runner.run(conversation_id)
    assert [s["text"]["body"] for s in fakes["graph"].sent] == [HOLDING["pt"]]


def test_fixed_texts_fall_back_to_english():
    assert phrase(FOLLOW_UP, "es-MX") == FOLLOW_UP["es"]
    assert phrase(HOLDING, "sw") == phrase(HOLDING, None) == HOLDING["en"]


def _ask_alice(merchant: dict, question: str) -> int:
    """The customer asked `question`; the request to Alice, the admin, waits for dispatch."""
    conversation_id = store_text(merchant, question)
    runner.run(conversation_id)  # the customer's language is learned from their words
    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Alice", wa_id="1001")
        return open_notification(
            session, conversation_id=conversation_id, notification_type="user_question_request",
            context={"question": question},
        ).id  # fmt: skip


def test_staff_read_a_foreign_question_with_its_translation(merchant, fakes):
    fakes["gemini"].structured = lambda request, schema: {"translation": "Do you ship to Canada?"}
    notification_id = _ask_alice(merchant, "¿Hacen envíos a Canadá desde Madrid, por favor?")

    (sent_id,) = dispatch(notification_id)

    with session_scope() as session:
        template = session.get(Message, sent_id).raw["template"]
        note = session.scalars(select(Message.text).where(Message.direction == "note")).one()
        alice = session.scalars(select(NotificationRecipient.merchant_user_id)).one()
        (waiting,) = open_for_staff(session, alice)  # what her agent's [Context] message lists
    asked = "¿Hacen envíos a Canadá desde Madrid, por favor?"
    assert f"{asked} (translated: Do you ship to Canada?)" in template["parameters"]
    assert f'"{asked}" (translated: "Do you ship to Canada?")' in waiting.summary
    assert "Canad" not in note  # the note is in her system prompt: no customer words there
    (request,) = fakes["gemini"].structured_requests
    assert "'en'" in str(request)  # into the merchant's language


def test_a_question_in_the_staffs_language_is_not_translated(merchant, fakes):
    dispatch(_ask_alice(merchant, "Do you ship to Canada?"))
    assert fakes["gemini"].structured_requests == []
