"""Inbound media: from a webhook's media id to verified bytes in our storage."""

from __future__ import annotations

import base64
import hashlib
import io
from datetime import timedelta

import pytest

from channels.simulators.webhooks import message_payload
from tests.helpers import eventually, messages_in_db, post_webhook

pytestmark = pytest.mark.integration


def tiny_jpeg() -> bytes:
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (8, 8), (200, 30, 30)).save(out, format="JPEG")
    return out.getvalue()


def image_payload(merchant: dict, media_id: str, data: bytes) -> dict:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()  # webhooks send base64
    image = {"caption": "this one, in blue", "mime_type": "image/jpeg", "sha256": digest}
    return message_payload(
        phone_number_id=merchant["phone_number_id"],
        message={"type": "image", "image": {**image, "id": media_id}},
    )


def intercept_fetches(monkeypatch, fetch) -> None:
    """Media fetch jobs go to `fetch(message_id)` instead of the broker; other jobs pass."""
    from persistence import jobs

    send = jobs.send

    def routed(job: jobs.Job) -> bool:
        return fetch(*job.args) if job.task == "switchboard.media.fetch" else send(job)

    monkeypatch.setattr(jobs, "send", routed)


@pytest.fixture
def scheduled(client, monkeypatch) -> list[int]:
    """Fetches the webhook scheduled, instead of queueing them (no worker in these tests)."""
    calls: list[int] = []
    intercept_fetches(monkeypatch, lambda message_id: calls.append(message_id) or True)
    return calls


def receive_image(client, merchant: dict, fakes: dict, data: bytes, **media: object) -> int:
    media_id = fakes["graph"].add_media(data, "image/jpeg", **media)
    assert post_webhook(client, image_payload(merchant, media_id, data)).status_code == 200
    (message,) = messages_in_db(direction="in")
    return message.id


def stored_file(key: str) -> bytes:
    from persistence.storage import get_storage

    return get_storage().get(key)


def test_an_image_is_stored_with_its_exact_bytes(client, merchant, fakes, scheduled):
    from services.media.flows import fetch_inbound_media

    data = tiny_jpeg()
    message_id = receive_image(client, merchant, fakes, data)
    assert scheduled == [message_id]
    assert messages_in_db(id=message_id)[0].media_status == "pending"

    assert fetch_inbound_media(message_id) == "stored"

    message = messages_in_db(id=message_id)[0]
    assert message.media_status == "stored" and message.media_error is None
    assert message.media_key == f"inbound/{message.conversation_id}/{message_id}.jpg"
    assert stored_file(message.media_key) == data
    download = fakes["graph"].media_requests("download")[0]
    assert download.headers["authorization"].startswith("Bearer ")


def test_a_stored_file_is_not_fetched_again(client, merchant, fakes, scheduled):
    from services.media.flows import fetch_inbound_media

    message_id = receive_image(client, merchant, fakes, tiny_jpeg())
    fetch_inbound_media(message_id)
    assert fetch_inbound_media(message_id) == "stored"
    assert len(fakes["graph"].media_requests("info")) == 1


def test_an_expired_url_is_replaced_by_a_fresh_one_on_retry(
    client, merchant, fakes, scheduled, monkeypatch
):
    from channels.whatsapp import WhatsAppClient
    from services.media.flows import MediaFetchRetry, fetch_inbound_media

    data = tiny_jpeg()
    message_id = receive_image(client, merchant, fakes, data)
    original = WhatsAppClient.media_info

    def info_then_expire(self, media_id):  # the URL dies before the download starts
        info = original(self, media_id)
        fakes["graph"].expire_media_urls()
        return info

    monkeypatch.setattr(WhatsAppClient, "media_info", info_then_expire)
    with pytest.raises(MediaFetchRetry):
        fetch_inbound_media(message_id)
    message = messages_in_db(id=message_id)[0]
    assert message.media_status == "pending"
    assert "expired" in message.media_error

    monkeypatch.setattr(WhatsAppClient, "media_info", original)
    assert fetch_inbound_media(message_id) == "stored"
    downloads = fakes["graph"].media_requests("download")
    assert len(downloads) == 2
    assert downloads[0].query["token"] != downloads[1].query["token"]
    message = messages_in_db(id=message_id)[0]
    assert message.media_error is None
    assert stored_file(message.media_key) == data


def test_oversized_media_is_refused_without_downloading(client, merchant, fakes, scheduled):
    from services.media.flows import fetch_inbound_media

    message_id = receive_image(client, merchant, fakes, tiny_jpeg(), file_size=120_000_000)
    assert fetch_inbound_media(message_id) == "failed"
    message = messages_in_db(id=message_id)[0]
    assert message.media_status == "failed"
    assert message.media_error == "file is 120 MB, over the 100 MB limit"
    assert message.media_key is None
    assert fakes["graph"].media_requests("download") == []


def test_a_sha256_mismatch_is_recorded_and_retried(client, merchant, fakes, scheduled):
    from services.media.flows import MediaFetchRetry, fetch_inbound_media, give_up

    message_id = receive_image(client, merchant, fakes, tiny_jpeg(), sha256="ab" * 32)
    with pytest.raises(MediaFetchRetry):
        fetch_inbound_media(message_id)
    message = messages_in_db(id=message_id)[0]
    assert message.media_status == "pending"
    assert message.media_error.startswith(f"sha256 mismatch: expected {'ab' * 32}")
    assert message.media_key is None

    give_up(message_id, message.media_error)  # what the task does after its last retry
    message = messages_in_db(id=message_id)[0]
    assert message.media_status == "failed" and "sha256 mismatch" in message.media_error
    assert messages_in_db(direction="in") != []  # the message itself stays


def test_a_failing_metadata_call_is_retried_later(client, merchant, fakes, scheduled, monkeypatch):
    from channels import whatsapp
    from services.media.flows import MediaFetchRetry, fetch_inbound_media

    monkeypatch.setattr(whatsapp, "_sleep", lambda _: None)
    message_id = receive_image(client, merchant, fakes, tiny_jpeg())
    fakes["graph"].fail_media_info_next(4)  # every attempt the client makes on its own
    with pytest.raises(MediaFetchRetry):
        fetch_inbound_media(message_id)
    assert "media info failed" in messages_in_db(id=message_id)[0].media_error
    assert len(fakes["graph"].media_requests("info")) == 4
    assert fetch_inbound_media(message_id) == "stored"  # the task's next attempt


def test_media_left_pending_when_the_broker_is_down_is_found_by_the_sweeper(
    client, merchant, fakes, monkeypatch
):
    from datetime import UTC, datetime

    from sqlalchemy import update

    from persistence.db import session_scope
    from persistence.models import Message
    from services.media.flows import pending_media

    intercept_fetches(monkeypatch, lambda message_id: False)  # the broker would not take it
    message_id = receive_image(client, merchant, fakes, tiny_jpeg())  # still a 200

    def pending() -> list[int]:
        now = datetime.now(UTC)
        with session_scope() as session:
            return pending_media(
                session, older_than=now - timedelta(minutes=1), newer_than=now - timedelta(days=1)
            )

    assert pending() == []  # scheduled a moment ago, maybe: not the sweeper's yet
    with session_scope() as session:
        session.execute(
            update(Message)
            .where(Message.id == message_id)
            .values(created_at=datetime.now(UTC) - timedelta(minutes=2))
        )
    assert pending() == [message_id]


def test_end_to_end_the_worker_stores_an_inbound_image(stack, client, merchant, fakes):
    data = tiny_jpeg()
    message_id = receive_image(client, merchant, fakes, data)
    message = eventually(
        lambda: (m := messages_in_db(id=message_id)[0]).media_status == "stored" and m, timeout=30
    )
    assert stored_file(message.media_key) == data
