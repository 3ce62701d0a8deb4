"""The console's doors: login with a token, a server-side session, CSRF on every form."""

from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from persistence.models import Conversation
from services.merchants.operator import create_operator, revoke_operator
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook
from tests.integration.console_helpers import csrf_token, login, submit

pytestmark = pytest.mark.integration


@pytest.fixture
def operator(clean) -> dict:
    with session_scope() as session:
        created, token = create_operator(session, name="Olga")
        return {"id": created.id, "token": token}


@pytest.fixture
def conversation_id(client, merchant) -> int:
    post_webhook(client, text_message_payload(phone_number_id=merchant["phone_number_id"]))
    with session_scope() as session:
        return session.scalars(select(Conversation.id)).one()


def _mode(conversation_id: int) -> str:
    with session_scope() as session:
        return str(session.get(Conversation, conversation_id).mode)


@pytest.mark.parametrize(
    "path", ["/console/inbox", "/console/stats", "/console/media", "/console/conversations/1"]
)
def test_pages_send_strangers_to_the_login(client, clean, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/console/login?next=/console/")
    polled = client.get(path, headers={"X-Console-Poll": "1"}, follow_redirects=False)
    assert polled.status_code == 401


def test_an_operator_token_opens_a_session_and_logout_ends_it(client, operator):
    response = login(client, operator["token"])
    assert response.status_code == 303 and response.headers["location"] == "/console/inbox"
    cookie = response.cookies["sb_console"]
    header = response.headers["set-cookie"].lower()
    assert "httponly" in header and "samesite=lax" in header and operator["token"] not in header
    inbox = client.get("/console/inbox")
    assert inbox.status_code == 200 and "Olga" in inbox.text
    assert "frame-ancestors 'none'" in inbox.headers["content-security-policy"]
    assert submit(client, "/console/logout").status_code == 303
    client.cookies.set("sb_console", cookie)  # a copy of the old cookie is worth nothing now
    assert client.get("/console/inbox", follow_redirects=False).status_code == 303


def test_the_admin_token_signs_in_too(client, clean):
    assert login(client, ADMIN_TOKEN).status_code == 303
    assert "admin-token" in client.get("/console/inbox").text


def test_a_wrong_token_is_refused_without_a_session(client, operator):
    response = login(client, "sbo_not-a-token")
    assert response.status_code == 401 and "not valid" in response.text
    assert "sb_console" not in response.cookies
    assert client.get("/console/inbox", follow_redirects=False).status_code == 303


def test_the_login_form_needs_its_own_token(client, operator):
    forged = client.post(
        "/console/login", data={"token": operator["token"]}, follow_redirects=False
    )
    assert forged.status_code == 403 and "sb_console" not in forged.cookies


def test_a_form_without_the_csrf_token_changes_nothing(client, operator, conversation_id):
    login(client, operator["token"])
    path = f"/console/conversations/{conversation_id}/takeover"
    missing = client.post(path, data={}, follow_redirects=False)
    wrong = client.post(path, data={"csrf_token": "guess"}, follow_redirects=False)
    assert missing.status_code == 403 and wrong.status_code == 403
    assert _mode(conversation_id) == "ai"


def test_a_form_posted_from_another_site_changes_nothing(client, operator, conversation_id):
    login(client, operator["token"])
    token = csrf_token(client)
    response = client.post(
        f"/console/conversations/{conversation_id}/takeover",
        data={"csrf_token": token},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert response.status_code == 403
    assert _mode(conversation_id) == "ai"
    ok = submit(client, f"/console/conversations/{conversation_id}/takeover")
    assert ok.status_code == 303 and _mode(conversation_id) == "operator"


def test_revoking_an_operator_ends_their_console_session(client, operator):
    login(client, operator["token"])
    assert client.get("/console/inbox").status_code == 200
    with session_scope() as session:
        revoke_operator(session, operator["id"])
    assert client.get("/console/inbox", follow_redirects=False).status_code == 303


def test_after_login_the_console_returns_to_the_page_asked_for(client, operator):
    response = login(client, operator["token"], next_path="/console/stats")
    assert response.headers["location"] == "/console/stats"
    offsite = login(client, operator["token"], next_path="//evil.example/x")
    assert offsite.headers["location"] == "/console/inbox"


def test_the_sandbox_is_off_unless_enabled(client, operator):
    login(client, operator["token"])
    assert client.get("/sandbox", follow_redirects=False).status_code == 404
    assert client.post("/sandbox/graph/v23.0/1/messages", json={}).status_code == 404
    assert "/sandbox" not in client.get("/console/inbox").text


def test_the_sandbox_never_runs_next_to_a_real_graph_api(servers, monkeypatch, caplog):
    from api.app import create_app
    from settings import get_settings

    monkeypatch.setenv("SANDBOX_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", "https://graph.facebook.com")
    get_settings.cache_clear()
    try:
        with caplog.at_level(logging.WARNING, logger="api.sandbox"):
            app = create_app()
        assert "sandbox.refused" in caplog.text
        from fastapi.testclient import TestClient

        with TestClient(app) as client:
            assert client.get("/sandbox/graph/v23.0/x").status_code == 404
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
