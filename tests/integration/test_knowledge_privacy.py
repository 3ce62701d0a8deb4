"""What one customer is told by the team never becomes knowledge for the next customer.

Staff answers reach their own customer; the knowledge base grows only by reviewed drafts
of lasting public facts, and the migration withdrew what the old flow had published.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import Document, Notification
from services.knowledge import knowledge
from services.knowledge.personal_data import find_personal_data
from services.notifications.answers import Answerer, answer_notification
from services.notifications.flows import draft_from_answer
from services.notifications.notifications import open_notification
from tests.factories import make_conversation

pytestmark = pytest.mark.integration
LEAKY_QUESTION = "Has my order #4411 to 12 Baker Street shipped?"
LEAKY_ANSWER = "Yes, Ana: it left on Monday with DHL, tracking 1Z999AA10123456784."


@pytest.fixture
def asked(merchant: dict) -> dict:
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"],
            profile_name="Ana Lopez",
        )  # fmt: skip
    return {**merchant, "conversation": conversation.id}


def _answered(asked: dict, question: str, answer: str) -> int:
    with session_scope() as session:
        notification = open_notification(
            session, conversation_id=asked["conversation"],
            notification_type="user_question_request", context={"question": question},
        )  # fmt: skip
        answer_notification(
            session, notification_id=notification.id, answer={"answer": answer},
            answerer=Answerer(name="Olga"),
        )  # fmt: skip
        return notification.id


def _model_drafts(fakes: dict, draft: dict) -> None:
    for provider in ("gemini", "openai"):
        fakes[provider].structured = lambda request, schema: draft


def _documents() -> list[Document]:
    with session_scope() as session:
        return list(session.scalars(select(Document)))


def test_an_order_specific_answer_is_never_offered_to_another_customer(asked, fakes):
    _model_drafts(fakes, {"reusable": False, "title": "", "content": ""})
    notification_id = _answered(asked, LEAKY_QUESTION, LEAKY_ANSWER)
    assert draft_from_answer(notification_id) is None
    assert _documents() == []
    with session_scope() as session:
        for query in ("has my order shipped", "DHL tracking", "shipping Baker Street"):
            assert knowledge.search(session, merchant_id=asked["id"], query=query) == []
    request = fakes["gemini"].structured_requests[-1]
    assert LEAKY_QUESTION in str(request) and LEAKY_ANSWER in str(request)


def test_a_lasting_public_fact_becomes_a_draft_for_review_once(asked, fakes):
    _model_drafts(
        fakes,
        {"reusable": True, "title": "Do you ship to Canada?",
         "content": "Yes, orders to Canada arrive in 5 to 7 working days."},
    )  # fmt: skip
    notification_id = _answered(asked, "Do you ship to Canada? I'm in Toronto", "Yes, 5-7 days")
    draft_id = draft_from_answer(notification_id)
    assert draft_id is not None and draft_from_answer(notification_id) == draft_id
    [document] = _documents()
    assert (document.id, document.status, document.category) == (
        draft_id, "draft", knowledge.USER_QUESTION,
    )  # fmt: skip
    assert document.title == "Do you ship to Canada?"
    assert f"NOTIF_{notification_id}" in (document.review_note or "")
    with session_scope() as session:
        assert session.get(Notification, notification_id).document_id == draft_id
        assert knowledge.search(session, merchant_id=asked["id"], query="ship Canada") == []
        knowledge.publish_document(session, draft_id)
    with session_scope() as session:
        found = knowledge.search(session, merchant_id=asked["id"], query="ship Canada")
    assert [p.document_id for p in found] == [draft_id]


@pytest.mark.parametrize(
    "draft",
    [
        {"reusable": True, "title": "Has order #4411 shipped?", "content": "Yes, with DHL."},
        {"reusable": True, "title": "Shipping", "content": "Ana's parcel left on Monday."},
        {"reusable": True, "title": "Tracking", "content": "Use code 1Z999AA10123456784."},
    ],
)
def test_a_draft_that_still_looks_personal_is_dropped_whatever_the_model_says(
    asked, fakes, draft
):
    _model_drafts(fakes, draft)
    assert draft_from_answer(_answered(asked, LEAKY_QUESTION, LEAKY_ANSWER)) is None
    assert _documents() == []


def test_without_a_working_model_nothing_is_drafted(asked, fakes):
    fakes["gemini"].structured_failures = fakes["openai"].structured_failures = 10
    assert draft_from_answer(_answered(asked, "Do you ship to Canada?", "Yes")) is None
    assert _documents() == []


def test_support_requests_and_unanswered_questions_give_no_draft(asked, fakes):
    _model_drafts(fakes, {"reusable": True, "title": "Refunds", "content": "Within 30 days."})
    with session_scope() as session:
        question = open_notification(
            session, conversation_id=asked["conversation"],
            notification_type="user_question_request", context={"question": "Refunds?"},
        ).id  # fmt: skip
    assert draft_from_answer(question) is None
    assert fakes["gemini"].structured_requests == []


@pytest.mark.parametrize(
    ("text_", "expected"),
    [
        ("We ship to Canada in 5 to 7 working days.", []),
        ("Open Monday to Friday, 9:00 to 18:00; shoes from 20 to 200 euros.", []),
        ("Returns within 30 days at any store.", []),
        ("Tu pedido 4411 salió ayer.", ["an order or reference number"]),
        ("Enviado a Calle Mayor 12.", ["a street address"]),
        ("Card 4111 1111 1111 1111 was charged.", ["a phone or card number"]),
    ],
)
def test_the_personal_data_guard(text_, expected):
    assert find_personal_data(text_) == expected


def test_the_guard_knows_the_customers_name():
    assert find_personal_data("Thanks Ana, it shipped.", names=["Ana Lopez"]) == [
        "the customer's name"
    ]
    assert find_personal_data("Bananas are in stock.", names=["Ana Lopez"]) == []
