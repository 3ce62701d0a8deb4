"""The model knows the merchant's time (#21 point 6): local time, opening hours and whether
the business is open now, and when a customer writes again after a long silence."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from services.turns import flows as turns
from tasks import runner
from tests.conftest import ADMIN_TOKEN
from tests.helpers import store_text

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
HOURS = {"mon": ["09:00-14:00", "16:00-20:00"], "sat": ["10:00-14:00"]}
MONDAY_LUNCH = datetime(2026, 11, 30, 13, 30, tzinfo=UTC)  # 14:30 in Madrid



def test_an_admin_sets_the_time_zone_and_hours_and_bad_ones_are_refused(client, merchant):
    url = f"/api/v1/merchants/{merchant['id']}"
    changed = client.patch(url, headers=ADMIN, json={"timezone": "Europe/Madrid",
                                                     "opening_hours": HOURS})  # fmt: skip
    assert changed.status_code == 200
    body = changed.json()
    assert body["timezone"] == "Europe/Madrid" and body["opening_hours"]["mon"] == HOURS["mon"]
    assert body["opening_hours"]["sun"] == [] and body["name"] == "Acme Shoes"

    bad_zone = client.patch(url, headers=ADMIN, json={"timezone": "Mars/Olympus"})
    assert bad_zone.status_code == 422 and "IANA" in bad_zone.text
    bad_hours = client.patch(url, headers=ADMIN, json={"opening_hours": {"mon": ["18-9"]}})
    assert bad_hours.status_code == 422
    assert client.patch(url, headers=ADMIN, json={"owner": "x"}).status_code == 422
    assert client.patch(url, json={"tone": "warm"}).status_code == 401
    assert client.patch("/api/v1/merchants/999", headers=ADMIN, json={}).status_code == 404

    cleared = client.patch(url, headers=ADMIN, json={"opening_hours": None})
    assert cleared.json()["opening_hours"] is None
    assert cleared.json()["timezone"] == "Europe/Madrid"


def test_the_model_is_told_the_local_time_and_whether_the_shop_is_open(
    client, merchant, fakes, monkeypatch
):
    client.patch(f"/api/v1/merchants/{merchant['id']}", headers=ADMIN,
                 json={"timezone": "Europe/Madrid", "opening_hours": HOURS})  # fmt: skip
    monkeypatch.setattr(turns, "clock", lambda: MONDAY_LUNCH)
    conversation_id = store_text(merchant, "are you open now?", written=MONDAY_LUNCH)

    runner.run(conversation_id)

    system = fakes["gemini"].system_text(fakes["gemini"].requests[-1])
    assert "It is now Monday 30 November 2026, 14:30 (Europe/Madrid)." in system
    assert "Saturday: 10:00-14:00; Sunday: closed." in system
    assert "Right now: closed; opens today at 16:00." in system


def test_without_hours_the_model_is_sent_to_the_knowledge_base(merchant, fakes):
    conversation_id = store_text(merchant, "when do you open?")
    runner.run(conversation_id)
    system = fakes["gemini"].system_text(fakes["gemini"].requests[-1])
    assert "(UTC)." in system and "look them up with search_knowledge_base" in system


def test_a_customer_back_after_days_is_marked_with_when_they_wrote(merchant, fakes):
    first = datetime.now(UTC) - timedelta(days=3, hours=1)
    conversation_id = store_text(merchant, "I'll pick it up tomorrow", written=first)
    runner.run(conversation_id)
    again = store_text(merchant, "is it ready?", written=first + timedelta(days=3))
    assert again == conversation_id

    runner.run(conversation_id)

    said = fakes["gemini"].user_texts(fakes["gemini"].requests[-1])
    marker, text = said[-1].split("\n")
    assert marker.startswith("[Written ")
    assert marker.endswith(", 3 days after the previous message]")
    assert text == "is it ready?"
    assert not said[0].startswith("[Written")  # the first message had nothing before it
