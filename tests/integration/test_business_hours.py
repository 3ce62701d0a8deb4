"""Business hours (#18 point 4) on the real stack, with the clock frozen for every process
(FROZEN_TIME) on a Saturday: outside hours the AI still answers but promises the next
opening, and the holding message says when we open, in the customer's language."""

from __future__ import annotations

import pytest

from channels.simulators.webhooks import text_message_payload
from services.handoff.phrases import HOLDING
from tests.conftest import ADMIN_TOKEN, running_stack
from tests.helpers import post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SATURDAY_NOON = "2026-12-05T12:00:00+00:00"  # 13:00 in Madrid
WEEKDAYS = {day: ["09:00-14:00", "16:00-19:00"] for day in ("mon", "tue", "wed", "thu", "fri")}
HOURS = {
    "timezone": "Europe/Madrid",
    "weekly": WEEKDAYS,
    "holidays": [{"date": "2026-12-07", "name": "Puente"}],  # Monday: next opening Tuesday
}


@pytest.fixture(scope="module")
def frozen_stack(servers, tmp_path_factory):
    yield from running_stack(servers, tmp_path_factory, "hours", FROZEN_TIME=SATURDAY_NOON)


def _set_hours(client, merchant: dict, hours: dict) -> dict:
    response = client.put(
        f"/api/v1/merchants/{merchant['id']}/business-hours", headers=ADMIN, json=hours
    )
    assert response.status_code == 200, response.text
    return response.json()


def test_an_admin_sets_business_hours_and_reads_them_back(client, merchant):
    body = _set_hours(client, merchant, {
        **HOURS,
        "away_message": "  We are away; back on Tuesday.  ",
        "notification_slas": {"user_question_request": {"target_minutes": 60,
                                                         "close_after_minutes": 240}},
    })  # fmt: skip
    assert body["weekly"]["mon"] == WEEKDAYS["mon"] and body["weekly"]["sun"] == []
    assert body["holidays"] == [{"date": "2026-12-07", "name": "Puente"}]
    assert body["away_message"] == "We are away; back on Tuesday."
    read = client.get(f"/api/v1/merchants/{merchant['id']}/business-hours", headers=ADMIN)
    assert read.json() == body
    # the merchant's profile shows the same weekly hours (one source of truth)
    profile = client.get("/api/v1/merchants", headers=ADMIN).json()[0]
    assert profile["timezone"] == "Europe/Madrid" and profile["opening_hours"]["tue"]


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"timezone": "Mars/Olympus"}, "IANA"),
        ({"weekly": {"mon": ["09:00-09:00"]}}, "same time"),
        ({"weekly": {"funday": ["09:00-10:00"]}}, "funday"),
        ({"holidays": [{"date": "2026-12-25"}, {"date": "2026-12-25", "name": "x"}]}, "once"),
        ({"holidays": [{"date": "25/12/2026"}]}, "date"),
        ({"notification_slas": {"gossip": {"target_minutes": 5}}}, "gossip"),
        ({"notification_slas": {"user_question_request": {"target_minutes": 60,
                                                          "close_after_minutes": 30}}},
         "later than"),
    ],
)  # fmt: skip
def test_bad_business_hours_are_refused_with_the_reason(client, merchant, change, complaint):
    response = client.put(
        f"/api/v1/merchants/{merchant['id']}/business-hours", headers=ADMIN,
        json={**HOURS, **change},
    )  # fmt: skip
    assert response.status_code == 422
    assert complaint in response.text


def test_outside_hours_the_ai_answers_and_promises_the_next_opening(
    frozen_stack, client, merchant, fakes
):
    # an away message is for customers nobody answers: here the AI does, so it stays unsent
    _set_hours(client, merchant, {**HOURS, "away_message": "We are closed until Tuesday."})
    gemini = fakes["gemini"]
    gemini.call_tool("request_intervention", {"reason": "Wants a refund for a broken box"})
    gemini.reply("We'll get back to you when we open on Tuesday at 09:00.")
    post_webhook(client, text_message_payload(
        phone_number_id=merchant["phone_number_id"], text="I want a refund, the box is broken",
    ))  # fmt: skip
    (sent,) = fakes["graph"].wait_for_sent(1, timeout=90)
    assert sent["text"]["body"] == "We'll get back to you when we open on Tuesday at 09:00."
    assert fakes["graph"].texts_to("15551234567") == [sent["text"]["body"]]
    (result,) = gemini.tool_outputs(gemini.requests[-1])
    assert "closed now and opens Tuesday 08 December at 09:00 (Europe/Madrid)" in result


def test_inside_hours_the_tool_result_promises_nothing_about_opening(
    frozen_stack, client, merchant, fakes
):
    _set_hours(client, merchant, {**HOURS, "weekly": {**WEEKDAYS, "sat": ["10:00-14:00"]}})
    gemini = fakes["gemini"]
    gemini.call_tool("request_intervention", {"reason": "Wants a person"})
    gemini.reply("A colleague will follow up here.")
    post_webhook(client, text_message_payload(
        phone_number_id=merchant["phone_number_id"], text="Can I talk to a person please?",
    ))  # fmt: skip
    fakes["graph"].wait_for_sent(1, timeout=90)
    (result,) = gemini.tool_outputs(gemini.requests[-1])
    assert result == "A human colleague has been notified and will follow up in this chat."


def test_the_holding_message_says_when_we_open_in_the_customers_language(
    frozen_stack, client, merchant, fakes
):
    _set_hours(client, merchant, HOURS)
    fakes["gemini"].fail(503, times=100)
    fakes["openai"].fail(500, times=100)
    post_webhook(client, text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id="34600111222",
        text="Mi paquete ha llegado roto y quiero hablar con una persona, por favor",
    ))  # fmt: skip
    (sent,) = fakes["graph"].wait_for_sent(1, timeout=90)
    assert sent["text"]["body"] == (
        f"{HOLDING['es']} Ahora mismo estamos cerrados; te responderemos cuando abramos a "
        "las 09:00, martes."
    )
