"""The console's notifications over HTTP: the live list with its filters, the answer form
made from each notification's schema, and answering through the answer service."""

from __future__ import annotations

import json
import re

import pytest
import redis
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, Customer, Notification
from services.delivery.flows import send_pending
from services.knowledge import knowledge
from services.merchants.merchant import add_merchant_user
from services.merchants.operator import create_operator
from services.notifications import flows as escalations
from services.notifications import notifications
from services.notifications.answers import Answerer, answer_notification
from tests.helpers import post_webhook
from tests.integration.console_helpers import csrf_token, login, submit

pytestmark = pytest.mark.integration

QUESTION = "Do you ship to Canada?"
REASON = "My parcel arrived damaged and I want my money back"


@pytest.fixture
def signed_in(client, merchant) -> None:
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303


@pytest.fixture
def staff(merchant) -> None:
    with session_scope() as session:
        add_merchant_user(session, merchant_id=merchant["id"], name="Maria", wa_id="15550000001")
        add_merchant_user(
            session, merchant_id=merchant["id"], name="Rui", wa_id="15550000002", type="returns"
        )
        knowledge.create_document(
            session, merchant_id=merchant["id"], category=knowledge.SUPPORT_CLASSIFICATION,
            title="returns", content="refunds, returns and damaged goods",
        )  # fmt: skip


def _conversation(client, merchant, *, wa_id: str, name: str, text: str) -> int:
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id=wa_id, text=text, profile_name=name
    )
    assert post_webhook(client, payload).status_code == 200
    with session_scope() as session:
        return session.scalar(select(Conversation.id).join(Customer).where(Customer.wa_id == wa_id))


def _open(conversation_id: int, notification_type: str, context: dict) -> int:
    """Open a notification and send its requests to the staff, as the worker would."""
    with session_scope() as session:
        notification_id = notifications.open_notification(
            session, conversation_id=conversation_id, notification_type=notification_type,
            context=context,
        ).id  # fmt: skip
    for message_id in escalations.dispatch(notification_id):
        send_pending(message_id, only_in_ai_mode=False)
    return notification_id


@pytest.fixture
def question(client, merchant, staff) -> dict:
    conversation_id = _conversation(
        client, merchant, wa_id="15551234567", name="Ana", text=QUESTION
    )
    notification_id = _open(conversation_id, "user_question_request", {"question": QUESTION})
    return {"id": notification_id, "conversation_id": conversation_id}


@pytest.fixture
def support(client, merchant, staff, fakes) -> dict:
    fakes["gemini"].structured = lambda request, schema: {
        "user_type": "returns",
        "request_type": "Refund request",
    }
    conversation_id = _conversation(
        client, merchant, wa_id="15557654321", name="Bruno", text=REASON
    )
    notification_id = _open(
        conversation_id, "user_support_request", {"support_request_reason": REASON}
    )
    return {"id": notification_id, "conversation_id": conversation_id}


def _rows(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'data-notification="(\d+)"', html)]


def _notification(notification_id: int) -> Notification:
    with session_scope() as session:
        return session.get(Notification, notification_id)


def _form_fields(html: str) -> dict[str, str]:
    """The answer form's controls: input name -> its tag."""
    return {
        name: tag
        for tag, name in re.findall(
            r'(<(?:textarea|input|select)[^>]*name="(answer\.[^"]+)"[^>]*>)', html
        )
    }


def _scheduled_tasks(servers) -> list[str]:
    client = redis.Redis.from_url(servers["REDIS_URL"])
    return [json.loads(m)["headers"]["task"] for m in client.lrange("default", 0, -1)]


@pytest.mark.parametrize(
    "path", ["/console/notifications", "/console/notifications/rows", "/console/notifications/1"]
)
def test_notification_pages_send_strangers_to_the_login(client, clean, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console/notifications")


def test_the_list_shows_what_was_asked_who_was_asked_and_filters(
    client, merchant, question, support, signed_in
):
    page = client.get("/console/notifications")
    assert page.status_code == 200
    assert _rows(page.text) == [support["id"], question["id"]]  # the newest first
    html = page.text
    assert "NOTIF_1" in html and "NOTIF_2" in html
    assert QUESTION in html and REASON in html and "Refund request" in html
    assert "Ana" in html and "Bruno" in html and "15551234567" in html
    assert f'href="/console/conversations/{question["conversation_id"]}"' in html
    # the question went to the admin, the refund to the returns team; both requests accepted
    question_row = html[html.index('data-notification="1"') :]
    assert "Maria" in question_row and "(admin)" in question_row
    support_row = html[html.index('data-notification="2"') : html.index('data-notification="1"')]
    assert "Rui" in support_row and "Maria" not in support_row
    assert 'class="tick accepted"' in support_row and "waiting" in support_row
    assert 'data-poll="/console/notifications/rows?' in html  # new ones appear without a reload

    rows = "/console/notifications/rows"
    assert _rows(client.get(rows, params={"type": "user_question_request"}).text) == [1]
    assert _rows(client.get(rows, params={"status": "requested"}).text) == [2, 1]
    assert _rows(client.get(rows, params={"status": "answered"}).text) == []
    assert _rows(client.get(rows, params={"merchant_id": merchant["id"] + 1}).text) == []
    assert _rows(client.get(rows, params={"type": "nonsense"}).text) == [2, 1]


def test_the_answer_form_is_made_from_the_notifications_schema(
    client, question, support, signed_in
):
    asked = client.get(f"/console/notifications/{question['id']}").text
    fields = _form_fields(asked)
    assert list(fields) == ["answer.answer"]
    assert (
        fields["answer.answer"].startswith("<textarea") and " required" in fields["answer.answer"]
    )
    assert "The answer to the customer&#39;s question." in asked
    assert f'href="/console/conversations/{question["conversation_id"]}"' in asked

    support_page = client.get(f"/console/notifications/{support['id']}").text
    fields = _form_fields(support_page)
    assert list(fields) == ["answer.agent_response_to_customer", "answer.resolution_notes"]
    assert " required" in fields["answer.agent_response_to_customer"]
    assert " required" not in fields["answer.resolution_notes"]
    notes = support_page[support_page.index('for="f-resolution_notes"') :]
    assert "internal: never sent to the customer" in notes[: notes.index("</label>")]
    assert "Internal notes; never sent to the customer." in support_page


def test_an_operator_answers_a_question_and_its_delivery_is_scheduled(
    client, question, signed_in, servers
):
    path = f"/console/notifications/{question['id']}"
    response = submit(client, f"{path}/answer", {"answer.answer": "Yes, within 5 days."})
    assert response.status_code == 303 and response.headers["location"] == path
    notification = _notification(question["id"])
    assert notification.status == "answered" and notification.answered_by == "Olga"
    assert notification.answer == {"answer": "Yes, within 5 days."}
    assert notification.document_id is None  # drafted later, for review, if ever
    scheduled = _scheduled_tasks(servers)
    assert "switchboard.notifications.deliver_answer" in scheduled
    assert "switchboard.notifications.draft_knowledge" in scheduled
    page = client.get(path).text
    assert "NOTIF_1 answered" in page and "Yes, within 5 days." in page
    assert 'name="answer.answer"' not in page  # closed: no form any more
    listed = client.get("/console/notifications/rows", params={"status": "answered"}).text
    assert _rows(listed) == [question["id"]] and "Answered by <strong>Olga</strong>" in listed


def test_an_invalid_answer_shows_the_reason_and_keeps_what_was_typed(client, support, signed_in):
    path = f"/console/notifications/{support['id']}/answer"
    missing = submit(client, path, {"answer.resolution_notes": "Checked the photos."})
    assert missing.status_code == 422
    assert "needs agent_response_to_customer" in missing.text
    assert ">Checked the photos.</textarea>" in missing.text
    too_long = submit(client, path, {"answer.agent_response_to_customer": "x" * 4001,
                                     "answer.resolution_notes": "kept"})  # fmt: skip
    assert too_long.status_code == 422
    assert "does not match its schema" in too_long.text and ">kept</textarea>" in too_long.text
    assert _notification(support["id"]).status == "requested"


def test_an_answer_after_someone_else_answered_is_refused_and_kept(client, question, signed_in):
    with session_scope() as session:
        answer_notification(
            session, notification_id=question["id"], answer={"answer": "Yes, we do."},
            answerer=Answerer(name="Maria"),
        )  # fmt: skip
    response = submit(
        client, f"/console/notifications/{question['id']}/answer", {"answer.answer": "No idea"}
    )
    assert response.status_code == 409
    assert "already been answered by Maria" in response.text
    assert ">No idea</textarea>" in response.text
    assert _notification(question["id"]).answer == {"answer": "Yes, we do."}


def test_answering_needs_the_csrf_token_from_this_site(client, question, signed_in):
    path = f"/console/notifications/{question['id']}/answer"
    missing = client.post(path, data={"answer.answer": "Yes"}, follow_redirects=False)
    token = csrf_token(client)
    offsite = client.post(
        path, data={"csrf_token": token, "answer.answer": "Yes"},
        headers={"Origin": "https://evil.example"}, follow_redirects=False,
    )  # fmt: skip
    assert missing.status_code == 403 and offsite.status_code == 403
    assert _notification(question["id"]).status == "requested"


def test_an_unknown_notification_is_not_found(client, clean, signed_in):
    assert client.get("/console/notifications/999").status_code == 404
    assert (
        submit(client, "/console/notifications/999/answer", {"answer.answer": "x"}).status_code
        == 404
    )


def test_the_stats_page_counts_notifications_waiting_for_staff(client, question, signed_in):
    page = client.get("/console/stats").text
    assert re.search(r'<span class="big">1</span> notifications waiting for staff', page)
