"""Photos and voice notes reach the model; voice notes get a stored transcript."""

from __future__ import annotations

import base64
import hashlib
import io
import threading

import pytest

from channels.simulators.webhooks import message_payload
from tests.helpers import eventually, messages_in_db, post_webhook
from tests.integration.test_media_fetch import tiny_jpeg

# no test here sends messages meant to share a burst
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("short_buffer")]


def voice_note() -> bytes:
    """A real OGG/Opus recording, as WhatsApp sends voice notes."""
    import numpy as np
    import soundfile

    tone = (np.sin(np.linspace(0, 440 * 2 * np.pi, 48000)) * 0.3).astype("float32")
    out = io.BytesIO()
    soundfile.write(out, tone, 48000, format="OGG", subtype="OPUS")
    return out.getvalue()


def media_payload(merchant: dict, kind: str, media_id: str, data: bytes, **extra: object) -> dict:
    digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
    body = {"id": media_id, "sha256": digest, **extra}
    return message_payload(
        phone_number_id=merchant["phone_number_id"], message={"type": kind, kind: body}
    )


def _inline_parts(request: dict) -> list[dict]:
    """The inline blobs of a generateContent request, as {"mimeType", "data"}."""
    blobs = [
        part.get("inlineData") or part.get("inline_data")
        for content in request["contents"]
        for part in content.get("parts", [])
        if "inlineData" in part or "inline_data" in part
    ]
    return [{"mimeType": b.get("mimeType") or b.get("mime_type"), "data": b["data"]} for b in blobs]


def test_a_photo_reaches_gemini_as_inline_data_with_its_caption(stack, client, merchant, fakes):
    data = tiny_jpeg()
    media_id = fakes["graph"].add_media(data, "image/jpeg")
    payload = media_payload(
        merchant, "image", media_id, data, mime_type="image/jpeg", caption="it arrived broken"
    )
    fakes["gemini"].reply("I'm sorry about that! Let me help.")
    assert post_webhook(client, payload).status_code == 200
    fakes["graph"].wait_for_sent(1, timeout=30)
    request = fakes["gemini"].requests[0]
    (image,) = _inline_parts(request)
    assert image["mimeType"] == "image/jpeg"
    assert base64.urlsafe_b64decode(image["data"]) == data
    assert "it arrived broken" in fakes["gemini"].user_texts(request)[-1]


def test_a_voice_note_is_transcribed_and_the_transcript_stored(stack, client, merchant, fakes):
    audio = voice_note()
    media_id = fakes["graph"].add_media(audio, "audio/ogg; codecs=opus")
    payload = media_payload(
        merchant, "audio", media_id, audio, mime_type="audio/ogg; codecs=opus", voice=True
    )
    fakes["gemini"].reply("Quiero devolver mis zapatillas.")  # the transcription call
    fakes["gemini"].reply("Claro, te ayudo con la devolución.")  # the agent's answer
    assert post_webhook(client, payload).status_code == 200
    sent = fakes["graph"].wait_for_sent(1, timeout=30)
    assert sent[0]["text"]["body"] == "Claro, te ayudo con la devolución."
    (message,) = messages_in_db(direction="in")
    assert message.transcript == "Quiero devolver mis zapatillas."
    transcription, answer = fakes["gemini"].requests[:2]
    (heard,) = _inline_parts(transcription)
    assert heard["mimeType"] == "audio/ogg"  # "; codecs=opus" stripped for the provider
    assert base64.urlsafe_b64decode(heard["data"]) == audio
    assert "[voice note] (transcript: Quiero devolver mis zapatillas.)" in str(answer["contents"])


def test_with_openai_a_voice_note_goes_to_the_transcription_endpoint(servers, fakes, monkeypatch):
    from services.media.transcription import transcribe
    from settings import get_settings

    monkeypatch.setattr(get_settings(), "llm_provider", "openai")
    monkeypatch.setattr(get_settings(), "llm_fallback_provider", None)
    fakes["openai"].reset()
    text = transcribe(voice_note(), "audio/ogg")
    assert text == fakes["openai"].transcript
    (request,) = fakes["openai"].transcriptions
    assert b'filename="voice.ogg"' in request.body and b"OggS" in request.body
    assert b"gpt-4o-mini-transcribe" in request.body


def test_with_gemini_alone_voice_notes_and_pdfs_are_attached_as_media(clean, monkeypatch):
    from persistence.db import session_scope
    from persistence.storage import get_storage
    from services.media.understanding import content_blocks
    from settings import get_settings

    monkeypatch.setattr(get_settings(), "llm_fallback_provider", None)
    ids = _stored_messages(
        [
            ("audio", "audio/ogg; codecs=opus", b"OggS..."),
            ("document", "application/pdf", b"%PDF"),
            ("image", "image/png", b"\x89PNG"),
        ]  # fmt: skip
    )
    with session_scope() as session:
        blocks = content_blocks(session, ids)
    assert [(b["type"], b["mime_type"]) for b in blocks] == [
        ("audio", "audio/ogg"), ("file", "application/pdf"), ("image", "image/png"),
    ]  # fmt: skip
    monkeypatch.setattr(get_settings(), "llm_fallback_provider", "openai")
    with session_scope() as session:  # OpenAI reads the transcript instead of the audio
        assert [b["type"] for b in content_blocks(session, ids)] == ["image"]
    assert get_storage().get("test/0") == b"OggS..."


def _stored_messages(files: list[tuple[str, str, bytes]]) -> list[int]:
    from persistence.db import session_scope
    from persistence.models import Message
    from persistence.storage import get_storage
    from services.conversations.conversation import upsert_conversation, upsert_customer
    from services.merchants.merchant import add_phone_number, create_merchant

    with session_scope() as session:
        merchant = create_merchant(session, name="M")
        phone = add_phone_number(
            session, merchant_id=merchant.id, phone_number_id="9", access_token="t"
        )
        customer = upsert_customer(session, merchant_id=merchant.id, wa_id="1", user_id=None)
        conversation = upsert_conversation(session, phone_id=phone.id, customer_id=customer.id)
        ids = []
        for i, (kind, mime, data) in enumerate(files):
            get_storage().put(f"test/{i}", data, mime)
            message = Message(
                conversation_id=conversation.id, direction="in", author="customer", type=kind,
                media={"mime_type": mime}, media_status="stored", media_key=f"test/{i}",
                status="received", send_attempts=0,
            )  # fmt: skip
            session.add(message)
            session.flush()
            ids.append(message.id)
    return ids


def test_media_that_could_not_be_loaded_is_described_to_the_model(clean):
    from graph.nodes.load import render_inbound
    from persistence.models import Message

    failed = Message(
        type="image", text="look", media={"mime_type": "image/jpeg"}, media_status="failed",
        media_error="file is 120 MB, over the 100 MB limit",
    )  # fmt: skip
    assert render_inbound(failed) == (
        "[image] look (the file could not be loaded: file is 120 MB, over the 100 MB limit)"
    )
    document = Message(type="document", text="invoice", media={"filename": "inv.xlsx",
                       "mime_type": "application/vnd.ms-excel"})  # fmt: skip
    assert render_inbound(document) == "[document: inv.xlsx, application/vnd.ms-excel] invoice"
    assert eventually(lambda: True)


def test_a_photo_is_described_once_and_the_description_outlives_its_turn(
    stack, client, merchant, fakes
):
    gemini = fakes["gemini"]
    gemini.structured = lambda request, schema: {
        "description": "A white running shoe with a torn sole; size label 42."
    }
    data = tiny_jpeg()
    media_id = fakes["graph"].add_media(data, "image/jpeg")
    payload = media_payload(merchant, "image", media_id, data, mime_type="image/jpeg")
    assert post_webhook(client, payload).status_code == 200
    fakes["graph"].wait_for_sent(1, timeout=30)
    (message,) = messages_in_db(direction="in")
    assert message.transcript == "A white running shoe with a torn sole; size label 42."
    (described,) = gemini.structured_requests  # the light model saw the image, once
    (seen,) = _inline_parts(described)
    assert base64.urlsafe_b64decode(seen["data"]) == data

    post_webhook(client, message_payload(phone_number_id=merchant["phone_number_id"],
                                         message={"type": "text", "text": {"body": "and?"}}))
    fakes["graph"].wait_for_sent(2, timeout=30)
    later = gemini.requests[-1]
    assert _inline_parts(later) == []  # the image itself is not sent again...
    assert "(description: A white running shoe with a torn sole; size label 42.)" in str(
        later["contents"]
    )  # ...its description is


def test_a_photo_described_after_its_turn_ran_is_described_to_the_next_turns(
    stack, client, merchant, fakes
):
    """The light model describes a photo while the burst waits; when it answers only after
    the photo's turn ran (a slow model, a busy worker), the next turns still read it."""
    gemini, graph, phone = fakes["gemini"], fakes["graph"], merchant["phone_number_id"]
    description = "A white running shoe with a torn sole; size label 42."
    first_reply_sent = threading.Event()

    def described_after_the_turn(request: dict, schema: dict) -> dict:
        first_reply_sent.wait(30)
        return {"description": description}

    gemini.structured = described_after_the_turn
    data = tiny_jpeg()
    media_id = graph.add_media(data, "image/jpeg")
    payload = media_payload(merchant, "image", media_id, data, mime_type="image/jpeg")
    assert post_webhook(client, payload).status_code == 200
    graph.wait_for_sent(1, timeout=30)
    first_reply_sent.set()
    own_turn = gemini.requests[-1]
    assert len(_inline_parts(own_turn)) == 1  # its own turn saw the photo itself
    assert "(description:" not in str(own_turn["contents"])  # ...and had no description yet
    assert eventually(lambda: messages_in_db(direction="in")[0].transcript == description)

    for n, text in ((2, "and?"), (3, "so?")):
        message = {"type": "text", "text": {"body": text}}
        post_webhook(client, message_payload(phone_number_id=phone, message=message))
        graph.wait_for_sent(n, timeout=30)
        later = str(gemini.requests[-1]["contents"])
        assert f"[image] (description: {description})" in later
        assert later.count("(description:") == 1
