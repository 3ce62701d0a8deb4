"""Channel accounts API (#15 part 1): WhatsApp Cloud, Twilio WhatsApp and Instagram accounts
per merchant, credentials encrypted and never echoed, existing numbers listed unchanged."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from persistence.db import session_scope
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
SID = "AC" + "0123456789abcdef" * 2
TWILIO = {"type": "twilio_whatsapp", "account_sid": SID, "auth_token": "tw-secret-1",
          "sender": "+14155238886"}  # fmt: skip


def _url(merchant: dict) -> str:
    return f"/api/v1/merchants/{merchant['id']}/channels"


def _stored_secret(channel_id: int) -> str:
    with session_scope() as session:
        return session.execute(
            text("SELECT access_token FROM phone_numbers WHERE id = :id"), {"id": channel_id}
        ).scalar_one()


def test_the_existing_whatsapp_number_is_a_cloud_channel(client, merchant):
    listed = client.get(_url(merchant), headers=ADMIN)
    assert listed.status_code == 200, listed.text
    [number] = listed.json()
    assert number["type"] == "whatsapp_cloud"
    assert number["external_id"] == merchant["phone_number_id"]
    assert "access_token" not in number


def test_a_twilio_sender_is_added_with_its_token_encrypted_and_never_shown(client, merchant):
    made = client.post(_url(merchant), headers=ADMIN, json=TWILIO)
    assert made.status_code == 201, made.text
    body = made.json()
    assert body["type"] == "twilio_whatsapp" and body["external_id"] == "+14155238886"
    assert body["account_sid"] == SID
    assert "tw-secret-1" not in made.text
    stored = _stored_secret(body["id"])
    assert "tw-secret-1" not in stored and stored.startswith("gAAAA")
    listed = client.get(_url(merchant), headers=ADMIN, params={"type": "twilio_whatsapp"})
    assert [c["id"] for c in listed.json()] == [body["id"]]
    assert "tw-secret-1" not in listed.text


def test_the_same_account_twice_is_a_conflict(client, merchant):
    assert client.post(_url(merchant), headers=ADMIN, json=TWILIO).status_code == 201
    assert client.post(_url(merchant), headers=ADMIN, json=TWILIO).status_code == 409


def test_an_instagram_account_and_a_cloud_number_are_added(client, merchant):
    insta = {"type": "instagram", "instagram_account_id": "17841400000000001",
             "access_token": "IGAA-secret"}  # fmt: skip
    made = client.post(_url(merchant), headers=ADMIN, json=insta)
    assert made.status_code == 201, made.text
    assert made.json()["external_id"] == "17841400000000001"
    assert "IGAA-secret" not in made.text
    cloud = {"type": "whatsapp_cloud", "phone_number_id": "5550001", "access_token": "EAAG-x",
             "display_phone_number": "+1 555 0001"}  # fmt: skip
    added = client.post(_url(merchant), headers=ADMIN, json=cloud)
    assert added.status_code == 201, added.text
    numbers = client.get(f"/api/v1/merchants/{merchant['id']}/phone-numbers", headers=ADMIN)
    assert "5550001" in numbers.text


@pytest.mark.parametrize(
    "body",
    [
        {"type": "fax", "number": "1"},
        {**TWILIO, "sender": "14155238886"},
        {**TWILIO, "account_sid": "XX123"},
        {**TWILIO, "auth_token": ""},
        {"type": "instagram", "instagram_account_id": "abc", "access_token": "t"},
        {"type": "whatsapp_cloud", "phone_number_id": "1"},
    ],
)
def test_bad_channel_bodies_get_a_422(client, merchant, body):
    assert client.post(_url(merchant), headers=ADMIN, json=body).status_code == 422


def test_patch_replaces_the_auth_token_and_refuses_fields_of_another_type(client, merchant):
    channel = client.post(_url(merchant), headers=ADMIN, json=TWILIO).json()
    url = f"{_url(merchant)}/{channel['id']}"
    sids = {"escalation": "HX" + "a" * 32}
    changed = client.patch(
        url, headers=ADMIN, json={"auth_token": "tw-secret-2", "content_sids": sids}
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["content_sids"] == sids
    with session_scope() as session:
        from persistence.models import PhoneNumber

        assert session.get(PhoneNumber, channel["id"]).auth_token == "tw-secret-2"
    refused = client.patch(url, headers=ADMIN, json={"display_phone_number": "+1"})
    assert refused.status_code == 422


def test_delete_refuses_an_account_with_conversations_unless_forced(client, merchant):
    from tests.factories import make_conversation

    url = f"{_url(merchant)}/{merchant['phone_id']}"
    with session_scope() as session:
        make_conversation(session, merchant_id=merchant["id"], phone_id=merchant["phone_id"])
    assert client.delete(url, headers=ADMIN).status_code == 409
    assert client.delete(url, headers=ADMIN, params={"force": "true"}).status_code == 204
    assert client.get(url, headers=ADMIN).status_code == 404


def test_another_merchants_channel_is_not_found(client, merchant):
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Other"}).json()
    channel = client.post(_url(merchant), headers=ADMIN, json=TWILIO).json()
    stranger = client.get(f"/api/v1/merchants/{other['id']}/channels/{channel['id']}",
                          headers=ADMIN)  # fmt: skip
    assert stranger.status_code == 404
