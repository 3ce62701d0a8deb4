"""Administration API, CLI, health and stats."""

from __future__ import annotations

import pytest

from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_administration_needs_a_token(client, clean):
    response = client.get("/api/v1/merchants")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"
    assert (
        client.get("/api/v1/merchants", headers={"Authorization": "Bearer nope"}).status_code == 401
    )


def test_an_operator_token_without_admin_rights_is_refused(client, clean):
    from persistence.db import session_scope
    from persistence.models import Operator
    from services.access.auth import hash_token

    with session_scope() as session:
        session.add(Operator(name="Olga", token_hash=hash_token("olga-token"), is_admin=False))
    headers = {"Authorization": "Bearer olga-token"}
    assert client.get("/api/v1/merchants", headers=headers).status_code == 403
    assert client.get("/api/v1/conversations", headers=headers).status_code == 200


def test_a_merchant_is_created_with_its_number_and_staff(client, clean):
    response = client.post(
        "/api/v1/merchants",
        headers=ADMIN,
        json={
            "name": "Acme",
            "description": "Shoes",
            "phone_numbers": [{"phone_number_id": "555", "access_token": "EAAG-secret"}],
        },
    )
    assert response.status_code == 201
    merchant = response.json()
    assert merchant["phone_numbers"][0]["phone_number_id"] == "555"
    assert "access_token" not in response.text and "EAAG-secret" not in response.text
    user = client.post(
        f"/api/v1/merchants/{merchant['id']}/users",
        headers=ADMIN,
        json={"name": "Maria", "wa_id": "15550001", "type": "Returns"},
    )
    assert user.status_code == 201 and user.json()["type"] == "returns"
    users = client.get(f"/api/v1/merchants/{merchant['id']}/users", headers=ADMIN).json()
    assert [u["name"] for u in users] == ["Maria"]
    assert [m["name"] for m in client.get("/api/v1/merchants", headers=ADMIN).json()] == ["Acme"]


def test_bad_administration_input_gets_a_clear_error(client, clean):
    assert client.post("/api/v1/merchants", headers=ADMIN, json={"name": ""}).status_code == 422
    no_id = client.post("/api/v1/merchants/1/users", headers=ADMIN, json={"name": "X"})
    assert no_id.status_code == 422 and "wa_id" in no_id.text
    missing = client.post(
        "/api/v1/merchants/999/users", headers=ADMIN, json={"name": "X", "wa_id": "1"}
    )
    assert missing.status_code == 404
    client.post("/api/v1/merchants", headers=ADMIN, json={"name": "A", "phone_numbers": [
        {"phone_number_id": "777", "access_token": "t"}]})  # fmt: skip
    taken = client.post("/api/v1/merchants/1/phone-numbers", headers=ADMIN,
                        json={"phone_number_id": "777", "access_token": "t"})  # fmt: skip
    assert taken.status_code == 409 and "already registered" in taken.json()["detail"]


def test_the_cli_creates_merchants_numbers_and_users(clean, capsys):
    from scripts.manage import main

    assert main(["create-merchant", "Shop", "--phone-number-id", "42", "--access-token", "t"]) == 0
    assert main(["add-user", "1", "Ana", "--wa-id", "1555", "--type", "sales"]) == 0
    assert main(["add-user", "1", "Nobody"]) == 1  # unreachable: no WhatsApp id
    assert main(["list"]) == 0
    out = capsys.readouterr()
    assert "1: Shop" in out.out and "number 42" in out.out and "sales Ana" in out.out
    assert "wa_id or a user_id" in out.err


def test_health_reports_each_dependency(client, clean):
    response = client.get("/health")
    body = response.json()
    assert response.status_code == 200
    assert body["database"] == "ok" and body["redis"] == "ok"
    assert body["llm"]["configured"] is True and body["llm"]["providers"] == ["gemini", "openai"]


def test_health_says_when_the_llm_is_not_configured(client, clean, monkeypatch):
    from settings import get_settings

    monkeypatch.setattr(get_settings(), "google_api_key", None)
    monkeypatch.setattr(get_settings(), "openai_api_key", None)
    body = client.get("/health").json()
    assert body["llm"]["configured"] is False
    assert "not configured" in body["llm"]["detail"]


def test_stats_count_conversations_messages_and_queues(client, merchant):
    from channels.simulators.webhooks import text_message_payload
    from tests.helpers import post_webhook

    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    stats = client.get("/stats", headers=ADMIN).json()
    assert stats["conversations"] == {"ai": 1}
    assert stats["messages"] == {"in": 1, "out": 0}
    assert stats["buffered_conversations"] == 1
    assert set(stats["queues"]) == {"default", "messages", "state", "status"}


def test_the_openapi_docs_are_served(client):
    assert client.get("/docs").status_code == 200
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/webhook", "/health", "/stats", "/api/v1/merchants"} <= set(paths)


def test_the_cli_creates_and_revokes_operators(clean, capsys):
    from scripts.manage import main
    from services.access.auth import authenticate
    from services.errors import Unauthorized

    assert main(["create-operator", "Olga", "--admin"]) == 0
    token = capsys.readouterr().out.strip().rsplit(" ", 1)[-1]
    from persistence.db import session_scope

    with session_scope() as session:
        assert authenticate(session, token).is_admin
    assert main(["revoke-operator", "1"]) == 0
    with session_scope() as session, pytest.raises(Unauthorized):
        authenticate(session, token)
    assert main(["revoke-operator", "99"]) == 1
