"""Account management API: merchant profile, deletion, staff and numbers (#16 point 4)."""

from __future__ import annotations

import pytest

from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _merchant_admin(client, merchant_id: int) -> dict:
    made = client.post(
        "/api/v1/operators",
        headers=ADMIN,
        json={"name": "Ada", "is_admin": True, "merchant_id": merchant_id},
    )
    assert made.status_code == 201, made.text
    return {"Authorization": f"Bearer {made.json()['token']}"}


def _with_conversation(merchant: dict) -> int:
    from persistence.db import session_scope
    from tests.factories import make_conversation

    with session_scope() as session:
        return make_conversation(
            session, merchant_id=merchant["id"], phone_id=merchant["phone_id"]
        ).id


def test_the_ai_profile_is_saved_and_reaches_the_prompt(client, merchant):
    from graph.context import TurnContext
    from graph.prompts import system_prompt
    from persistence.db import session_scope
    from services.turns.flows import turn_context

    body = {"greeting": "Hola! Welcome to Acme.", "ai_rules": "promise discounts\nmention rivals"}
    response = client.patch(f"/api/v1/merchants/{merchant['id']}", headers=ADMIN, json=body)
    assert response.status_code == 200, response.text
    assert response.json()["greeting"] == body["greeting"]
    conversation_id = _with_conversation(merchant)
    with session_scope() as session:
        context: TurnContext = turn_context(session, conversation_id, turn_id=0)
    prompt = system_prompt(context)
    assert "Hola! Welcome to Acme." in prompt
    assert "never to do" in prompt and "- promise discounts\n- mention rivals" in prompt


def test_bad_profile_input_gets_a_422(client, merchant):
    url = f"/api/v1/merchants/{merchant['id']}"
    assert client.patch(url, headers=ADMIN, json={"greeting": "x" * 501}).status_code == 422
    assert client.patch(url, headers=ADMIN, json={"secret": 1}).status_code == 422


def test_a_token_replace_is_stored_encrypted_and_never_echoed(client, merchant):
    from sqlalchemy import text

    from persistence.db import session_scope

    admin = _merchant_admin(client, merchant["id"])
    url = f"/api/v1/merchants/{merchant['id']}/phone-numbers"
    listed = client.get(url, headers=admin)
    assert listed.status_code == 200 and ACCESS_TOKEN not in listed.text
    assert [n["phone_number_id"] for n in listed.json()] == [merchant["phone_number_id"]]
    new_token = "EAAG-brand-new-token"
    replaced = client.patch(
        f"{url}/{merchant['phone_number_id']}", headers=admin, json={"access_token": new_token}
    )
    assert replaced.status_code == 200, replaced.text
    assert new_token not in replaced.text and "access_token" not in replaced.text
    with session_scope() as session:
        raw = session.scalar(text("SELECT access_token FROM phone_numbers"))
        from services.merchants.merchant import find_phone_number

        phone = find_phone_number(session, merchant["phone_number_id"])
        assert phone is not None and phone.access_token == new_token
    assert new_token not in raw
    bad = client.patch(
        f"{url}/{merchant['phone_number_id']}", headers=admin, json={"access_token": ""}
    )
    assert bad.status_code == 422


def test_a_number_with_conversations_is_deleted_only_when_forced(client, merchant):
    _with_conversation(merchant)
    url = f"/api/v1/merchants/{merchant['id']}/phone-numbers/{merchant['phone_number_id']}"
    refused = client.delete(url, headers=ADMIN)
    assert refused.status_code == 409 and "force=true" in refused.text
    assert client.delete(f"{url}?force=true", headers=ADMIN).status_code == 204
    listed = client.get(f"/api/v1/merchants/{merchant['id']}/phone-numbers", headers=ADMIN)
    assert listed.json() == []


def test_a_merchant_is_deleted_by_a_platform_admin_only(client, merchant):
    _with_conversation(merchant)
    url = f"/api/v1/merchants/{merchant['id']}"
    own_admin = _merchant_admin(client, merchant["id"])
    assert client.delete(url, headers=own_admin).status_code == 403
    assert client.delete(url, headers=ADMIN).status_code == 409
    assert client.delete(f"{url}?force=true", headers=ADMIN).status_code == 204
    assert client.get("/api/v1/merchants", headers=ADMIN).json() == []
    assert client.delete(url, headers=ADMIN).status_code == 404


def test_staff_are_edited_and_their_open_notifications_stay_open(client, merchant):
    from persistence.db import session_scope
    from persistence.models import Notification, NotificationRecipient, NotificationStatus

    users = f"/api/v1/merchants/{merchant['id']}/users"
    maria = client.post(users, headers=ADMIN, json={"name": "Maria", "wa_id": "15550001"}).json()
    client.post(users, headers=ADMIN, json={"name": "Juan", "wa_id": "15550002"})
    edited = client.patch(f"{users}/{maria['id']}", headers=ADMIN, json={"type": "Sales"})
    assert edited.status_code == 200 and edited.json()["type"] == "sales"
    clash = client.patch(f"{users}/{maria['id']}", headers=ADMIN, json={"wa_id": "15550002"})
    assert clash.status_code == 409
    conversation_id = _with_conversation(merchant)
    with session_scope() as session:
        notification = Notification(
            merchant_id=merchant["id"], conversation_id=conversation_id, type="question",
            answer_schema={}, context={},
        )  # fmt: skip
        session.add(notification)
        session.flush()
        session.add(
            NotificationRecipient(
                notification_id=notification.id, merchant_user_id=maria["id"],
                conversation_id=conversation_id,
            )
        )  # fmt: skip
        notification_id = notification.id
    assert client.delete(f"{users}/{maria['id']}", headers=ADMIN).status_code == 204
    assert [u["name"] for u in client.get(users, headers=ADMIN).json()] == ["Juan"]
    with session_scope() as session:
        kept = session.get(Notification, notification_id)
        assert kept is not None and kept.status == NotificationStatus.REQUESTED


def test_another_merchants_ids_are_404(client, merchant):
    other = client.post("/api/v1/merchants", headers=ADMIN, json={"name": "Other"}).json()
    admin = _merchant_admin(client, other["id"])
    staff = client.post(
        f"/api/v1/merchants/{merchant['id']}/users", headers=ADMIN,
        json={"name": "Maria", "wa_id": "15550001"},
    ).json()  # fmt: skip
    own = f"/api/v1/merchants/{other['id']}"
    assert (
        client.patch(f"{own}/users/{staff['id']}", headers=admin, json={"name": "X"}).status_code
        == 404
    )
    assert client.delete(f"{own}/users/{staff['id']}", headers=admin).status_code == 404
    number = f"{own}/phone-numbers/{merchant['phone_number_id']}"
    assert client.patch(number, headers=admin, json={"access_token": "t"}).status_code == 404
    assert client.delete(number, headers=admin).status_code == 404
    theirs = f"/api/v1/merchants/{merchant['id']}/phone-numbers"
    assert client.get(theirs, headers=admin).status_code == 404


def test_the_business_profile_is_read_and_changed_at_meta(client, merchant, fakes):
    graph = fakes["graph"]
    url = (
        f"/api/v1/merchants/{merchant['id']}/phone-numbers/"
        f"{merchant['phone_number_id']}/business-profile"
    )
    body = {"about": "Running shoes", "websites": ["https://acme.example"], "vertical": "RETAIL"}
    changed = client.patch(url, headers=ADMIN, json=body)
    assert changed.status_code == 200, changed.text
    assert graph.business_profiles.posted[-1] == {"messaging_product": "whatsapp", **body}
    sent = [r for r in graph.requests if r.path.endswith("/whatsapp_business_profile")]
    assert sent[0].headers.get("authorization") == f"Bearer {ACCESS_TOKEN}"
    read = client.get(url, headers=ADMIN)
    assert read.status_code == 200
    assert read.json()["about"] == "Running shoes" and read.json()["vertical"] == "RETAIL"
    assert ACCESS_TOKEN not in read.text


def test_a_profile_meta_would_refuse_is_a_422_with_its_reason(client, merchant, fakes):
    url = (
        f"/api/v1/merchants/{merchant['id']}/phone-numbers/"
        f"{merchant['phone_number_id']}/business-profile"
    )
    too_long = client.patch(url, headers=ADMIN, json={"about": "x" * 140})
    assert too_long.status_code == 422 and "about" in too_long.text
    assert client.patch(url, headers=ADMIN, json={"vertical": "SHOES"}).status_code == 422
    three = ["https://a.example", "https://b.example", "https://c.example"]
    assert client.patch(url, headers=ADMIN, json={"websites": three}).status_code == 422
    assert fakes["graph"].business_profiles.posted == []
