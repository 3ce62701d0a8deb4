"""Webhook replays: an old signed message is kept but not answered, and a body whose JSON
names a key twice (a second `phone_number_id` to route it elsewhere) is refused."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime

import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Message, RejectedWebhook, Turn
from services.turns.opening import conversations_needing_turns
from tests.conftest import ADMIN_TOKEN
from tests.helpers import messages_in_db, post_webhook

pytestmark = pytest.mark.integration

IN_2001 = int(datetime(2001, 9, 9, tzinfo=UTC).timestamp())


def _sent_to(fakes) -> list[str]:
    return [body.get("to") for body in fakes["graph"].sent]


def _stale_count(client) -> float:
    metrics = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}).text
    return sum(
        sample.value
        for family in text_string_to_metric_families(metrics)
        for sample in family.samples
        if sample.name == "switchboard_webhook_messages_total"
        and sample.labels == {"type": "text", "outcome": "stale"}
    )


def test_a_message_dated_2001_is_stored_but_never_answered(stack, client, merchant, fakes, caplog):
    number = merchant["phone_number_id"]
    stale_before = _stale_count(client)
    replayed = text_message_payload(
        phone_number_id=number, wa_id="15550000001", text="refund me", timestamp=IN_2001
    )
    assert post_webhook(client, replayed).status_code == 200
    fresh = text_message_payload(phone_number_id=number, wa_id="15550000002", text="hello")
    assert post_webhook(client, fresh).status_code == 200
    fakes["graph"].wait_for_sent(1, timeout=20)  # the fresh one is answered...
    time.sleep(2)  # ...and a burst window later still nothing for the old one
    assert _sent_to(fakes) == ["15550000002"]
    (stored,) = messages_in_db(text="refund me")
    with session_scope() as session:
        turn = session.get(Turn, stored.turn_id)
        assert turn is not None and turn.outcome == "stale" and turn.finished_at is not None
        assert conversations_needing_turns(session, older_than=datetime.now(UTC)) == []
    assert "whatsapp.inbound.stale" in caplog.text
    assert _stale_count(client) == stale_before + 1


def test_the_age_limit_is_a_setting(client, merchant, configure):
    configure(WEBHOOK_MAX_MESSAGE_AGE_SECONDS=0)  # off: every age is answered
    old = text_message_payload(phone_number_id=merchant["phone_number_id"], timestamp=IN_2001)
    assert post_webhook(client, old).status_code == 200
    (stored,) = messages_in_db()
    assert stored.turn_id is None  # waiting for its turn like any other


def _with_duplicate(payload: dict, key: str, original: str, second: str) -> bytes:
    body = json.dumps(payload)
    pair = f'"{key}": "{original}"'
    assert body.count(pair) == 1
    return body.replace(pair, f'{pair}, "{key}": "{second}"').encode()


@pytest.mark.parametrize(
    ("key", "where"), [("phone_number_id", "metadata"), ("body", "the message's text")]
)
def test_a_key_named_twice_in_one_object_is_refused(client, merchant, key, where):
    number = merchant["phone_number_id"]
    payload = text_message_payload(phone_number_id=number, text="hi")
    original = number if key == "phone_number_id" else "hi"
    response = post_webhook(client, _with_duplicate(payload, key, original, "999999"))
    assert response.status_code == 400, where
    assert response.json()["detail"] == (
        f"not a WhatsApp notification: duplicate key '{key}' in a JSON object"
    )
    with session_scope() as session:
        assert session.scalars(select(Message)).all() == []
        assert session.scalars(select(RejectedWebhook)).all() == []
