"""Round-robin assignment (ASSIGNMENT=round_robin) among operators with console presence,
and an operator gone offline giving their waiting conversations back to the queue."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from persistence.db import session_scope
from persistence.models import Operator
from tests.conftest import running_stack
from tests.helpers import eventually
from tests.integration.desk_helpers import conversation_of, customer_writes, detail, make_operator

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]


@pytest.fixture(scope="module")
def round_robin_stack(servers, tmp_path_factory):
    yield from running_stack(servers, tmp_path_factory, "round_robin", ASSIGNMENT="round_robin")


def _escalated(client, merchant, fakes, wa_id: str) -> int:
    fakes["gemini"].call_tool("request_intervention", {"reason": "Wants a person"})
    fakes["gemini"].reply("A colleague will follow up.")
    customer_writes(client, merchant, "a person please", wa_id=wa_id)
    eventually(lambda: conversation_of(wa_id))
    return conversation_of(wa_id)


def _assignee(client, conversation_id: int) -> int | None:
    return detail(client, conversation_id)["assignee_id"]


def test_escalations_go_round_robin_to_online_operators_only(
    round_robin_stack, client, merchant, fakes
):
    ada, bea, cid = (make_operator(client, name) for name in ("Ada", "Bea", "Cid"))
    for online in (ada, bea):  # Cid never opened the console
        assert client.post("/api/v1/presence", headers=online["headers"]).status_code == 204
    first = _escalated(client, merchant, fakes, "15550000001")
    eventually(lambda: _assignee(client, first) == ada["id"])
    second = _escalated(client, merchant, fakes, "15550000002")
    eventually(lambda: _assignee(client, second) == bea["id"])
    third = _escalated(client, merchant, fakes, "15550000003")
    eventually(lambda: _assignee(client, third) == ada["id"])
    assert cid["id"] not in {_assignee(client, c) for c in (first, second, third)}
    audit = detail(client, first)["audit"]
    assert audit[-1]["action"] == "assigned" and audit[-1]["detail"]["by"] == "round_robin"


def test_an_offline_operators_waiting_conversations_return_to_the_queue(
    round_robin_stack, client, merchant, fakes
):
    from tasks.desk import desk_timers  # after the fixtures configured the broker

    ada, bea = make_operator(client, "Ada"), make_operator(client, "Bea")
    client.post("/api/v1/presence", headers=ada["headers"])
    waiting = _escalated(client, merchant, fakes, "15550000001")
    eventually(lambda: _assignee(client, waiting) == ada["id"])
    client.post("/api/v1/presence", headers=bea["headers"])
    with session_scope() as session:  # Ada closed the console an hour ago
        session.execute(
            update(Operator)
            .where(Operator.id == ada["id"])
            .values(last_seen_at=datetime.now(UTC) - timedelta(hours=1))
        )
    desk_timers.delay()
    eventually(lambda: _assignee(client, waiting) == bea["id"])
    moves = [(e["action"], e["detail"].get("by")) for e in detail(client, waiting)["audit"]]
    assert moves[-2:] == [("unassigned", "offline"), ("assigned", "round_robin")]
