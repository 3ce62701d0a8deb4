"""/health tells the truth: `starting` until a worker answers rather than `degraded`, and
whether the LLM answers, not only whether a key is set (checked rarely, cached)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from channels.simulators.llm_gemini import GeminiSimulator
from tests.conftest import GEMINI_KEY

pytestmark = pytest.mark.integration


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator:
    from settings import get_settings

    def apply(**values: str) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        get_settings.cache_clear()

    monkeypatch.delenv("LLM_FALLBACK_PROVIDER")
    yield apply
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def gemini(configure) -> Iterator[GeminiSimulator]:
    """A Gemini of this test's own, so that it can go down."""
    simulator = GeminiSimulator(api_key=GEMINI_KEY).start()
    configure(GEMINI_BASE_URL=simulator.base_url)
    yield simulator
    simulator.stop()


def test_health_says_starting_before_any_worker_answers(client, clean):
    body = client.get("/health").json()  # no worker runs in this module
    assert body["workers"] == 0
    assert body["status"] == "starting"


def test_without_a_worker_after_the_grace_period_health_is_degraded(configure, client, clean):
    configure(STARTUP_GRACE_SECONDS="0")
    assert client.get("/health").json()["status"] == "degraded"


def test_health_says_the_llm_answers_when_it_does(gemini, configure, client, clean):
    configure(LLM_CHECK_SECONDS="0")
    llm = client.get("/health").json()["llm"]
    assert llm["reachable"] is True and llm["checks"]["gemini"]["reachable"] is True
    assert "detail" not in llm
    assert gemini.model_lookups == ["gemini-2.5-flash"]  # asked for the model: no generation
    assert gemini.requests == []


def test_health_says_the_llm_does_not_answer_when_it_is_down(gemini, configure, client, clean):
    configure(LLM_CHECK_SECONDS="0", STARTUP_GRACE_SECONDS="0")
    gemini.stop()
    body = client.get("/health").json()
    assert body["status"] == "degraded" and body["llm"]["configured"] is True
    assert body["llm"]["reachable"] is False
    assert body["llm"]["checks"]["gemini"]["reachable"] is False
    assert "unreachable" in body["llm"]["checks"]["gemini"]["detail"]
    assert "no LLM provider answers" in body["llm"]["detail"]


def test_health_says_when_the_llm_refuses_the_key(gemini, configure, client, clean):
    configure(LLM_CHECK_SECONDS="0", GOOGLE_API_KEY="revoked")
    check = client.get("/health").json()["llm"]["checks"]["gemini"]
    assert check == {"reachable": False, "checked_at": check["checked_at"], "detail": "HTTP 400"}


def test_the_llm_check_is_cached_not_made_on_every_health_probe(gemini, configure, client, clean):
    configure(LLM_CHECK_SECONDS="300")
    for _ in range(3):
        assert client.get("/health").json()["llm"]["reachable"] is True
    assert len(gemini.model_lookups) == 1
