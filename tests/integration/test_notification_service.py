"""The notification services and HTTP API against a real PostgreSQL: every validation error
of the request and answer flows, routing and its fallbacks, racing answers."""

from __future__ import annotations

import json
import threading

import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.models import (
    Document,
    Message,
    Notification,
    NotificationRecipient,
    Turn,
)
from services.conversations.conversation import upsert_conversation, upsert_customer
from services.errors import Conflict, Forbidden, InvalidInput, NotFound
from services.knowledge import knowledge
from services.merchants.merchant import add_merchant_user
from services.notifications.answers import Answerer, answer_notification
from services.notifications.flows import dispatch
from services.notifications.notifications import (
    ambiguity,
    mentioned_ids,
    open_notification,
    parse_ref,
)
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
QUESTION = {"question": "Do you ship to Canada?"}
OPERATOR = Answerer(name="Olga", operator_id=None)


@pytest.fixture
def shop(merchant: dict) -> dict:
    """A customer conversation and two admins."""
    with session_scope() as session:
        customer = upsert_customer(
            session, merchant_id=merchant["id"], wa_id="15551234567", user_id=None,
            profile_name="Ana",
        )  # fmt: skip
        conversation = upsert_conversation(
            session, phone_id=merchant["phone_id"], customer_id=customer.id
        )
        alice = add_merchant_user(session, merchant_id=merchant["id"], name="Alice", wa_id="1001")
        bob = add_merchant_user(session, merchant_id=merchant["id"], name="Bob", wa_id="1002")
        return {**merchant, "conversation": conversation.id, "alice": alice.id, "bob": bob.id}


def _open(shop: dict, type_: str = "user_question_request", context: dict = QUESTION) -> int:
    with session_scope() as session:
        return open_notification(
            session, conversation_id=shop["conversation"], notification_type=type_,
            context=context,
        ).id  # fmt: skip


def _answer(notification_id, answer, answerer: Answerer = OPERATOR) -> Notification:
    with session_scope() as session:
        return answer_notification(
            session, notification_id=notification_id, answer=answer, answerer=answerer
        )


# --- ids ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"), [("NOTIF_1", 1), ("notif_42", 42), (" NOTIF_2147483647 ", 2**31 - 1)]
)
def test_prefixed_ids_parse(value, expected):
    assert parse_ref(value) == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("ORDER_12", "must look like NOTIF_123"),
        ("12", "must look like NOTIF_123"),
        ("NOTIF_", "must look like NOTIF_123"),
        ("NOTIF_-1", "must look like NOTIF_123"),
        ("NOTIF_2147483648", "out of range"),
        ("NOTIF_0", "out of range"),
        ("NOTIF_99999999999999999999", "must look like"),
    ],
)
def test_bad_ids_are_refused_with_a_reason(value, message):
    with pytest.raises(InvalidInput, match=message):
        parse_ref(value)


def test_ids_are_found_in_free_text():
    assert mentioned_ids("that's for NOTIF_12, and notif 13; also NOTIF#14") == {12, 13, 14}
    assert mentioned_ids("no id here, 12 is not one") == set()


# --- request flow ---------------------------------------------------------------------


def test_a_question_opens_a_notification_and_writes_no_knowledge(shop):
    notification_id = _open(shop)
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        assert notification.status == "requested"
        assert notification.context["lead_phone"] == "15551234567"
        assert notification.context["question"] == QUESTION["question"]
        assert notification.answer_schema["required"] == ["answer"]
        assert notification.document_id is None
        assert session.scalars(select(Document)).all() == []


@pytest.mark.parametrize(
    ("type_", "context", "error", "message"),
    [
        ("user_complaint", QUESTION, InvalidInput, "unknown notification type"),
        ("user_question_request", {}, InvalidInput, "needs question"),
        ("user_question_request", {"question": "ok"}, InvalidInput, "at least 3"),
        ("user_question_request", ["a list"], InvalidInput, "JSON object"),
        ("user_support_request", QUESTION, InvalidInput, "needs support_request_reason"),
    ],
)
def test_bad_requests_are_refused(shop, type_, context, error, message):
    with pytest.raises(error, match=message):
        _open(shop, type_, context)


def test_a_request_for_an_unknown_conversation_is_not_found(shop):
    with session_scope() as session, pytest.raises(NotFound):
        open_notification(
            session, conversation_id=999, notification_type="user_question_request",
            context=QUESTION,
        )  # fmt: skip


def test_a_redone_turn_opens_its_notification_once(shop):
    with session_scope() as session:
        turn = Turn(conversation_id=shop["conversation"], attempts=1)
        session.add(turn)
        session.flush()
        turn_id = turn.id
    ids = set()
    for _ in range(2):
        with session_scope() as session:
            ids.add(
                open_notification(
                    session, conversation_id=shop["conversation"],
                    notification_type="user_question_request", context=QUESTION, turn_id=turn_id,
                ).id
            )  # fmt: skip
    assert len(ids) == 1


def test_dispatch_asks_every_admin_once_with_an_instruction(shop):
    notification_id = _open(shop)
    first = dispatch(notification_id)
    assert len(first) == 2 and dispatch(notification_id) == first  # a redelivered task
    with session_scope() as session:
        templates = session.scalars(select(Message).where(Message.id.in_(first))).all()
        notes = session.scalars(select(Message).where(Message.direction == "note")).all()
        recipients = session.scalars(select(NotificationRecipient)).all()
    assert {m.raw["template"]["name"] for m in templates} == {"switchboard_question_request"}
    assert len(notes) == 2 and all("NOTIF_1" in n.text and '"answer"' in n.text for n in notes)
    assert {r.merchant_user_id for r in recipients} == {shop["alice"], shop["bob"]}


def test_support_requests_fall_back_to_admins(shop, fakes):
    """Classified as a type nobody has: the admins get it."""
    with session_scope() as session:
        knowledge.create_document(
            session, merchant_id=shop["id"], title="sales", content="orders and prices",
            category=knowledge.SUPPORT_CLASSIFICATION,
        )  # fmt: skip
    fakes["gemini"].structured = lambda r, s: {"user_type": "sales", "request_type": "Order"}
    notification_id = _open(shop, "user_support_request", {"support_request_reason": "Where?"})
    assert len(dispatch(notification_id)) == 2
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
    assert notification.target_user_type == "sales"
    assert notification.context["support_request_type"] == "Order"
    assert "sales" in json.dumps(fakes["gemini"].structured_requests[-1])


def test_without_classification_documents_no_model_is_asked(shop, fakes):
    notification_id = _open(shop, "user_support_request", {"support_request_reason": "Help me"})
    dispatch(notification_id)
    assert fakes["gemini"].structured_requests == []
    with session_scope() as session:
        assert session.get(Notification, notification_id).target_user_type == "admin"


def test_a_merchant_without_staff_records_why(merchant):
    with session_scope() as session:
        customer = upsert_customer(session, merchant_id=merchant["id"], wa_id="1", user_id=None)
        conversation_id = upsert_conversation(
            session, phone_id=merchant["phone_id"], customer_id=customer.id
        ).id
        notification_id = open_notification(
            session, conversation_id=conversation_id, notification_type="user_question_request",
            context=QUESTION,
        ).id  # fmt: skip
    assert dispatch(notification_id) == []
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
    assert notification.dispatched_at is not None and "no staff" in notification.error


# --- answer flow ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        ("not json", "not valid JSON"),
        ('["a list"]', "must be a JSON object"),
        ("{}", "needs answer"),
        ('{"answer": ""}', "needs answer"),
        ('{"answer": 42}', "does not match its schema: answer: 42 is not of type 'string'"),
        ('{"answer": "yes", "price": 3}', "does not match its schema"),
    ],
)
def test_bad_answers_are_refused_with_a_reason(shop, answer, message):
    notification_id = _open(shop)
    with pytest.raises(InvalidInput, match=message):
        _answer(notification_id, answer)
    with session_scope() as session:
        assert session.get(Notification, notification_id).status == "requested"


def test_an_answer_closes_the_notification_and_publishes_nothing(shop):
    notification_id = _open(shop)
    _answer(f"NOTIF_{notification_id}", {"answer": "Yes, in 5 days."})
    with pytest.raises(Conflict, match="already been answered by Olga and is now closed"):
        _answer(notification_id, {"answer": "No!"})
    with session_scope() as session:
        notification = session.get(Notification, notification_id)
        assert notification.status == "answered" and notification.answer == {
            "answer": "Yes, in 5 days."
        }
        assert knowledge.search(session, merchant_id=shop["id"], query="ship Canada days") == []


def test_answering_an_unknown_notification_is_not_found(shop):
    with pytest.raises(NotFound, match="NOTIF_77 does not exist"):
        _answer("NOTIF_77", {"answer": "x"})


def test_an_unknown_stored_type_is_refused(shop):
    notification_id = _open(shop)
    with session_scope() as session:
        session.get(Notification, notification_id).type = "legacy_type"
    with pytest.raises(InvalidInput, match="unknown notification type"):
        _answer(notification_id, {"answer": "x"})


def test_staff_answer_only_what_they_were_asked(shop):
    with session_scope() as session:
        rita = add_merchant_user(
            session, merchant_id=shop["id"], name="Rita", wa_id="1003", type="returns"
        ).id
    notification_id = _open(shop)
    dispatch(notification_id)  # to the admins only
    with pytest.raises(Forbidden, match="was not sent to you"):
        _answer(notification_id, {"answer": "x"}, Answerer(name="Rita", merchant_user_id=rita))
    _answer(notification_id, {"answer": "x"}, Answerer(name="Bob", merchant_user_id=shop["bob"]))


def test_support_answers_keep_resolution_notes_internal_and_require_the_response(shop):
    notification_id = _open(shop, "user_support_request", {"support_request_reason": "Broken"})
    with pytest.raises(InvalidInput, match="needs agent_response_to_customer"):
        _answer(notification_id, {"resolution_notes": "refunded"})
    done = _answer(notification_id, {"agent_response_to_customer": "Refunded.",
                                     "resolution_notes": "courier claim"})  # fmt: skip
    assert done.answer["resolution_notes"] == "courier claim"


def test_ambiguity_needs_a_reply_or_an_id_when_several_are_open(shop):
    first, second = _open(shop), _open(shop, context={"question": "Gift cards?"})
    dispatch(first)
    dispatch(second)
    with session_scope() as session:
        turn = Turn(conversation_id=shop["conversation"], attempts=1)
        session.add(turn)
        session.flush()
        session.add(Message(conversation_id=shop["conversation"], direction="in",
                            author="customer", text="yes", status="received", turn_id=turn.id,
                            send_attempts=0))  # fmt: skip
        turn_id = turn.id
    with session_scope() as session:
        unclear = ambiguity(
            session, merchant_user_id=shop["alice"], turn_id=turn_id, notification_id=first
        )
        assert "NOTIF_1" in unclear and "NOTIF_2" in unclear and "do not guess" in unclear
        session.scalars(
            select(Message).where(Message.turn_id == turn_id)
        ).one().text = "NOTIF_2: yes"
        session.flush()
        assert (
            ambiguity(
                session, merchant_user_id=shop["alice"], turn_id=turn_id, notification_id=second
            )
            is None
        )


def test_two_answers_at_the_same_moment_exactly_one_wins(shop):
    notification_id = _open(shop)
    barrier = threading.Barrier(4)
    outcomes: list[str] = []

    def answer(who: str) -> None:
        barrier.wait()
        try:
            _answer(notification_id, {"answer": f"{who} says yes"}, Answerer(name=who))
            outcomes.append("won")
        except Conflict:
            outcomes.append("closed")

    threads = [threading.Thread(target=answer, args=(f"admin{i}",)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["closed", "closed", "closed", "won"]


# --- HTTP API -------------------------------------------------------------------------


def test_the_http_api_opens_lists_and_answers(client, shop):
    created = client.post(
        "/api/v1/notifications", headers=ADMIN,
        json={"conversation_id": shop["conversation"], "notification_type": "user_question_request",
              "context": QUESTION},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    body = created.json()
    assert body["ref"] == "NOTIF_1" and body["status"] == "requested"
    assert body["answer_schema"]["properties"]["answer"]["type"] == "string"

    listed = client.get("/api/v1/notifications", headers=ADMIN, params={"status": "requested"})
    assert [n["id"] for n in listed.json()] == [1]
    assert client.get("/api/v1/notifications", headers=ADMIN,
                      params={"status": "answered"}).json() == []  # fmt: skip

    bad = client.post("/api/v1/notifications/1/answer", headers=ADMIN, json={"answer": {"x": 1}})
    assert bad.status_code == 422 and "needs answer" in bad.json()["detail"]
    answered = client.post(
        "/api/v1/notifications/1/answer", headers=ADMIN, json={"answer_json": '{"answer": "Yes"}'}
    )
    assert answered.status_code == 200 and answered.json()["answered_by"] == "admin-token"
    again = client.post(
        "/api/v1/notifications/1/answer", headers=ADMIN, json={"answer": {"answer": "No"}}
    )
    assert again.status_code == 409 and "closed" in again.json()["detail"]


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("get", "/api/v1/notifications/99", None, 404),
        ("get", "/api/v1/notifications/2147483648", None, 422),
        ("post", "/api/v1/notifications/99/answer", {"answer": {"answer": "x"}}, 404),
        ("post", "/api/v1/notifications/1/answer", {}, 422),
        ("post", "/api/v1/notifications/1/answer",
         {"answer": {"answer": "x"}, "answer_json": "{}"}, 422),
        ("post", "/api/v1/notifications", {"conversation_id": 1,
                                           "notification_type": "nope", "context": {}}, 422),
        ("post", "/api/v1/notifications", {"conversation_id": 999,
                                           "notification_type": "user_question_request",
                                           "context": QUESTION}, 404),
    ],
)  # fmt: skip
def test_the_http_api_refuses_bad_input(client, shop, method, path, body, status):
    response = getattr(client, method)(path, headers=ADMIN, **({"json": body} if body else {}))
    assert response.status_code == status, response.text
    assert response.json()["detail"]


def test_the_http_api_needs_credentials(client, shop):
    assert client.get("/api/v1/notifications").status_code == 401
    response = client.post("/api/v1/notifications/1/answer", json={"answer": {"answer": "x"}})
    assert response.status_code == 401


def test_two_http_answers_at_once_give_one_200_and_one_409(client, shop):
    notification_id = _open(shop)
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def post(text: str) -> None:
        barrier.wait()
        response = client.post(
            f"/api/v1/notifications/{notification_id}/answer", headers=ADMIN,
            json={"answer": {"answer": text}},
        )  # fmt: skip
        statuses.append(response.status_code)

    threads = [threading.Thread(target=post, args=(t,)) for t in ("yes", "no")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200, 409]
