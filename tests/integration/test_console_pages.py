"""Console pages over HTTP: inbox, conversation controls, media library and stats."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import (
    Author,
    Conversation,
    Customer,
    DeliveryStatus,
    Direction,
    MediaAsset,
    Message,
    Turn,
)
from persistence.storage import get_storage
from services.access.auth import Principal
from services.handoff import handoff
from services.merchants.operator import create_operator
from tests.helpers import post_webhook
from tests.integration.console_helpers import login, submit

pytestmark = pytest.mark.integration
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def signed_in(client, merchant) -> dict:
    with session_scope() as session:
        created, token = create_operator(session, name="Olga")
        operator_id = created.id
    assert login(client, token).status_code == 303
    return {"operator_id": operator_id}


def _say(client, merchant, text: str, *, wa_id: str = "15551234567", name: str = "Ana") -> int:
    payload = text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id=wa_id, text=text, profile_name=name
    )
    assert post_webhook(client, payload).status_code == 200
    with session_scope() as session:
        return session.scalar(select(Conversation.id).join(Customer).where(Customer.wa_id == wa_id))


def _rows(html: str) -> list[str]:
    return re.findall(r'data-conversation="(\d+)"', html)


def test_the_inbox_shows_who_waits_and_filters_escalations(client, merchant, signed_in):
    ana = _say(client, merchant, "hello")
    _say(client, merchant, "anyone there?")
    bruno = _say(client, merchant, "I want a refund", wa_id="15557654321", name="Bruno")
    with session_scope() as session:
        handoff.request_human(session, bruno, "refund over the limit")
    page = client.get("/console/inbox")
    assert "Ana" in page.text and "Bruno" in page.text and "anyone there?" in page.text
    assert _rows(page.text) == [str(bruno), str(ana)]  # the latest activity first
    ana_row = page.text[page.text.index(f'data-conversation="{ana}"') :]
    assert re.search(r'class="unread"[^>]*>2<', ana_row) and "waiting" in ana_row
    escalated = client.get("/console/inbox/rows", params={"view": "needs_human"})
    assert _rows(escalated.text) == [str(bruno)] and "needs human" in escalated.text
    assert _rows(client.get("/console/inbox/rows", params={"view": "operator"}).text) == []
    other = client.get("/console/inbox/rows", params={"merchant_id": merchant["id"] + 1})
    assert _rows(other.text) == []


def _tab_counts(html: str) -> dict[str, int]:
    found = re.findall(r'class="tab tab-(\w+)"[^>]*>[^<]*<span class="count">(\d+)<', html)
    return {view: int(count) for view, count in found}


def test_inbox_tabs_split_the_conversations_as_the_row_badges_say(client, merchant, signed_in):
    ana = _say(client, merchant, "hello")  # with the AI
    bruno = _say(client, merchant, "I want a refund", wa_id="15557654321", name="Bruno")
    carla = _say(client, merchant, "hi there", wa_id="15550000003", name="Carla")
    with session_scope() as session:
        handoff.request_human(session, bruno, "refund over the limit")
        handoff.request_human(session, carla, "asked for a person")
        olga = Principal(operator_id=signed_in["operator_id"], name="Olga", is_admin=False)
        handoff.takeover(session, handoff.ConversationRef(carla), olga)
    page = client.get("/console/inbox").text
    assert _tab_counts(page) == {"all": 3, "needs_human": 1, "operator": 1, "ai": 1}
    statuses = dict(re.findall(r'data-conversation="(\d+)" data-status="(\w+)"', page))
    assert statuses == {str(ana): "ai", str(bruno): "needs_human", str(carla): "operator"}
    bruno_row = page[page.index(f'data-conversation="{bruno}"') :].split("</li>")[0]
    assert "needs human" in bruno_row and "mode-ai" not in bruno_row  # the AI is not on it
    for view, expected in (("ai", ana), ("needs_human", bruno), ("operator", carla)):
        rows = client.get("/console/inbox/rows", params={"view": view}).text
        assert _rows(rows) == [str(expected)]
        assert 'class="muted help view-help"' in rows  # what the tab holds, in words
    stats = client.get("/console/stats").text
    assert re.search(r'<span class="big">1</span> escalations open', stats)


def test_the_front_door_links_the_console_and_the_favicon_is_served(client):
    home = client.get("/")
    assert home.status_code == 200 and home.headers["content-type"].startswith("text/html")
    for link in ("/console", "/docs", "/health"):
        assert f'href="{link}"' in home.text
    icon = client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/vnd.microsoft.icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file
    assert 'rel="icon" href="/favicon.ico"' in client.get("/console/login").text


def test_take_over_send_and_hand_back_from_the_conversation_page(
    client, merchant, fakes, signed_in
):
    conversation_id = _say(client, merchant, "where is my order?")
    page = f"/console/conversations/{conversation_id}"
    assert "Take over" in client.get(page).text
    assert submit(client, f"{page}/takeover").status_code == 303
    taken = client.get(page).text
    assert "You have the conversation" in taken and 'action="' + page + '/send"' in taken
    assert "closes in" in taken  # the 24-hour window is open
    sent = submit(client, f"{page}/send", {"text": "It ships tomorrow, Ana."})
    assert sent.status_code == 303
    assert fakes["graph"].texts_to("15551234567") == ["It ships tomorrow, Ana."]
    messages = client.get(f"{page}/messages").text
    assert "It ships tomorrow, Ana." in messages and "Olga" in messages
    assert 'class="tick accepted"' in messages
    back = submit(client, f"{page}/handback", {"note": "promised delivery tomorrow"})
    assert back.status_code == 303
    state = client.get(f"{page}/state").text
    assert "badge mode-ai" in state
    actions = re.findall(r"<strong>Olga</strong> ([a-z ]+)", state)
    assert actions == ["handback", "operator message", "takeover"]
    assert "promised delivery tomorrow" in state


def test_handing_back_while_the_ai_fails_is_confirmed_and_keeps_the_flag(
    client, merchant, fakes, signed_in
):
    conversation_id = _say(client, merchant, "where is my order?")
    page = f"/console/conversations/{conversation_id}"
    submit(client, f"{page}/takeover")
    key_before = re.search(r'data-state-key="([^"]+)"', client.get(page).text).group(1)
    assert "data-confirm" not in client.get(page).text  # the AI can answer
    with session_scope() as session:  # the last turn that asked the model saw it fail
        session.add(Turn(conversation_id=conversation_id, attempts=1, outcome="needs_human",
                         finished_at=datetime.now(UTC)))  # fmt: skip
    taken = client.get(page).text
    confirm = re.search(r'data-confirm="([^"]+)"', taken).group(1)
    assert "No AI can answer right now" in confirm and "nothing is sent" in confirm
    state = client.get(f"{page}/state").text
    assert re.search(r'data-state-key="([^"]+)"', state).group(1) != key_before  # reloads
    submit(client, f"{page}/handback")
    after = client.get(page).text
    assert "Nothing was sent." in after and "This conversation needs a person" in after
    assert "Needs a human" in client.get(f"{page}/state").text
    assert fakes["graph"].sent == []


def test_a_closed_service_window_is_shown_and_a_text_is_parked(client, merchant, fakes, signed_in):
    conversation_id = _say(client, merchant, "hi")
    with session_scope() as session:
        conversation = session.get(Conversation, conversation_id)
        conversation.last_inbound_at = datetime.now(UTC) - timedelta(hours=25)
    page = f"/console/conversations/{conversation_id}"
    submit(client, f"{page}/takeover")
    assert "24-hour window is closed" in client.get(page).text
    submit(client, f"{page}/send", {"text": "hello?"})
    assert "your message is parked" in client.get(page).text
    assert "parked: sent when they write" in client.get(f"{page}/messages").text
    assert [body["type"] for body in fakes["graph"].sent] == ["template"]  # re-engagement


def _add(session, conversation_id: int, **values) -> Message:
    message = Message(conversation_id=conversation_id, send_attempts=0, **values)
    session.add(message)
    session.flush()
    return message


def test_messages_show_media_transcripts_and_why_a_send_failed(client, merchant, signed_in):
    conversation_id = _say(client, merchant, "hi")
    get_storage().put("inbound/test/voice.ogg", b"OggS-voice", "audio/ogg")
    get_storage().put("inbound/test/evil.svg", b"<svg onload=alert(1)>", "image/svg+xml")
    with session_scope() as session:
        voice = _add(
            session, conversation_id, direction=Direction.INBOUND, author=Author.CUSTOMER,
            type="audio", media={"id": "1", "mime_type": "audio/ogg"}, media_status="stored",
            media_key="inbound/test/voice.ogg", transcript="do you ship to Porto?",
            status=DeliveryStatus.RECEIVED,
        )  # fmt: skip
        evil = _add(
            session, conversation_id, direction=Direction.INBOUND, author=Author.CUSTOMER,
            type="image", media={"id": "2", "mime_type": "image/svg+xml"},
            media_status="stored", media_key="inbound/test/evil.svg",
            status=DeliveryStatus.RECEIVED,
        )  # fmt: skip
        _add(
            session, conversation_id, direction=Direction.OUTBOUND, author=Author.AI,
            type="text", text="We ship everywhere.", status=DeliveryStatus.FAILED,
            error_detail="131047 Re-engagement message",
        )  # fmt: skip
        voice_id, evil_id = voice.id, evil.id
    page = f"/console/conversations/{conversation_id}"
    html = client.get(f"{page}/messages").text
    assert f'src="{page}/messages/{voice_id}/media"' in html and "<audio" in html
    assert "do you ship to Porto?" in html
    assert "⚠ failed" in html and "131047 Re-engagement message" in html
    audio = client.get(f"{page}/messages/{voice_id}/media")
    assert audio.content == b"OggS-voice" and audio.headers["content-type"] == "audio/ogg"
    svg = client.get(f"{page}/messages/{evil_id}/media")
    assert svg.headers["content-type"] == "application/octet-stream"
    assert svg.headers["content-disposition"].startswith("attachment")
    assert "sandbox" in svg.headers["content-security-policy"]


def test_the_media_library_page_uploads_previews_and_deletes(client, merchant, signed_in):
    created = submit(
        client, "/console/media",
        {"merchant_id": str(merchant["id"]), "key": "size-chart", "kind": "image",
         "caption": "Our size chart"},
        files={"file": ("chart.png", PNG, "image/png")},
    )  # fmt: skip
    assert created.status_code == 303
    page = client.get("/console/media").text
    assert "Added &#39;size-chart&#39;" in page and "Our size chart" in page
    with session_scope() as session:
        asset_id = session.scalars(select(MediaAsset.id)).one()
    assert f'src="/console/media/{asset_id}/file"' in page
    assert client.get(f"/console/media/{asset_id}/file").content == PNG
    refused = submit(
        client, "/console/media",
        {"merchant_id": str(merchant["id"]), "key": "notes", "kind": "image"},
        files={"file": ("notes.txt", b"hello", "text/plain")},
    )  # fmt: skip
    assert refused.status_code == 303
    assert "does not accept text/plain" in client.get("/console/media").text
    assert submit(client, f"/console/media/{asset_id}/delete").status_code == 303
    with session_scope() as session:
        assert session.scalars(select(MediaAsset)).all() == []


def test_the_stats_page_counts_open_escalations_and_draws_charts(client, merchant, signed_in):
    conversation_id = _say(client, merchant, "help")
    with session_scope() as session:
        handoff.request_human(session, conversation_id, "angry customer")
    page = client.get("/console/stats").text
    assert re.search(r'<span class="big">1</span> escalations open', page)
    assert page.count("<svg") == 5 and "Messages per hour" in page  # two drawn twice
    assert page.count('class="chart-narrow"') == 2
    assert client.get("/console/stats/live").status_code == 200


def test_every_console_page_is_in_the_navigation(client, signed_in):
    nav = client.get("/console/inbox").text
    for path in ("/console/inbox", "/console/notifications", "/console/documents",
                 "/console/media", "/console/store", "/console/stats"):  # fmt: skip
        assert f'href="{path}"' in nav
