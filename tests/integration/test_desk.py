"""The desk on the real stack: life cycle, assignment, canned responses, private notes,
labels and priority, through the webhook, the worker and the simulators."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from persistence.db import session_scope
from persistence.models import Conversation
from tests.helpers import eventually
from tests.integration.desk_helpers import (
    ADMIN,
    conversation_of,
    customer_writes,
    detail,
    listed_ids,
    make_operator,
)

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]


@pytest.fixture
def olga(client, clean) -> dict:
    return make_operator(client, "Olga")


def _answered(client, merchant, fakes, *, wa_id: str = "15551234567", sent: int = 1) -> int:
    customer_writes(client, merchant, "hello", wa_id=wa_id)
    fakes["graph"].wait_for_sent(sent, timeout=20)
    return conversation_of(wa_id)


def _texts(sent: list[dict]) -> list[str]:
    return [m["text"]["body"] for m in sent if m.get("type") == "text"]


def test_resolving_hands_back_to_the_ai_and_a_customer_message_reopens(
    stack, client, merchant, fakes, olga
):
    conversation_id = _answered(client, merchant, fakes)
    taken = client.post("/api/v1/takeover", headers=olga["headers"],
                        json={"conversation_id": conversation_id})  # fmt: skip
    assert taken.json()["assignee_id"] == olga["id"]  # self-assigned on takeover
    resolved = client.post(f"/api/v1/conversations/{conversation_id}/resolve",
                           headers=olga["headers"])  # fmt: skip
    assert resolved.status_code == 200
    body = resolved.json()
    assert (body["status"], body["mode"], body["resolved_by"]) == ("resolved", "ai", "Olga")
    assert listed_ids(client, status="resolved") == [conversation_id]
    customer_writes(client, merchant, "one more question")
    fakes["graph"].wait_for_sent(2, timeout=20)  # the AI answers again
    after = detail(client, conversation_id)
    assert after["status"] == "open" and after["resolved_at"] is None
    actions = [e["action"] for e in after["audit"]]
    assert actions[-3:-1] == ["takeover", "resolved"] and actions[-1] == "reopened"
    assert after["audit"][-1]["detail"] == {"from": "resolved", "by": "customer_message"}


def test_pending_is_refused_while_the_customer_waits_and_set_once_answered(
    stack, client, merchant, fakes, olga
):
    conversation_id = _answered(client, merchant, fakes)
    url = f"/api/v1/conversations/{conversation_id}/pending"
    assert client.post(url, headers=olga["headers"]).json()["status"] == "pending"
    client.post("/api/v1/takeover", headers=olga["headers"],
                json={"conversation_id": conversation_id})  # fmt: skip
    customer_writes(client, merchant, "are you there?")
    eventually(lambda: detail(client, conversation_id)["status"] == "open")
    refused = client.post(url, headers=olga["headers"])
    assert refused.status_code == 409 and "unanswered" in refused.json()["detail"]


def test_a_silent_conversation_is_auto_resolved_only_after_the_silence(
    stack, client, merchant, fakes
):
    from tasks.desk import desk_timers  # after the fixtures configured the broker

    quiet = _answered(client, merchant, fakes)
    waiting = _answered(client, merchant, fakes, wa_id="15559876543", sent=2)
    with session_scope() as session:
        session.get(Conversation, waiting).needs_human = True  # a person is needed: kept
    now = datetime.now(UTC)
    early = desk_timers.apply(kwargs={"now": (now + timedelta(hours=23)).isoformat()})
    assert early.get()["resolved"] == 0 and detail(client, quiet)["status"] == "open"
    desk_timers.delay(now=(now + timedelta(hours=25)).isoformat())  # through the worker
    eventually(lambda: detail(client, quiet)["status"] == "resolved")
    resolved = detail(client, quiet)
    assert resolved["status"] == "resolved" and resolved["resolved_by"] == "system"
    assert resolved["audit"][-1]["action"] == "auto_resolved"
    assert detail(client, waiting)["status"] == "open"


def test_assign_unassign_and_the_mine_and_unassigned_filters(stack, client, merchant, fakes, olga):
    piet = make_operator(client, "Piet")
    first = _answered(client, merchant, fakes)
    second = _answered(client, merchant, fakes, wa_id="15559876543", sent=2)
    url = f"/api/v1/conversations/{first}/assign"
    assigned = client.post(url, headers=olga["headers"], json={"operator_id": piet["id"]})
    assert assigned.status_code == 200 and assigned.json()["assignee_id"] == piet["id"]
    assert listed_ids(client, piet["headers"], assigned_to="me") == [first]
    assert listed_ids(client, olga["headers"], assigned_to="me") == []
    assert listed_ids(client, assigned_to=str(piet["id"])) == [first]
    assert listed_ids(client, assigned_to="none") == [second]
    assert client.post(url, headers=olga["headers"], json={"operator_id": None}).status_code == 200
    assert sorted(listed_ids(client, assigned_to="none")) == [first, second]
    unknown = client.post(url, headers=olga["headers"], json={"operator_id": 999})
    assert unknown.status_code == 422 and "999" in unknown.json()["detail"]
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Elsewhere"}).json()
    stranger = client.post("/api/v1/operators", headers=ADMIN,
                           json={"name": "Sam", "merchant_id": other["id"]}).json()  # fmt: skip
    foreign = client.post(url, headers=olga["headers"], json={"operator_id": stranger["id"]})
    assert foreign.status_code == 404  # another merchant's operator: unknown to Olga
    by_admin = client.post(url, headers=ADMIN, json={"operator_id": stranger["id"]})
    assert by_admin.status_code == 422  # nor can a platform admin hand it across merchants
    assert client.post(url, headers=olga["headers"], json={}).status_code == 422
    assert client.get("/api/v1/conversations", headers=ADMIN,
                      params={"assigned_to": "me"}).status_code == 422  # fmt: skip
    assert client.get("/api/v1/conversations", headers=ADMIN,
                      params={"assigned_to": "someone"}).status_code == 422  # fmt: skip
    actions = [(e["action"], e["actor"]) for e in detail(client, first)["audit"]]
    assert actions == [("assigned", "Olga"), ("unassigned", "Olga")]


def test_a_canned_response_goes_out_with_its_variables_filled(stack, client, merchant, fakes, olga):
    conversation_id = _answered(client, merchant, fakes)
    made = client.post("/api/v1/canned-responses", headers=olga["headers"], json={
        "merchant_id": merchant["id"], "shortcut": "Thanks",
        "text": "Hi {{customer_name}}, {{operator_name}} of {{merchant_name}} here. {{order}}",
    })  # fmt: skip
    assert made.status_code == 201 and made.json()["shortcut"] == "thanks"
    canned_id = made.json()["id"]
    twice = client.post(
        "/api/v1/canned-responses",
        headers=olga["headers"],
        json={"merchant_id": merchant["id"], "shortcut": "thanks", "text": "x"},
    )
    assert twice.status_code == 409
    bad = client.post(
        "/api/v1/canned-responses",
        headers=olga["headers"],
        json={"merchant_id": merchant["id"], "shortcut": "/a b", "text": "x"},
    )
    assert bad.status_code == 422
    found = client.get("/api/v1/canned-responses", headers=olga["headers"],
                       params={"prefix": "th", "merchant_id": merchant["id"]})  # fmt: skip
    assert [c["id"] for c in found.json()] == [canned_id]
    rendered = client.post(
        f"/api/v1/canned-responses/{canned_id}/render",
        headers=olga["headers"],
        json={"conversation_id": conversation_id},
    )
    text = "Hi Ana, Olga of Acme Shoes here. {{order}}"
    assert rendered.json() == {"text": text, "unknown": ["order"]}
    client.post("/api/v1/takeover", headers=olga["headers"],
                json={"conversation_id": conversation_id})  # fmt: skip
    sent = client.post("/api/v1/operator-message", headers=olga["headers"],
                       json={"conversation_id": conversation_id, "text": text})  # fmt: skip
    assert sent.status_code == 200, sent.text
    assert _texts(fakes["graph"].wait_for_sent(2, timeout=20))[-1] == text
    changed = client.put(f"/api/v1/canned-responses/{canned_id}", headers=olga["headers"],
                         json={"text": "Bye {{customer_name}}"})  # fmt: skip
    assert changed.json()["text"] == "Bye {{customer_name}}"
    gone = client.delete(f"/api/v1/canned-responses/{canned_id}", headers=olga["headers"])
    assert gone.status_code == 204
    assert client.get(f"/api/v1/canned-responses/{canned_id}", headers=ADMIN).status_code == 404


def test_private_notes_never_reach_the_customer_and_only_for_ai_ones_reach_the_model(
    stack, client, merchant, fakes, olga
):
    conversation_id = _answered(client, merchant, fakes)
    url = f"/api/v1/conversations/{conversation_id}/notes"
    private = client.post(url, headers=olga["headers"],
                          json={"text": "Customer was rude last week"})  # fmt: skip
    assert private.status_code == 201 and private.json()["for_ai"] is False
    shared = client.post(
        url, headers=olga["headers"], json={"text": "Offer the XR-7 discount code", "for_ai": True}
    )
    assert shared.status_code == 201
    assert client.post(url, headers=olga["headers"], json={"text": ""}).status_code == 422
    customer_writes(client, merchant, "any discounts?")
    sent = fakes["graph"].wait_for_sent(2, timeout=20)
    gemini = fakes["gemini"]
    system = gemini.system_text(gemini.requests[-1])
    assert "Offer the XR-7 discount code" in system
    everything = str(gemini.requests) + str(sent)
    assert "rude" not in everything
    assert not any("XR-7" in t for t in _texts(sent))
    notes = detail(client, conversation_id)["notes"]
    assert [(n["author"], n["text"], n["for_ai"]) for n in notes] == [
        ("Olga", "Customer was rude last week", False),
        ("Olga", "Offer the XR-7 discount code", True),
    ]


def test_labels_are_normalised_listed_and_filtered(stack, client, merchant, fakes, olga):
    labelled = _answered(client, merchant, fakes)
    other = _answered(client, merchant, fakes, wa_id="15559876543", sent=2)
    url = f"/api/v1/conversations/{labelled}/labels"
    put = client.put(url, headers=olga["headers"], json={"labels": [" VIP ", "Refund", "vip"]})
    assert put.status_code == 200 and put.json()["labels"] == ["refund", "vip"]
    client.put(f"/api/v1/conversations/{other}/labels", headers=olga["headers"],
               json={"labels": ["vip"]})  # fmt: skip
    assert listed_ids(client, label="Refund") == [labelled]
    assert sorted(listed_ids(client, label="vip")) == sorted([labelled, other])
    labels = client.get("/api/v1/labels", headers=olga["headers"],
                        params={"merchant_id": merchant["id"]}).json()  # fmt: skip
    assert labels == [{"label": "vip", "conversations": 2},
                      {"label": "refund", "conversations": 1}]  # fmt: skip
    refused = client.put(url, headers=olga["headers"], json={"labels": ["<b>"]})
    assert refused.status_code == 422 and "invalid label" in refused.json()["detail"]


def test_the_ai_raises_the_priority_when_it_asks_for_a_person(stack, client, merchant, fakes, olga):
    fakes["gemini"].call_tool(
        "request_intervention", {"reason": "Threatens to sue", "priority": "urgent"}
    )
    fakes["gemini"].reply("A colleague will follow up.")
    customer_writes(client, merchant, "I will see you in court")
    fakes["graph"].wait_for_sent(1, timeout=20)
    conversation_id = conversation_of()
    found = eventually(lambda: detail(client, conversation_id)["priority"] == "urgent")
    assert found
    url = f"/api/v1/conversations/{conversation_id}/priority"
    lowered = client.put(url, headers=olga["headers"], json={"priority": "low"})
    assert lowered.json()["priority"] == "low"
    assert client.put(url, headers=olga["headers"], json={"priority": "asap"}).status_code == 422
