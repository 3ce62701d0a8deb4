"""The app with the WhatsApp sandbox on, for the sandbox tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

SANDBOX_GRAPH_URL = "http://127.0.0.1:5000/sandbox/graph"


@pytest.fixture
def sandbox_app(servers, clean, monkeypatch) -> Iterator[TestClient]:
    """The app with the sandbox on (its Graph API URL is the sandbox's own), signed out."""
    from api.app import create_app
    from settings import get_settings

    monkeypatch.setenv("SANDBOX_ENABLED", "true")
    monkeypatch.setenv("WHATSAPP_API_BASE_URL", SANDBOX_GRAPH_URL)
    get_settings.cache_clear()
    try:
        with TestClient(create_app()) as client:
            yield client
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()
