"""The console inbox with several channels (#15): each row names its channel, and the inbox
filters by channel while keeping the other filters (view, label, search)."""

from __future__ import annotations

import re

import pytest

from channels.simulators.instagram import message_event, signed, webhook_body
from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from services.merchants.channel import add_channel
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN, INSTAGRAM_APP_SECRET, TWILIO_SID, TWILIO_TOKEN
from tests.helpers import post_webhook
from tests.integration.console_helpers import login

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SENDER, IG_ACCOUNT = "+14155238886", "17841400000000001"


@pytest.fixture
def three_channels(client, merchant, fakes) -> dict[str, int]:
    """One conversation on each channel: Ana on WhatsApp Cloud, Bruno on Twilio, Carla on
    Instagram, each arrived through its own signed webhook."""
    body = {"type": "twilio_whatsapp", "account_sid": TWILIO_SID, "auth_token": TWILIO_TOKEN,
            "sender": SENDER}  # fmt: skip
    made = client.post(f"/api/v1/merchants/{merchant['id']}/channels", headers=ADMIN, json=body)
    assert made.status_code == 201, made.text
    with session_scope() as session:
        add_channel(
            session, merchant_id=merchant["id"], type="instagram", external_id=IG_ACCOUNT,
            secret="IGAA-token", display_name="@acme",
        )  # fmt: skip
    cloud = text_message_payload(
        phone_number_id=merchant["phone_number_id"], wa_id="15551230001", text="cloud hello",
        profile_name="Ana",
    )  # fmt: skip
    assert post_webhook(client, cloud).status_code == 200
    twilio = fakes["twilio"]
    form = twilio.inbound_form(
        sender=SENDER, customer="+15551230002", body="twilio hello", profile_name="Bruno"
    )
    assert twilio.post(client, "http://testserver/webhooks/twilio", form).status_code == 200
    event = message_event(account_id=IG_ACCOUNT, igsid="6543210987654321", text="insta hello")
    content, headers = signed(webhook_body(IG_ACCOUNT, [event]), secret=INSTAGRAM_APP_SECRET)
    assert client.post("/webhooks/instagram", content=content, headers=headers).status_code == 200
    listed = client.get("/api/v1/conversations", headers=ADMIN).json()
    assert len(listed) == 3
    return {c["channel"]: c["id"] for c in listed}


@pytest.fixture
def signed_in(client, merchant) -> None:
    with session_scope() as session:
        _, token = create_operator(session, name="Olga")
    assert login(client, token).status_code == 303


def _badges(html: str) -> dict[str, str]:
    """conversation id -> the channel its row's badge names."""
    rows = re.findall(
        r'data-conversation="(\d+)".*?class="badge channel[^"]*" '
        r'data-channel="(\w+)"[^>]*>([^<]+)<',
        html,
        re.S,
    )
    return {conversation: f"{channel}:{label}" for conversation, channel, label in rows}


def test_each_inbox_row_shows_its_channel(client, three_channels, signed_in):
    page = client.get("/console/inbox")
    assert page.status_code == 200
    assert _badges(page.text) == {
        str(three_channels["whatsapp_cloud"]): "whatsapp_cloud:WhatsApp",
        str(three_channels["twilio_whatsapp"]): "twilio_whatsapp:Twilio",
        str(three_channels["instagram"]): "instagram:Instagram",
    }


def test_the_inbox_filters_by_channel_and_keeps_the_other_filters(
    client, three_channels, signed_in
):
    page = client.get("/console/inbox", params={"channel": "twilio_whatsapp"})
    assert list(_badges(page.text)) == [str(three_channels["twilio_whatsapp"])]
    # the control: every channel offered, the chosen one selected, inside the search form
    assert re.search(r'<select id="channel" name="channel">', page.text)
    assert '<option value="twilio_whatsapp" selected>Twilio</option>' in page.text
    assert '<option value="instagram">Instagram</option>' in page.text
    # the live rows the page polls carry the filter, and so do the desk's tabs
    poll = re.search(r'data-poll="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    assert "channel=twilio_whatsapp" in poll
    assert list(_badges(client.get(poll).text)) == [str(three_channels["twilio_whatsapp"])]
    assert re.search(r'href="[^"]*assigned=mine[^"]*channel=twilio_whatsapp', page.text)

    # with a search: only the matching conversation of that channel
    found = client.get("/console/inbox/rows", params={"channel": "instagram", "q": "hello"})
    assert list(_badges(found.text)) == [str(three_channels["instagram"])]
    none = client.get("/console/inbox/rows", params={"channel": "instagram", "q": "twilio"})
    assert _badges(none.text) == {}
    # with a view: the AI's conversations on WhatsApp Cloud
    ai = client.get("/console/inbox/rows", params={"channel": "whatsapp_cloud", "view": "ai"})
    assert list(_badges(ai.text)) == [str(three_channels["whatsapp_cloud"])]
    # an unknown channel is no filter at all, never an error
    unknown = client.get("/console/inbox/rows", params={"channel": "telegram"})
    assert unknown.status_code == 200 and len(_badges(unknown.text)) == 3
