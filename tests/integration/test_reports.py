"""GET /api/v1/reports against a seeded history: exact figures per merchant, day and
operator, the CSV export's columns, bad ranges refused, and tenancy."""

from __future__ import annotations

import csv
import io
from datetime import UTC, datetime, timedelta

import pytest

from persistence.db import session_scope
from persistence.models import (
    Author,
    Conversation,
    ConversationStatus,
    CsatResponse,
    Direction,
    Notification,
    NotificationStatus,
)
from services.merchants.merchant import create_merchant
from services.reports.service import CSV_COLUMNS
from tests.factories import make_conversation, make_message
from tests.integration.desk_helpers import ADMIN, make_operator

pytestmark = pytest.mark.integration
DAY1 = datetime(2026, 11, 2, tzinfo=UTC)
RANGE = {"from": "2026-11-02", "to": "2026-11-03"}


def _seconds(n: float) -> timedelta:
    return timedelta(seconds=n)


def _conversation(session, merchant, wa_id: str, begun: datetime, first_reply: float, *,
                  human: tuple[int, float] | None = None, resolved: float | None = None,
                  labels: list[str] | None = None) -> Conversation:  # fmt: skip
    conversation = make_conversation(
        session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=wa_id
    )
    conversation.created_at, conversation.labels = begun, labels or []
    make_message(session, conversation_id=conversation.id, direction=Direction.INBOUND,
                 author=Author.CUSTOMER, created_at=begun)  # fmt: skip
    make_message(session, conversation_id=conversation.id, created_at=begun + _seconds(first_reply))
    if human is not None:
        make_message(session, conversation_id=conversation.id, author=Author.OPERATOR,
                     operator_id=human[0], created_at=begun + _seconds(human[1]))  # fmt: skip
    if resolved is not None:
        conversation.status = ConversationStatus.RESOLVED
        conversation.resolved_at = begun + _seconds(resolved)
    return conversation


@pytest.fixture
def history(client, merchant) -> dict:
    olga = make_operator(client, "Olga")
    with session_scope() as session:
        a = _conversation(session, merchant, "1555000001", DAY1 + timedelta(hours=10), 30,
                          resolved=3600, labels=["shipping"])  # fmt: skip
        b = _conversation(session, merchant, "1555000002", DAY1 + timedelta(hours=12), 60,
                          human=(olga["id"], 600), resolved=7200,
                          labels=["refund", "shipping"])  # fmt: skip
        _conversation(session, merchant, "1555000003", DAY1 + timedelta(days=1, hours=9), 120)
        for conversation, score, operator in ((a, 5, None), (b, 2, olga["id"])):
            session.add(CsatResponse(
                conversation_id=conversation.id, merchant_id=merchant["id"], score=score,
                operator_id=operator, ai_only=operator is None,
                created_at=conversation.resolved_at, answered_at=conversation.resolved_at,
            ))  # fmt: skip
        for begun, answered in ((DAY1, 300), (DAY1 + timedelta(days=1), None)):
            session.add(Notification(
                merchant_id=merchant["id"], conversation_id=b.id, type="user_question_request",
                status=NotificationStatus.ANSWERED if answered else NotificationStatus.REQUESTED,
                answer_schema={}, context={}, created_at=begun,
                answered_at=begun + _seconds(answered) if answered else None,
            ))  # fmt: skip
    return {"olga": olga}


def test_the_report_gives_exact_figures_per_merchant_day_and_operator(client, merchant, history):
    response = client.get("/api/v1/reports", headers=ADMIN, params=RANGE)
    assert response.status_code == 200, response.text
    [report] = response.json()["merchants"]
    assert report["totals"] == {
        "conversations": 3, "resolved": 2, "ai_resolved": 1, "ai_resolution_rate": 0.5,
        "first_response_median": 60.0, "first_response_p90": 108.0,
        "human_first_response_median": 600.0, "human_first_response_p90": 600.0,
        "resolution_median": 5400.0, "resolution_p90": 6840.0,
    }  # fmt: skip
    days = {d["day"]: d for d in report["days"]}
    assert days["2026-11-02"]["conversations"] == 2
    assert (days["2026-11-02"]["first_response_median"], days["2026-11-02"]["first_response_p90"]) \
        == (45.0, 57.0)  # fmt: skip
    assert days["2026-11-03"]["conversations"] == 1
    assert days["2026-11-03"]["ai_resolution_rate"] is None
    assert report["csat"] == {
        "responses": 2, "average": 3.5, "satisfied_rate": 0.5,
        "ai_only": {"responses": 1, "average": 5.0}, "human": {"responses": 1, "average": 2.0},
    }  # fmt: skip
    olga = next(o for o in report["operators"] if o["operator_id"] == history["olga"]["id"])
    assert (olga["operator"], olga["conversations"], olga["messages"]) == ("Olga", 1, 1)
    assert olga["csat"]["responses"] == 1 and olga["csat"]["average"] == 2.0
    assert report["escalations"] == {
        "opened": 2,
        "answered": 1,
        "time_to_answer_median": 300.0,
        "time_to_answer_p90": 300.0,
    }
    assert report["labels"] == {"shipping": 2, "refund": 1}
    later = client.get("/api/v1/reports", headers=ADMIN,
                       params={"from": "2026-11-03", "to": "2026-11-03"})  # fmt: skip
    assert later.json()["merchants"][0]["totals"]["conversations"] == 1


def test_the_csv_export_has_a_line_per_day_and_a_total(client, merchant, history):
    response = client.get("/api/v1/reports", headers=ADMIN, params={**RANGE, "format": "csv"})
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(response.text)))
    assert tuple(lines[0]) == CSV_COLUMNS
    assert [line[1] for line in lines[1:]] == ["2026-11-02", "2026-11-03", "total"]
    assert lines[-1][2:5] == ["3", "2", "1"]


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"from": "2026-11-03", "to": "2026-11-02"}, "before"),
        ({"from": "2025-01-01", "to": "2026-11-02"}, "at most"),
        ({"from": "yesterday"}, "date"),
        ({"format": "xml"}, "format"),
    ],
)
def test_a_bad_range_is_refused_with_a_reason(client, merchant, params, reason):
    response = client.get("/api/v1/reports", headers=ADMIN, params=params)
    assert response.status_code == 422 and reason in response.text


def test_an_operator_sees_only_their_merchant(client, merchant, history):
    with session_scope() as session:
        other = create_merchant(session, name="Other shop", description="")
        other_id = other.id
    made = client.post("/api/v1/operators", headers=ADMIN,
                       json={"name": "Bea", "merchant_id": other_id})  # fmt: skip
    bea = {"Authorization": f"Bearer {made.json()['token']}"}
    mine = client.get("/api/v1/reports", headers=bea, params=RANGE)
    assert mine.status_code == 200 and mine.json()["merchants"] == []
    theirs = {**RANGE, "merchant_id": merchant["id"]}
    assert client.get("/api/v1/reports", headers=bea, params=theirs).status_code == 404
    assert client.get("/api/v1/reports", params=RANGE).status_code == 401


def test_the_console_reports_page_shows_the_figures_charts_and_csv(client, merchant, history):
    from tests.integration.console_helpers import login

    assert login(client, history["olga"]["token"]).status_code == 303
    page = client.get("/console/reports", params=RANGE)
    assert page.status_code == 200
    assert 'data-figure="conversations">3<' in page.text
    assert 'data-figure="ai_resolution_rate">50%<' in page.text
    assert 'data-figure="csat">3.5<' in page.text and "<svg" in page.text
    assert 'href="/console/reports/export.csv?from=2026-11-02&amp;to=2026-11-03"' in page.text
    exported = client.get("/console/reports/export.csv", params=RANGE)
    assert exported.text.splitlines()[-1].startswith(f"{merchant['id']},total,3,2,1")
    refused = client.get("/console/reports", params={"from": "2026-11-03", "to": "2026-11-02"})
    assert refused.status_code == 422 and "before" in refused.text
