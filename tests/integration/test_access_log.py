"""The API's access lines (api.access): every refusal and error whatever the sample, a
sample (ACCESS_LOG_SAMPLE_RATE) of the requests that succeed, never a query string."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest
from fastapi.testclient import TestClient

from settings import get_settings

pytestmark = pytest.mark.integration


@pytest.fixture
def sample(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[float], None]]:
    def set_rate(rate: float) -> None:
        monkeypatch.setenv("ACCESS_LOG_SAMPLE_RATE", str(rate))
        get_settings.cache_clear()

    yield set_rate
    monkeypatch.delenv("ACCESS_LOG_SAMPLE_RATE", raising=False)
    get_settings.cache_clear()


def _lines(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "api.access"]


def test_refusals_are_logged_whatever_the_sample(client, sample, caplog):
    sample(0)
    caplog.set_level(logging.INFO)
    assert client.post("/webhook", content=b"{}").status_code == 401  # no signature
    assert client.get("/no-such-page/7").status_code == 404
    handshake = client.get("/webhook?hub.mode=subscribe&hub.verify_token=guess-4711")
    assert handshake.status_code == 403

    lines = [r.getMessage() for r in _lines(caplog)]
    assert len(lines) == 3
    assert "method=POST path=/webhook route=/webhook status=401" in lines[0]
    assert "path=/no-such-page/7 route=none status=404" in lines[1]
    assert "path=/webhook route=/webhook status=403" in lines[2]
    assert not any("guess-4711" in line or "hub." in line for line in lines)  # no query
    assert all(r.levelno == logging.INFO and "sampled" not in r.getMessage()
               for r in _lines(caplog))  # fmt: skip


def test_successful_requests_are_sampled(client, sample, caplog):
    caplog.set_level(logging.INFO)
    sample(0)
    for _ in range(20):
        assert client.get("/docs").status_code == 200
    assert _lines(caplog) == []

    sample(1)
    for _ in range(3):
        assert client.get("/docs").status_code == 200
    lines = [r.getMessage() for r in _lines(caplog)]
    assert len(lines) == 3 and all("route=/docs status=200" in line for line in lines)
    assert not any("sampled" in line for line in lines)  # every one of them

    caplog.clear()
    sample(0.5)
    for _ in range(400):
        client.get("/docs")
    lines = [r.getMessage() for r in _lines(caplog)]
    assert 120 < len(lines) < 280  # about half (binomial: 200 +- 10)
    assert all(line.endswith("sampled=0.5") for line in lines)  # the rate, to scale counts


def test_an_unhandled_exception_is_logged_as_an_error(servers, sample, caplog):
    from api.app import create_app

    sample(0)
    caplog.set_level(logging.INFO)
    app = create_app()

    @app.get("/test-only/boom/{n}")
    def boom(n: int) -> None:
        raise RuntimeError("boom")

    with TestClient(app, raise_server_exceptions=False) as test_client:
        assert test_client.get("/test-only/boom/3").status_code == 500
    (line,) = _lines(caplog)
    assert line.levelno == logging.ERROR
    assert "path=/test-only/boom/3 route=/test-only/boom/{n} status=500" in line.getMessage()
