"""Finding 3 of issue #22: `SANDBOX_ENABLED=true` alone turned the sandbox on in a production
setup (its own DATABASE_URL and REDIS_URL, real WhatsApp credentials, HOST=0.0.0.0), and
run_server.py pointed WHATSAPP_API_BASE_URL at the in-app fake: every merchant's replies
would have gone nowhere.

Each sign of a real deployment alone keeps the sandbox off, with a `sandbox.refused` line,
and the rest of the system starts as usual with the real Graph API URL."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from persistence.db import session_scope
from run_server import sandbox_environment, withdraw_sandbox
from services.sandbox.sandbox import ensure_sandbox
from settings import Settings

FAKE_GRAPH = "http://127.0.0.1:5000/sandbox/graph"
PHONE = "100000000000001"  # the sandbox's business number
PRODUCTION: dict[str, dict[str, object]] = {
    "external database": {"database_url": "postgresql+psycopg://app@db.internal:5432/sb"},
    "external database by libpq host": {"database_url": "postgresql://app@/sb?host=10.0.0.7"},
    "external redis": {"redis_url": "redis://cache.internal:6379/0"},
    "external broker": {"celery_broker_url": "amqp://app:secret@mq.internal:5672/sb"},
    "real access token": {"whatsapp_access_token": "EAAG-real-merchant-token"},
    "public host": {"host": "0.0.0.0"},
    "public host by address": {"host": "203.0.113.10"},
}
CLEAR = ("SANDBOX_ENABLED", "WHATSAPP_API_BASE_URL", "WHATSAPP_APP_SECRET", "VERIFY_TOKEN",
         "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN", "DATABASE_URL", "REDIS_URL",
         "CELERY_BROKER_URL", "HOST", "PORT")  # fmt: skip


@pytest.fixture
def no_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in CLEAR:
        monkeypatch.delenv(name, raising=False)


def _settings(**values: object) -> Settings:
    local = {"database_url": "postgresql://127.0.0.1/sb", "redis_url": "redis://127.0.0.1/0"}
    return Settings(_env_file=None, **{**local, **values})  # type: ignore[arg-type]


@pytest.mark.parametrize("condition", PRODUCTION.values(), ids=PRODUCTION.keys())
def test_run_server_does_not_redirect_whatsapp_to_the_fake(no_environment, caplog, condition):
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        env = sandbox_environment(_settings(sandbox_enabled=True, **condition))
    assert env == {}  # WHATSAPP_API_BASE_URL stays the real Graph API
    assert "sandbox.refused" in caplog.text


def test_the_reported_production_setup_keeps_the_real_graph_api(no_environment, caplog):
    production = _settings(
        sandbox_enabled=True, host="0.0.0.0", whatsapp_app_secret="app-secret",
        verify_token="verify", whatsapp_phone_number_id="1065",
        whatsapp_access_token="EAAG-real-merchant-token",
        database_url="postgresql+psycopg://app@db.internal/sb", redis_url="redis://cache:6379/0",
    )  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        assert sandbox_environment(production) == {}
    for reason in ("DATABASE_URL", "REDIS_URL", "WHATSAPP_ACCESS_TOKEN", "HOST=0.0.0.0"):
        assert reason in caplog.text
    assert "EAAG-real-merchant-token" not in caplog.text


@pytest.mark.parametrize("condition", PRODUCTION.values(), ids=PRODUCTION.keys())
def test_even_pointed_at_the_fake_the_app_leaves_the_sandbox_out(
    no_environment, monkeypatch, caplog, condition
):
    from api.app import create_app
    from settings import get_settings

    monkeypatch.setenv("SANDBOX_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", FAKE_GRAPH)
    for name, value in {"database_url": "postgresql://127.0.0.1/sb", **condition}.items():
        monkeypatch.setenv(name.upper(), str(value))
    get_settings.cache_clear()
    try:
        assert get_settings().sandbox_active is False
        with caplog.at_level(logging.WARNING, logger="api.sandbox"):
            app = create_app()  # the rest of the system starts
        assert "sandbox.refused" in caplog.text
        client = TestClient(app)  # no lifespan: no database or Redis needed to look
        assert "/webhook" in client.get("/openapi.json").json()["paths"]
        assert client.get("/sandbox").status_code == 404
        assert client.post(f"/sandbox/graph/v23.0/{PHONE}/messages", json={}).status_code == 404
        demo_store = "/sandbox/shopify/admin/api/2025-10/graphql.json"
        assert client.post(demo_store, json={}).status_code == 404
        assert get_settings().sandbox_shopify_url is None  # no store is routed to it
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


def test_on_this_machine_with_its_own_token_the_sandbox_still_runs(no_environment):
    local = _settings(sandbox_enabled=True, whatsapp_api_base_url=FAKE_GRAPH,
                      whatsapp_access_token="sandbox-made-up")  # fmt: skip
    assert local.sandbox_refusals == [] and local.sandbox_active is True
    assert sandbox_environment(_settings(sandbox_enabled=True))["WHATSAPP_API_BASE_URL"].endswith(
        "/sandbox/graph"
    )


@pytest.fixture
def withdrawn(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[], Settings]]:
    """run_server.py turned the sandbox on in its embedded setup, then reads the database."""
    from settings import get_settings

    sandbox_env = {"SANDBOX_ENABLED": "true", "WHATSAPP_API_BASE_URL": FAKE_GRAPH}

    def run() -> Settings:
        for name, value in sandbox_env.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()
        return withdraw_sandbox(get_settings(), sandbox_env)

    yield run
    monkeypatch.undo()  # the tests' own environment back, whatever withdraw_sandbox did
    get_settings.cache_clear()


@pytest.mark.integration
def test_real_numbers_in_the_database_withdraw_the_sandbox(merchant, withdrawn, caplog):
    with caplog.at_level(logging.WARNING, logger="switchboard"):
        settings = withdrawn()
    assert settings.sandbox_active is False
    assert os.environ.get("WHATSAPP_API_BASE_URL") != FAKE_GRAPH  # workers get the real one
    assert "sandbox.refused" in caplog.text and merchant["phone_number_id"] in caplog.text


@pytest.mark.integration
def test_the_sandbox_number_alone_keeps_the_sandbox(clean, withdrawn):
    with session_scope() as session:
        ensure_sandbox(session)
    assert withdrawn().sandbox_active is True
