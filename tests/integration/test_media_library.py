"""The media library: the API, respond_with_media on the real stack, and operators' media."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation, MediaUpload
from persistence.storage import get_storage
from tests.conftest import ADMIN_TOKEN
from tests.helpers import eventually, messages_in_db, post_webhook

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
CAPTION = "Our red runner"


def _upload(client, merchant, *, key="red-shoe", kind="image", mime="image/png", data=PNG,
            caption=CAPTION, filename="red shoe.png", headers=ADMIN):  # fmt: skip
    return client.post(
        "/api/v1/media",
        headers=headers,
        data={"merchant_id": str(merchant["id"]), "key": key, "kind": kind, "caption": caption},
        files={"file": (filename, data, mime)},
    )


def _function_responses(request: dict) -> list[dict]:
    parts = [part for content in request["contents"] for part in content.get("parts", [])]
    return [part["functionResponse"] for part in parts if "functionResponse" in part]


def _ask_for_the_shoe(client, merchant, fakes, *, wa_id="15551234567", key="red-shoe") -> None:
    fakes["gemini"].call_tool("respond_with_media", {"media_key": key, "caption": CAPTION})
    fakes["gemini"].reply("Here it is!")
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id=wa_id, text="show me the red shoe"
    )
    assert post_webhook(client, payload).status_code == 200


@pytest.fixture
def operator(client, merchant) -> dict:  # an operator of the merchant (the default one)
    response = client.post("/api/v1/operators", headers=ADMIN, json={"name": "Olga"})
    assert response.status_code == 201
    return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def link_fallback(monkeypatch) -> Iterator[str]:
    """This process (the API, which sends operator messages) signs links to library files."""
    from settings import get_settings

    base = "https://switchboard.example.com"
    monkeypatch.setenv("MEDIA_LINK_BASE_URL", base)
    monkeypatch.setenv("MEDIA_LINK_SECRET", "test-media-link-secret")
    get_settings.cache_clear()
    yield base
    monkeypatch.undo()
    get_settings.cache_clear()


# --- the API -------------------------------------------------------------------------


def test_media_api_needs_a_token(client, merchant):
    assert _upload(client, merchant, headers={}).status_code == 401
    listed = client.get("/api/v1/media", params={"merchant_id": merchant["id"]})
    assert listed.status_code == 401
    assert client.delete("/api/v1/media/1").status_code == 401


def test_an_uploaded_file_is_listed_stored_and_deleted(client, merchant, operator):
    created = _upload(client, merchant, headers=operator)
    assert created.status_code == 201, created.text
    asset = created.json()
    assert asset["key"] == "red-shoe" and asset["kind"] == "image"
    assert asset["mime_type"] == "image/png" and asset["size"] == len(PNG)
    assert asset["filename"] == "red_shoe.png" and asset["caption"] == CAPTION
    storage_key = f"library/{merchant['id']}/red-shoe/red_shoe.png"
    assert get_storage().get(storage_key) == PNG
    listed = client.get("/api/v1/media", headers=ADMIN, params={"merchant_id": merchant["id"]})
    assert [a["key"] for a in listed.json()] == ["red-shoe"]
    assert client.delete(f"/api/v1/media/{asset['id']}", headers=ADMIN).status_code == 204
    assert (
        client.get("/api/v1/media", headers=ADMIN, params={"merchant_id": merchant["id"]}).json()
        == []
    )
    assert not get_storage().exists(storage_key)
    assert client.delete(f"/api/v1/media/{asset['id']}", headers=ADMIN).status_code == 404


@pytest.mark.parametrize(
    ("overrides", "status"),
    [
        ({"kind": "sticker"}, 422),
        ({"key": "Red Shoe"}, 422),
        ({"key": "../etc"}, 422),
        ({"mime": "image/gif"}, 422),  # WhatsApp sends jpeg and png images only
        ({"kind": "audio", "mime": "audio/wav"}, 422),
        ({"data": b"\xff" * (5 * 1024 * 1024 + 1)}, 413),  # images: 5 MB at most
        ({"data": b""}, 422),
    ],
)
def test_files_whatsapp_would_refuse_are_refused(client, merchant, overrides, status):
    response = _upload(client, merchant, **overrides)
    assert response.status_code == status, response.text
    assert (
        client.get("/api/v1/media", headers=ADMIN, params={"merchant_id": merchant["id"]}).json()
        == []
    )


def test_a_pdf_document_is_accepted(client, merchant):
    response = _upload(client, merchant, key="catalogue", kind="document", mime="application/pdf",
                       data=b"%PDF-1.4 catalogue", filename="catalogue 2026.pdf")  # fmt: skip
    assert response.status_code == 201, response.text


def test_a_duplicate_key_is_a_conflict(client, merchant):
    assert _upload(client, merchant).status_code == 201
    again = _upload(client, merchant, data=PNG + b"other")
    assert again.status_code == 409
    assert "red-shoe" in again.json()["detail"]


def test_an_unknown_merchant_is_not_found(client, merchant):
    assert _upload(client, {"id": merchant["id"] + 100}).status_code == 404


# --- respond_with_media on the real stack -------------------------------------------------


def test_the_model_sends_an_uploaded_image_then_its_text(stack, client, merchant, fakes):
    assert _upload(client, merchant).status_code == 201
    _ask_for_the_shoe(client, merchant, fakes)
    image, text = fakes["graph"].wait_for_sent(2, timeout=20)
    [upload] = fakes["graph"].uploads
    assert upload["data"] == PNG and upload["type"] == "image/png"
    assert upload["phone_number_id"] == merchant["phone_number_id"]
    assert image["type"] == "image" and image["to"] == "15551234567"
    assert image["image"] == {"id": upload["id"], "caption": CAPTION}
    assert text["text"]["body"] == "Here it is!"
    first, second = fakes["gemini"].requests
    system = fakes["gemini"].system_text(first)
    assert "Media you can send" in system and f"red-shoe (image): {CAPTION}" in system
    assert "respond_with_media" in fakes["gemini"].tool_names(first)
    [result] = _function_responses(second)
    assert result["name"] == "respond_with_media" and "sent red-shoe" in str(result["response"])

    def accepted() -> list:
        rows = [m for m in messages_in_db(direction="out") if m.wamid]
        return rows if len(rows) == 2 else []  # the fake answers before the row learns its wamid

    rows = eventually(accepted)
    assert [(m.type, m.text) for m in rows] == [("image", CAPTION), ("text", "Here it is!")]
    assert rows[0].media["key"] == "red-shoe" and rows[0].wamid == image["_wamid"]


def test_another_conversation_reuses_the_uploaded_id(stack, client, merchant, fakes):
    assert _upload(client, merchant).status_code == 201
    _ask_for_the_shoe(client, merchant, fakes)
    fakes["graph"].wait_for_sent(2, timeout=20)
    _ask_for_the_shoe(client, merchant, fakes, wa_id="15559876543")
    sent = fakes["graph"].wait_for_sent(4, timeout=20)
    images = [body for body in sent if body["type"] == "image"]
    assert [body["to"] for body in images] == ["15551234567", "15559876543"]
    assert len(fakes["graph"].uploads) == 1
    assert images[1]["image"]["id"] == fakes["graph"].uploads[0]["id"]


def test_a_rejected_media_id_is_uploaded_again_and_resent(stack, client, merchant, fakes):
    assert _upload(client, merchant).status_code == 201
    _ask_for_the_shoe(client, merchant, fakes)
    fakes["graph"].wait_for_sent(2, timeout=20)
    old_id = fakes["graph"].uploads[0]["id"]
    fakes["graph"].reject_media_id(old_id)  # WhatsApp lost the file before our cache expired
    _ask_for_the_shoe(client, merchant, fakes)
    sent = fakes["graph"].wait_for_sent(4, timeout=20)
    assert len(fakes["graph"].uploads) == 2
    new_id = fakes["graph"].uploads[1]["id"]
    assert [b["image"]["id"] for b in sent if b["type"] == "image"] == [old_id, new_id]
    with session_scope() as session:
        assert session.scalars(select(MediaUpload.whatsapp_media_id)).all() == [new_id]

    def both_accepted() -> list:
        images = [m for m in messages_in_db(type="image") if m.wamid]
        return images if len(images) == 2 else []

    images = eventually(both_accepted)
    assert all(m.status != "failed" for m in images)


def test_an_unknown_key_tells_the_model_the_valid_keys_and_sends_nothing(
    stack, client, merchant, fakes
):
    assert _upload(client, merchant).status_code == 201
    assert _upload(client, merchant, key="catalogue", kind="document",
                   mime="application/pdf", data=b"%PDF").status_code == 201  # fmt: skip
    _ask_for_the_shoe(client, merchant, fakes, key="blue-shoe")
    [text] = fakes["graph"].wait_for_sent(1, timeout=20)
    assert text["text"]["body"] == "Here it is!"
    [result] = _function_responses(fakes["gemini"].requests[1])
    answer = str(result["response"])
    assert "blue-shoe" in answer and "catalogue" in answer and "red-shoe" in answer
    assert fakes["graph"].uploads == []
    assert [m.type for m in messages_in_db(direction="out")] == ["text"]


# --- operators -----------------------------------------------------------------------------


def _taken_over(stack, client, merchant, fakes, operator) -> dict:
    assert _upload(client, merchant).status_code == 201
    fakes["gemini"].reply("Hello!")
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    fakes["graph"].wait_for_sent(1, timeout=20)
    with session_scope() as session:
        ref = {"conversation_id": session.scalars(select(Conversation.id)).one()}
    assert client.post("/api/v1/takeover", headers=operator, json=ref).status_code == 200
    return ref


def test_an_operator_sends_a_library_file_with_a_caption(stack, client, merchant, fakes, operator):
    ref = _taken_over(stack, client, merchant, fakes, operator)
    sent = client.post(
        "/api/v1/operator-message",
        headers=operator,
        json={**ref, "media_key": "red-shoe", "text": "This one, in size 42"},
    )
    assert sent.status_code == 200, sent.text
    message = sent.json()["message"]
    assert message["type"] == "image" and message["author"] == "operator"
    assert message["status"] == "accepted"
    last = fakes["graph"].sent[-1]
    assert last["image"] == {
        "id": fakes["graph"].uploads[0]["id"], "caption": "This one, in size 42",
    }  # fmt: skip
    unknown = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "media_key": "blue-shoe"}
    )
    assert unknown.status_code == 404 and "red-shoe" in unknown.json()["detail"]
    empty = client.post("/api/v1/operator-message", headers=operator, json=ref)
    assert empty.status_code == 422


def test_when_upload_fails_a_signed_link_is_sent_and_served(
    stack, client, merchant, fakes, operator, link_fallback
):
    ref = _taken_over(stack, client, merchant, fakes, operator)
    fakes["graph"].fail_uploads_next()
    sent = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "media_key": "red-shoe"}
    )
    assert sent.status_code == 200, sent.text
    link = fakes["graph"].sent[-1]["image"]["link"]
    assert link.startswith(f"{link_fallback}/media/") and "sig=" in link
    assert fakes["graph"].uploads == []
    url = urlsplit(link)
    served = client.get(f"{url.path}?{url.query}")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert client.get(f"{url.path}?sig=forged").status_code == 404
    assert client.get(url.path).status_code == 404


def test_when_upload_fails_without_links_the_send_fails(stack, client, merchant, fakes, operator):
    ref = _taken_over(stack, client, merchant, fakes, operator)
    fakes["graph"].fail_uploads_next()
    sent = client.post(
        "/api/v1/operator-message", headers=operator, json={**ref, "media_key": "red-shoe"}
    )
    assert sent.status_code == 502
    assert sent.json()["message"]["status"] == "failed"
    assert len(fakes["graph"].sent) == 1  # only the AI's greeting


def test_a_redone_turn_does_not_send_the_file_twice(stack, client, merchant, fakes):
    from services.delivery.flows import send_asset

    assert _upload(client, merchant).status_code == 201
    _ask_for_the_shoe(client, merchant, fakes)
    fakes["graph"].wait_for_sent(2, timeout=20)
    [image] = eventually(lambda: [m for m in messages_in_db(type="image") if m.wamid])
    status, _ = send_asset(
        conversation_id=image.conversation_id, turn_id=image.turn_id,
        asset_id=image.media["asset_id"], caption=CAPTION,
    )  # fmt: skip
    assert status == "accepted"
    assert len(fakes["graph"].sent) == 2 and len(messages_in_db(type="image")) == 1
