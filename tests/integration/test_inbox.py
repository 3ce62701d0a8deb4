"""Deferred ingest: POST /webhook commits the body to the inbox; drainers handle it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import select

from channels.simulators.webhooks import new_wamid, text_message_payload
from channels.webhook import parse_notification
from persistence import inbox as inbox_rows
from persistence.db import session_scope
from persistence.models import WebhookInbox
from services.ingest import inbox
from settings import get_settings
from tests.conftest import ADMIN_TOKEN
from tests.helpers import drain_inbox, eventually, load_payload, messages_in_db, post_webhook

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _rows() -> list[WebhookInbox]:
    with session_scope() as session:
        return list(session.scalars(select(WebhookInbox).order_by(WebhookInbox.id)))


def _text(merchant: dict, text: str, **extra) -> dict:
    return text_message_payload(phone_number_id=merchant["phone_number_id"], text=text, **extra)


def _shard(payload: dict) -> int:
    (shard,) = inbox.shards_of(parse_notification(payload), get_settings().inbox_shards)
    return shard


def _parked(reason: str) -> float:
    sample = REGISTRY.get_sample_value("switchboard_webhook_inbox_parked_total", {"reason": reason})
    return sample or 0.0


# --- drained here ------------------------------------------------------------------------


@pytest.fixture
def held(clean: None) -> Iterator[None]:
    """Every shard's trigger held, as if a drain were pending: no webhook publishes one and
    no sweep takes a row, so a worker left running by an earlier module drains nothing."""
    shards = list(range(get_settings().inbox_shards))
    taken = inbox_rows.claim_triggers(shards, ms=60_000)
    yield
    for shard in taken:
        inbox_rows.clear_trigger(shard)


def test_a_200_means_the_body_is_in_the_inbox_and_a_drain_stores_it(held, client, merchant):
    payload = _text(merchant, "hello")
    response = post_webhook(client, payload, drain=False)
    assert response.status_code == 200
    assert response.json() == {"received": True}
    assert messages_in_db() == []
    [row] = _rows()
    assert row.error is None and row.shard == _shard(payload)
    assert parse_notification(json.loads(row.body)).messages[0].text == "hello"  # signed bytes
    drained = drain_inbox(client)
    assert (drained.handled, drained.parked) == (1, 0)
    assert [m.text for m in messages_in_db()] == ["hello"]
    assert _rows() == []


def test_a_conversations_notifications_are_handled_in_arrival_order(held, client, merchant):
    texts = [f"part {i}" for i in range(5)]
    for text in texts:
        post_webhook(client, _text(merchant, text), drain=False)
    assert len({row.shard for row in _rows()}) == 1  # one customer: one shard
    drain_inbox(client)
    assert [m.text for m in messages_in_db()] == texts


def test_a_batch_naming_two_customers_is_split_by_shard_and_each_part_handled_once(
    held, client, merchant, monkeypatch
):
    payload = load_payload("multi_entry")
    for entry in payload["entry"]:
        for change in entry["changes"]:
            change["value"]["metadata"]["phone_number_id"] = merchant["phone_number_id"]
    notification = parse_notification(payload)
    count = next(n for n in range(2, 64) if len(inbox.shards_of(notification, n)) == 2)
    monkeypatch.setenv("INBOX_SHARDS", str(count))
    get_settings.cache_clear()
    try:
        assert post_webhook(client, payload, drain=False).status_code == 200
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
    rows = _rows()
    assert sorted(r.shard for r in rows) == inbox.shards_of(notification, count)
    assert {r.shards for r in rows} == {count} and rows[0].body == rows[1].body
    parts = [inbox.part_of(notification, r.shard, count).messages for r in rows]
    assert sorted(len(p) for p in parts) == [1, 1]
    drain_inbox(client)  # the drainer splits with the row's count, not its own setting
    assert sorted(m.type for m in messages_in_db()) == ["image", "text"]  # two conversations
    assert _rows() == []


def test_a_row_the_drainer_cannot_parse_is_parked_counted_and_the_shard_goes_on(
    held, client, merchant
):
    good = _text(merchant, "still answered")
    shard = _shard(good)
    before = _parked("unparseable")
    inbox_rows.add(channel="whatsapp_cloud", body=b"{not json", shards=[shard], count=16)
    post_webhook(client, good, drain=False)
    drained = drain_inbox(client)
    assert (drained.handled, drained.parked) == (1, 1)
    assert _parked("unparseable") - before == 1
    [parked] = _rows()
    assert parked.body == b"{not json" and parked.error.startswith("unparseable")
    assert [m.text for m in messages_in_db()] == ["still answered"]
    drain_inbox(client)  # a parked row waits for a person: never taken again
    assert [r.id for r in _rows()] == [parked.id]
    body = client.get("/metrics", headers=ADMIN).text
    assert "switchboard_webhook_inbox_parked 1.0" in body
    assert "switchboard_webhook_inbox_waiting 0.0" in body


def test_a_drain_lets_its_shards_trigger_go_before_its_last_look(held, client, merchant):
    payload = _text(merchant, "hi")
    shard = _shard(payload)
    post_webhook(client, payload, drain=False)
    assert inbox_rows.claim_triggers([shard]) == []  # held: a drain is pending
    drain_inbox(client)
    # the drainer let it go before its last look: the next row publishes a drain again
    assert inbox_rows.claim_triggers([shard]) == [shard]


def test_the_backlog_is_a_gauge(held, client, merchant):
    post_webhook(client, _text(merchant, "one"), drain=False)
    time.sleep(0.2)
    body = client.get("/metrics", headers=ADMIN).text
    assert "switchboard_webhook_inbox_waiting 1.0" in body
    [oldest] = [line for line in body.splitlines() if line.startswith(
        "switchboard_webhook_inbox_oldest_seconds ")]  # fmt: skip
    assert float(oldest.split()[1]) >= 0.2
    drain_inbox(client)


# --- with the real worker and beat -----------------------------------------------------


def test_the_worker_drains_a_webhook_on_its_own_and_the_customer_is_answered(
    stack, client, merchant, fakes
):
    fakes["gemini"].reply("Hello! How can I help?")
    assert post_webhook(client, _text(merchant, "hi there"), drain=False).status_code == 200
    (sent,) = fakes["graph"].wait_for_sent(1, timeout=30)
    assert sent["text"]["body"] == "Hello! How can I help?"
    assert [m.text for m in messages_in_db(direction="in")] == ["hi there"]
    eventually(lambda: _rows() == [])


def test_a_lost_trigger_is_drained_by_the_sweep(stack, client, merchant, fakes):
    fakes["gemini"].reply("Found it.")
    payload = _text(merchant, "anyone?", wamid=new_wamid())
    shard = _shard(payload)
    # the key held as if its drain task was published and lost; then Redis forgets the key
    assert inbox_rows.claim_triggers([shard]) == [shard]
    assert post_webhook(client, payload, drain=False).status_code == 200  # publishes nothing
    inbox_rows.clear_trigger(shard)
    started = time.monotonic()
    fakes["graph"].wait_for_sent(1, timeout=30)
    # only the beat's sweep (INBOX_SWEEP_SECONDS=1 here) takes a row a second old
    assert time.monotonic() - started >= 0.9
    assert [m.text for m in messages_in_db(direction="in")] == ["anyone?"]
    eventually(lambda: _rows() == [])
