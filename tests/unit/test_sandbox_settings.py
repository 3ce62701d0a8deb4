"""When the sandbox may run: never by accident, never next to a real Graph API."""

from __future__ import annotations

import pytest

from run_server import sandbox_environment
from settings import Settings, is_sandbox_graph_url

EMBEDDED: dict[str, object] = {"database_url": None, "redis_url": None}
SERVERS: dict[str, object] = {"database_url": "postgresql://db/x", "redis_url": "redis://r/0"}


@pytest.fixture(autouse=True)
def _no_environment(monkeypatch):
    for name in ("SANDBOX_ENABLED", "WHATSAPP_API_BASE_URL", "WHATSAPP_APP_SECRET",
                 "VERIFY_TOKEN", "WHATSAPP_PHONE_NUMBER_ID", "WHATSAPP_ACCESS_TOKEN",
                 "DATABASE_URL", "REDIS_URL", "HOST", "PORT"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("http://127.0.0.1:5000/sandbox/graph", True),
        ("http://localhost:8080/sandbox/graph/", True),
        ("https://graph.facebook.com", False),
        ("https://graph.facebook.com/sandbox/graph", False),
        ("http://127.0.0.1:5000/other", False),
    ],
)
def test_only_the_in_app_fake_counts_as_the_sandbox_graph_api(url, ok):
    assert is_sandbox_graph_url(url) is ok


def test_off_unless_set():
    assert _settings().sandbox_active is False


def test_set_but_next_to_the_real_graph_api_it_stays_off():
    assert _settings(sandbox_enabled=True).sandbox_active is False
    pointed = _settings(
        sandbox_enabled=True, whatsapp_api_base_url="http://127.0.0.1:5000/sandbox/graph"
    )
    assert pointed.sandbox_active is True


def test_the_embedded_one_command_setup_turns_it_on_with_its_fake_graph_api():
    env = sandbox_environment(_settings(port=5055, **EMBEDDED))
    assert env["SANDBOX_ENABLED"] == "true"
    assert env["WHATSAPP_API_BASE_URL"] == "http://127.0.0.1:5055/sandbox/graph"
    assert env["WHATSAPP_APP_SECRET"]  # it must sign its webhooks with something


def test_own_servers_or_a_configured_graph_api_leave_it_off():
    assert sandbox_environment(_settings(**SERVERS)) == {}
    real = _settings(whatsapp_api_base_url="https://graph.facebook.com", **EMBEDDED)
    assert sandbox_environment(real) == {}
    refused = _settings(sandbox_enabled=False, **EMBEDDED)
    assert sandbox_environment(refused) == {}


@pytest.mark.parametrize(
    "credential",
    [{"whatsapp_app_secret": "s"}, {"verify_token": "v"},
     {"whatsapp_phone_number_id": "1065", "whatsapp_access_token": "EAAG"}],
)  # fmt: skip
def test_with_whatsapp_credentials_the_embedded_setup_talks_to_real_whatsapp(credential):
    assert sandbox_environment(_settings(**EMBEDDED, **credential)) == {}


def test_asked_for_with_own_servers_on_this_machine_it_runs_and_keeps_the_app_secret():
    local = {"database_url": "postgresql://127.0.0.1/x", "redis_url": "redis://localhost:6379/0"}
    env = sandbox_environment(
        _settings(sandbox_enabled=True, whatsapp_app_secret="s3cret", **local)
    )
    assert env["SANDBOX_ENABLED"] == "true" and "WHATSAPP_APP_SECRET" not in env


def test_the_demo_store_answers_beside_the_sandbox_graph_api_only_while_it_runs():
    on = _settings(**EMBEDDED, sandbox_enabled=True,
                   whatsapp_api_base_url="http://127.0.0.1:5123/sandbox/graph")  # fmt: skip
    assert on.sandbox_shopify_url == "http://127.0.0.1:5123/sandbox/shopify"
    off = _settings(**EMBEDDED, sandbox_enabled=False,
                    whatsapp_api_base_url="http://127.0.0.1:5123/sandbox/graph")  # fmt: skip
    assert off.sandbox_shopify_url is None
    real = _settings(**SERVERS, sandbox_enabled=True,
                     whatsapp_api_base_url="https://graph.facebook.com")  # fmt: skip
    assert real.sandbox_shopify_url is None
