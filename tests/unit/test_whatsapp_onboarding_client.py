"""The Embedded Signup calls against the Graph simulator: Meta's answers and errors, typed,
and never a secret in an error's text or in httpx's request line."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from channels.errors import AuthError, InvalidRequest, RegistrationLimited, TwoStepPinMismatch
from channels.simulators.graph import GraphSimulator
from channels.whatsapp_onboarding import OnboardingClient

NUMBER = "209876543210987"
WABA = "102290129340398"
SECRET = "meta-app-secret-0a1b2c"


@pytest.fixture(scope="module")
def server() -> Iterator[GraphSimulator]:
    with GraphSimulator() as started:
        assert isinstance(started, GraphSimulator)
        yield started


@pytest.fixture
def graph(server: GraphSimulator) -> Iterator[GraphSimulator]:
    server.reset()
    server.onboarding.app_secret = SECRET
    yield server


@pytest.fixture
def api(graph: GraphSimulator) -> Iterator[OnboardingClient]:
    with OnboardingClient(api_root=graph.api_root, timeout=2.0) as client:
        yield client


def _exchange(graph: GraphSimulator, api: OnboardingClient, code: str) -> str:
    return api.exchange_code(app_id=graph.onboarding.app_id, app_secret=SECRET, code=code)


def test_a_code_gives_its_token_once(graph, api, caplog) -> None:
    caplog.set_level(logging.INFO)
    # the request lines at INFO, even after observability.logs.configure() quieted httpx
    caplog.set_level(logging.INFO, logger="httpx")
    code = graph.onboarding.issue_code("EAAB-token-1")
    assert _exchange(graph, api, code) == "EAAB-token-1"
    with pytest.raises(InvalidRequest) as refused:
        _exchange(graph, api, code)
    assert refused.value.code == 100 and refused.value.subcode == 36009
    assert "authorization code has been used" in str(refused.value)
    assert SECRET not in str(refused.value) and code not in str(refused.value)
    assert SECRET not in caplog.text and code not in caplog.text
    assert "client_secret=[redacted]" in caplog.text


def test_subscribe_register_and_read_the_number(graph, api) -> None:
    token = _exchange(graph, api, graph.onboarding.issue_code())
    graph.onboarding.add_number(NUMBER, display_phone_number="15557654321", verified_name="Bake")
    api.subscribe_app(WABA, token=token)
    assert not api.number_details(NUMBER, token=token).registered
    api.register(NUMBER, token=token, pin="123456")
    details = api.number_details(NUMBER, token=token)
    assert details.registered and details.verified_name == "Bake"
    assert (details.display_phone_number, details.messaging_limit) == ("15557654321", "TIER_250")
    assert [r.headers["authorization"] for r in graph.requests[1:]] == [f"Bearer {token}"] * 4


def test_a_number_with_another_pin_and_too_many_attempts_are_told_apart(graph, api) -> None:
    token = _exchange(graph, api, graph.onboarding.issue_code())
    graph.onboarding.add_number(NUMBER, pin="999999")
    with pytest.raises(TwoStepPinMismatch) as mismatch:
        api.register(NUMBER, token=token, pin="123456")
    assert mismatch.value.code == 133005 and "123456" not in str(mismatch.value)
    for _ in range(9):
        with pytest.raises(TwoStepPinMismatch):
            api.register(NUMBER, token=token, pin="123456")
    with pytest.raises(RegistrationLimited) as limited:
        api.register(NUMBER, token=token, pin="999999")
    assert limited.value.code == 133016 and not limited.value.retryable


def test_calls_without_the_business_token_are_refused(graph, api) -> None:
    graph.onboarding.add_number(NUMBER)
    with pytest.raises(AuthError) as refused:
        api.subscribe_app(WABA, token="EAAB-not-issued")
    assert refused.value.code == 190 and "EAAB-not-issued" not in str(refused.value)
