"""POST/GET /webhook against real PostgreSQL and Redis, without a Celery worker.

Scheduling still reaches Redis (the tasks just stay queued); statuses are applied here by
calling the task's function directly.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from channels.simulators.webhooks import new_wamid, sign, status_payload, text_message_payload
from channels.webhook import parse_notification
from persistence.db import session_scope
from persistence.models import (
    Author,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    Message,
    RejectedWebhook,
)
from services.delivery.flows import apply_statuses
from tests.conftest import APP_SECRET, VERIFY_TOKEN
from tests.factories import make_conversation, make_message
from tests.helpers import drain_inbox, load_payload, messages_in_db, post_webhook

pytestmark = pytest.mark.integration

PHONE = "16505551234"
BSUID = "US.13491208655302741918"


# --- helpers --------------------------------------------------------------------------


def for_number(payload: dict, phone_number_id: str) -> dict:
    """A copy of a recorded payload addressed to our merchant's number."""
    payload = copy.deepcopy(payload)
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            metadata = change.get("value", {}).get("metadata")
            if isinstance(metadata, dict):
                metadata["phone_number_id"] = phone_number_id
    return payload


def recorded(name: str, merchant: dict) -> dict:
    return for_number(load_payload(name), merchant["phone_number_id"])


def counted(kind: str, outcome: str) -> float:
    """switchboard_webhook_messages_total{type, outcome} in this process."""
    sample = REGISTRY.get_sample_value(
        "switchboard_webhook_messages_total", {"type": kind, "outcome": outcome}
    )
    return sample or 0.0


def payload_wamid(payload: dict) -> str:
    return payload["entry"][0]["changes"][0]["value"]["messages"][0]["id"]


def count(model: type) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model))


def customers() -> list[Customer]:
    with session_scope() as session:
        return list(session.scalars(select(Customer).order_by(Customer.id)))


def post_raw(client, body: bytes, headers: dict[str, str]):
    return client.post(
        "/webhook", content=body, headers={"Content-Type": "application/json", **headers}
    )


def signed(body: bytes) -> dict[str, str]:
    return {"X-Hub-Signature-256": sign(body, APP_SECRET)}


def assert_nothing_stored() -> None:
    assert count(Message) == 0
    assert count(Customer) == 0
    assert count(Conversation) == 0


def outbound_message(merchant: dict, *, wamid: str | None, status: DeliveryStatus) -> int:
    """An AI reply already handed to the Graph API, as the outbox would have left it."""
    with session_scope() as session:
        conversation = make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"], wa_id=PHONE
        )
        return make_message(
            session, conversation_id=conversation.id, wamid=wamid, status=status
        ).id


def apply(payload: dict) -> int:
    return apply_statuses(list(parse_notification(payload).statuses))


def status_of(message_id: int) -> Message:
    with session_scope() as session:
        message = session.get(Message, message_id)
        assert message is not None
        return message


def status(merchant: dict, wamid: str, name: str, ts: int, **extra) -> dict:
    return status_payload(
        phone_number_id=merchant["phone_number_id"], wamid=wamid, status=name, timestamp=ts, **extra
    )


# --- verification handshake -----------------------------------------------------------


def verify_params(**overrides: str | None) -> dict[str, str]:
    params = {
        "hub.mode": "subscribe",
        "hub.verify_token": VERIFY_TOKEN,
        "hub.challenge": "1158201444",
    }
    params.update(overrides)
    return {k: v for k, v in params.items() if v is not None}


def test_verification_with_the_right_token_echoes_the_challenge(client):
    response = client.get("/webhook", params=verify_params())
    assert response.status_code == 200
    assert response.text == "1158201444"
    assert response.headers["content-type"].startswith("text/plain")


def test_verification_with_a_wrong_token_is_refused(client):
    response = client.get("/webhook", params=verify_params(**{"hub.verify_token": "nope"}))
    assert response.status_code == 403
    assert "1158201444" not in response.text


@pytest.mark.parametrize("missing", ["hub.mode", "hub.verify_token", "hub.challenge"])
def test_verification_with_a_missing_parameter_is_refused(client, missing):
    response = client.get("/webhook", params=verify_params(**{missing: None}))
    assert response.status_code == 403


def test_verification_with_another_mode_is_refused(client):
    response = client.get("/webhook", params=verify_params(**{"hub.mode": "unsubscribe"}))
    assert response.status_code == 403


# --- signature ------------------------------------------------------------------------


def test_a_post_without_signature_is_refused_and_stores_nothing(client, merchant):
    body = json.dumps(recorded("message_text", merchant)).encode()
    response = post_raw(client, body, {})
    assert response.status_code == 401
    assert_nothing_stored()


def test_a_post_with_a_malformed_signature_is_refused_and_stores_nothing(client, merchant):
    body = json.dumps(recorded("message_text", merchant)).encode()
    response = post_raw(client, body, {"X-Hub-Signature-256": "sha256=not-a-digest"})
    assert response.status_code == 401
    assert_nothing_stored()


def test_a_signature_of_another_body_is_refused_and_stores_nothing(client, merchant):
    body = json.dumps(recorded("message_text", merchant)).encode()
    other = json.dumps(recorded("message_image", merchant)).encode()
    response = post_raw(client, body, signed(other))
    assert response.status_code == 401
    assert_nothing_stored()


def test_a_signature_made_with_another_secret_is_refused_and_stores_nothing(client, merchant):
    response = post_webhook(client, recorded("message_text", merchant), secret="not-the-secret")
    assert response.status_code == 401
    assert_nothing_stored()


# --- bodies that are not notifications ------------------------------------------------


def test_a_body_that_is_not_json_is_a_400(client, merchant):
    response = post_webhook(client, b"{not json")
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["detail"]


def test_a_json_list_is_a_400_with_the_reason(client, merchant):
    response = post_webhook(client, b"[1, 2, 3]")
    assert response.status_code == 400
    assert "JSON object" in response.json()["detail"]


def test_an_object_of_another_kind_is_a_400_with_the_reason(client, merchant):
    response = post_webhook(client, {"object": "page", "entry": []})
    assert response.status_code == 400
    assert "whatsapp_business_account" in response.json()["detail"]


def test_invalid_utf8_is_a_400(client, merchant):
    response = post_webhook(client, b'{"object": "\xff\xfe"}')
    assert response.status_code == 400
    assert_nothing_stored()


def test_a_body_over_the_size_limit_is_a_413(client, merchant):
    payload = recorded("message_text", merchant)
    payload["padding"] = "x" * 1_000_001
    response = post_webhook(client, payload)
    assert response.status_code == 413
    assert_nothing_stored()


# --- every inbound type ---------------------------------------------------------------

MEDIA = {"mime_type", "sha256", "id"}

INBOUND_CASES = [
    # file, type, text, media fields expected, context_wamid expected
    ("message_text", "text", "Olá! Vocês entregam no sábado?", None, None),
    (
        "message_image",
        "image",
        "This one, in blue please",
        {"id": "1503827460841592", "mime_type": "image/jpeg"},
        None,
    ),
    (
        "message_audio_voice",
        "audio",
        None,
        {"id": "1198443225312776", "mime_type": "audio/ogg; codecs=opus", "voice": True},
        None,
    ),
    (
        "message_video",
        "video",
        "it arrived like this",
        {"id": "892144390212563", "mime_type": "video/mp4"},
        None,
    ),
    (
        "message_document",
        "document",
        "my invoice",
        {"id": "2113987425631140", "filename": "invoice-2026-001.pdf"},
        None,
    ),
    (
        "message_sticker",
        "sticker",
        None,
        {"id": "1033928154478211", "mime_type": "image/webp", "animated": False},
        None,
    ),
    ("message_location", "location", "MASP", None, None),
    ("message_contacts", "contacts", "Bruno Lima", None, None),
    (
        "message_interactive_button_reply",
        "interactive",
        "Talk to a person",
        None,
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTExMTExMTExMTExMTExMTFBMQA=",
    ),
    (
        "message_interactive_list_reply",
        "interactive",
        "Express shipping — Delivered in 1-2 business days",
        None,
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTIyMjIyMjIyMjIyMjIyMjJCMgA=",
    ),
    (
        "message_button",
        "button",
        "Yes, confirm",
        None,
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTMzMzMzMzMzMzMzMzMzMzNDMwA=",
    ),
    (
        "message_reaction",
        "reaction",
        "👍",
        None,
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTQ0NDQ0NDQ0NDQ0NDQ0NDRENAA=",
    ),
    (
        "message_text_reply_context",
        "text",
        "Is this still available?",
        None,
        "wamid.HBgLMTY1MDU1NTEyMzQVAgASGBQzQTU1NTU1NTU1NTU1NTU1NTVFNQA=",
    ),
    ("message_unsupported", "unsupported", None, None, None),
]


@pytest.mark.parametrize(
    ("name", "type_", "text", "media", "context_wamid"),
    INBOUND_CASES,
    ids=[case[0] for case in INBOUND_CASES],
)
def test_each_inbound_type_is_stored_with_its_content(
    client, merchant, name, type_, text, media, context_wamid
):
    payload = recorded(name, merchant)
    raw = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    response = post_webhook(client, payload)
    assert response.status_code == 200
    assert response.json() == {"received": True}
    [message] = messages_in_db()
    assert message.direction == Direction.INBOUND
    assert message.author == Author.CUSTOMER
    assert message.wamid == raw["id"]
    assert message.type == type_
    if text is None:
        assert message.text is None
    else:
        assert text in message.text
    if media is None:
        assert message.media is None
    else:
        assert set(message.media) >= MEDIA
        assert media.items() <= message.media.items()
    assert message.context_wamid == context_wamid
    assert message.raw == raw
    assert message.wa_timestamp == datetime.fromtimestamp(int(raw["timestamp"]), UTC)
    assert message.status == DeliveryStatus.RECEIVED


# --- both sender shapes ---------------------------------------------------------------


def test_the_phone_shape_creates_a_customer_with_a_wa_id(client, merchant):
    assert post_webhook(client, recorded("message_text", merchant)).status_code == 200
    [customer] = customers()
    assert (customer.wa_id, customer.user_id) == (PHONE, None)
    assert customer.profile_name == "Ana Souza"
    assert customer.merchant_id == merchant["id"]


def test_the_bsuid_shape_with_a_phone_stores_both_ids(client, merchant):
    assert post_webhook(client, recorded("message_text_bsuid", merchant)).status_code == 200
    [customer] = customers()
    assert (customer.wa_id, customer.user_id) == (PHONE, BSUID)


def test_the_bsuid_only_shape_stores_the_user_id_only(client, merchant):
    assert post_webhook(client, recorded("message_text_bsuid_only", merchant)).status_code == 200
    [customer] = customers()
    assert (customer.wa_id, customer.user_id) == (None, BSUID)
    assert len(messages_in_db()) == 1


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("message_text", "message_text_bsuid"),
        ("message_text_bsuid", "message_text"),
        ("message_text_bsuid_only", "message_text_bsuid"),
        ("message_text_bsuid", "message_text_bsuid_only"),
    ],
)
def test_the_same_person_in_the_other_shape_is_the_same_customer_and_conversation(
    client, merchant, first, second
):
    assert post_webhook(client, recorded(first, merchant)).status_code == 200
    assert post_webhook(client, recorded(second, merchant)).status_code == 200
    assert len(customers()) == 1
    assert count(Conversation) == 1
    messages = messages_in_db()
    assert len(messages) == 2
    assert messages[0].conversation_id == messages[1].conversation_id


def test_a_bsuid_only_customer_learns_the_phone_when_it_appears(client, merchant):
    post_webhook(client, recorded("message_text_bsuid_only", merchant))
    post_webhook(client, recorded("message_text_bsuid", merchant))
    [customer] = customers()
    assert (customer.wa_id, customer.user_id) == (PHONE, BSUID)


# --- several messages, retries, races -------------------------------------------------


def test_every_message_of_a_multi_entry_payload_is_stored(client, merchant):
    payload = recorded("multi_entry", merchant)
    response = post_webhook(client, payload)
    assert response.status_code == 200
    messages = messages_in_db()
    assert [m.text for m in messages] == ["first", None]
    assert [m.type for m in messages] == ["text", "image"]
    assert {c.wa_id for c in customers()} == {PHONE, "447700900123"}
    assert count(Conversation) == 2


def test_a_retried_delivery_is_stored_once(client, merchant):
    payload = recorded("message_text", merchant)
    duplicates = counted("text", "duplicate")
    first = post_webhook(client, payload)
    assert [m.wamid for m in messages_in_db()] == [payload_wamid(payload)]
    second = post_webhook(client, payload)
    assert first.status_code == second.status_code == 200
    assert counted("text", "duplicate") - duplicates == 1
    assert len(messages_in_db()) == 1


def test_ten_concurrent_deliveries_store_one_message_and_one_conversation(client, merchant):
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], wamid=new_wamid())
    stored, duplicates = counted("text", "stored"), counted("text", "duplicate")
    with ThreadPoolExecutor(max_workers=10) as pool:
        responses = list(pool.map(lambda _: post_webhook(client, payload, drain=False), range(10)))
    assert [r.status_code for r in responses] == [200] * 10
    drain_inbox(client)  # ten rows, handled in arrival order by one drainer
    assert counted("text", "stored") - stored == 1
    assert counted("text", "duplicate") - duplicates == 9
    assert len(messages_in_db()) == 1
    assert count(Customer) == 1
    assert count(Conversation) == 1


def test_a_message_for_an_unknown_number_is_acknowledged_and_recorded_as_rejected(client, merchant):
    payload = for_number(load_payload("message_text"), "999999999999999")
    response = post_webhook(client, payload)
    assert response.status_code == 200
    assert messages_in_db() == []
    with session_scope() as session:
        [rejected] = session.scalars(select(RejectedWebhook)).all()
    assert rejected.reason == "unknown_phone_number"
    assert rejected.phone_number_id == "999999999999999"


# --- delivery statuses ----------------------------------------------------------------


def test_statuses_move_an_outbound_message_forward(merchant):
    wamid = new_wamid(PHONE)
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    base = int(time.time())
    for step, name in enumerate(["sent", "delivered", "read"]):
        assert apply(status(merchant, wamid, name, base + step)) == 1
        assert status_of(message_id).status == name
    assert status_of(message_id).status_at == datetime.fromtimestamp(base + 2, UTC)


@pytest.mark.parametrize("late", ["delivered", "sent"])
def test_a_late_status_never_moves_a_read_message_back(merchant, late):
    wamid = new_wamid(PHONE)
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    base = int(time.time())
    apply(status(merchant, wamid, "read", base))
    assert apply(status(merchant, wamid, late, base + 5)) == 0
    assert status_of(message_id).status == DeliveryStatus.READ


def test_statuses_out_of_order_end_on_the_furthest(merchant):
    wamid = new_wamid(PHONE)
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    base = int(time.time())
    notification = [
        *parse_notification(status(merchant, wamid, "delivered", base + 1)).statuses,
        *parse_notification(status(merchant, wamid, "sent", base)).statuses,
    ]
    apply_statuses(notification)
    assert status_of(message_id).status == DeliveryStatus.DELIVERED


def test_a_failed_status_records_the_error(merchant):
    payload = recorded("status_failed", merchant)
    wamid = payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    assert apply(payload) == 1
    message = status_of(message_id)
    assert message.status == DeliveryStatus.FAILED
    assert message.error_code == 131047
    assert "131047" in message.error_detail
    assert "more than 24 hours" in message.error_detail


def test_a_status_matched_by_callback_data_teaches_the_wamid(merchant):
    message_id = outbound_message(merchant, wamid=None, status=DeliveryStatus.UNKNOWN)
    wamid = new_wamid(PHONE)
    payload = status(
        merchant, wamid, "delivered", int(time.time()), callback_data=f"sb:{message_id}"
    )
    assert apply(payload) == 1
    message = status_of(message_id)
    assert message.wamid == wamid
    assert message.status == DeliveryStatus.DELIVERED


def test_a_status_with_foreign_callback_data_matches_nothing(merchant):
    message_id = outbound_message(merchant, wamid=None, status=DeliveryStatus.UNKNOWN)
    payload = recorded("status_callback_data", merchant)  # "conversation:42;message:1337"
    assert apply(payload) == 0
    message = status_of(message_id)
    assert message.wamid is None
    assert message.status == DeliveryStatus.UNKNOWN


def _recording_scheduler(client, monkeypatch, *, queue_takes: bool = True) -> dict[str, list]:
    """The app's scheduler, recording what it queues (or fails to queue) for parking."""
    calls: dict[str, list] = {"later": [], "now": []}

    def park_later(statuses):
        calls["later"].append([s.wamid for s in statuses])
        return queue_takes

    def park_now(statuses):
        calls["now"].append([s.wamid for s in statuses])
        return 0

    scheduler = dataclasses.replace(
        client.app.state.scheduler, park_later=park_later, park_now=park_now
    )
    monkeypatch.setattr(client.app.state, "scheduler", scheduler)
    return calls


def test_a_status_is_applied_before_the_200_and_queues_no_task(client, merchant, monkeypatch):
    calls = _recording_scheduler(client, monkeypatch)
    wamid = new_wamid(PHONE)
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    response = post_webhook(client, status(merchant, wamid, "delivered", int(time.time())))
    assert response.status_code == 200
    assert count(Message) == 1  # the status stored nothing of its own
    assert status_of(message_id).status == DeliveryStatus.DELIVERED  # no task queued for it
    assert calls == {"later": [], "now": []}


def test_a_late_window_failure_is_recorded_then_queued_for_parking(client, merchant, monkeypatch):
    calls = _recording_scheduler(client, monkeypatch)
    payload = recorded("status_failed", merchant)  # 131047: the window had closed
    wamid = payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    message_id = outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    assert post_webhook(client, payload).status_code == 200
    assert status_of(message_id).status == DeliveryStatus.FAILED
    assert status_of(message_id).error_code == 131047
    assert calls == {"later": [[wamid]], "now": []}


def test_a_late_window_failure_is_parked_in_the_webhook_when_the_queue_is_down(
    client, merchant, monkeypatch
):
    calls = _recording_scheduler(client, monkeypatch, queue_takes=False)
    payload = recorded("status_failed", merchant)
    wamid = payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"]
    outbound_message(merchant, wamid=wamid, status=DeliveryStatus.ACCEPTED)
    assert post_webhook(client, payload).status_code == 200
    assert calls == {"later": [[wamid]], "now": [[wamid]]}


# --- infrastructure down --------------------------------------------------------------


@pytest.fixture
def reset_caches():
    """Clear settings and connection caches before and after an environment change."""
    from settings import get_settings
    from tasks import runtime

    def reset() -> None:
        get_settings.cache_clear()
        runtime.reset()

    yield reset
    reset()


def test_postgresql_unreachable_is_a_fast_503(merchant, monkeypatch, reset_caches):
    from fastapi.testclient import TestClient

    from api.app import create_app

    payload = recorded("message_text", merchant)
    monkeypatch.setenv(
        "DATABASE_URL", "postgresql+psycopg://postgres@/switchboard?host=/nonexistent-dir"
    )
    reset_caches()
    try:
        with TestClient(create_app()) as down:
            started = time.monotonic()
            response = post_webhook(down, payload)
            elapsed = time.monotonic() - started
    finally:
        monkeypatch.undo()
        reset_caches()
    assert response.status_code == 503
    # no waiting on a connect timeout (10 s and more); a busy CI machine may take a second
    assert elapsed < 5.0
    assert messages_in_db() == []


def test_redis_down_still_stores_and_answers_200(client, merchant, monkeypatch, reset_caches):
    payload = recorded("message_text", merchant)
    monkeypatch.setenv("REDIS_URL", "redis://127.0.0.1:1/0")
    reset_caches()
    try:
        started = time.monotonic()
        response = post_webhook(client, payload)
        elapsed = time.monotonic() - started
    finally:
        monkeypatch.undo()
        reset_caches()
    assert response.status_code == 200
    assert response.json() == {"received": True}
    assert elapsed < 3.0
    [message] = messages_in_db()
    assert message.text == "Olá! Vocês entregam no sábado?"
