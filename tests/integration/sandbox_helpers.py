"""The app with the WhatsApp sandbox on, for the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from persistence.db import session_scope
from services.merchants.merchant import create_merchant
from services.merchants.operator import create_operator
from tests.conftest import shared_app
from tests.helpers import drain_inbox
from tests.integration.console_helpers import login

SANDBOX_GRAPH_URL = "http://127.0.0.1:5000/sandbox/graph"


class DrainingClient(TestClient):
    """The sandbox posts its webhooks to the app in-process; no worker runs in these tests,
    so each request's inbox rows are drained right after it, as a worker would within
    milliseconds."""

    def request(self, *args: Any, **kwargs: Any) -> httpx.Response:  # type: ignore[override]
        response = super().request(*args, **kwargs)
        drain_inbox(self)
        return response


@pytest.fixture
def sandbox_app(servers, clean, monkeypatch) -> Iterator[TestClient]:
    """The app with the sandbox on (its Graph API URL is the sandbox's own), signed out."""
    from settings import get_settings

    monkeypatch.setenv("SANDBOX_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", SANDBOX_GRAPH_URL)
    get_settings.cache_clear()
    try:
        with DrainingClient(shared_app()) as client:
            yield client
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()


@pytest.fixture
def shops(sandbox_app) -> dict:
    """Two merchants, each with an operator, and a platform operator; ids and tokens."""
    with session_scope() as session:
        a = create_merchant(session, name="Alpha Bikes", description="We repair bikes.")
        b = create_merchant(session, name="Beta Teas", description="We sell green tea.")
        _, a_token = create_operator(session, name="Ann", merchant_id=a.id)
        _, b_token = create_operator(session, name="Ben", merchant_id=b.id)
        _, platform = create_operator(session, name="Pat")
        return {"a": a.id, "b": b.id, "a_token": a_token, "b_token": b_token,
                "platform": platform}  # fmt: skip


def signed_in(client: TestClient, token: str) -> TestClient:
    """The client signed in to the console with `token` (and nothing else)."""
    client.cookies.clear()
    assert login(client, token).status_code == 303
    return client


def live_sandbox(servers, fakes, tmp_path_factory, name: str) -> Iterator[str]:
    """The API on a free port with the sandbox on, and a worker sending to its fake Graph
    API (for a module-scoped fixture); yields the API's base URL."""
    from tests.browser.conftest import sandbox_system

    for fake in fakes.values():
        fake.reset()
    with sandbox_system(servers, tmp_path_factory, name) as base:
        yield base
