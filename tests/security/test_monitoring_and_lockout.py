"""/metrics and /stats are not open to strangers; the auth-failure lockout cannot be escaped
by naming another address, and a wrong token is locked out wherever it comes from."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator

import httpx
import pytest
import redis
from fastapi.testclient import TestClient

from persistence.db import session_scope
from services.merchants.operator import create_operator
from settings import Settings
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
API = "/api/v1/conversations"
PROXY = "10.0.0.5"  # where the requests of the proxy tests come from


@pytest.fixture
def behind_proxy(servers, clean) -> Iterator[TestClient]:
    """The app as a reverse proxy at PROXY reaches it."""
    from api.app import create_app

    with TestClient(create_app(), client=(PROXY, 40000)) as test_client:
        yield test_client


def _via(address: str, token: str) -> dict[str, str]:
    return {"X-Forwarded-For": address, "Authorization": f"Bearer {token}"}


@pytest.mark.parametrize("path", ["/metrics", "/stats"])
def test_monitoring_needs_credentials_from_another_machine(client, clean, configure, path):
    assert client.get(path).status_code == 401  # the test client is not on loopback
    refused = client.get(path, headers={"Authorization": "Bearer nope"})
    assert refused.status_code == 401
    assert "METRICS_TOKEN or an operator token" in refused.json()["detail"]
    assert client.get(path, headers=ADMIN).status_code == 200
    with session_scope() as session:
        token = create_operator(session, name="Olga")[1]
    assert client.get(path, headers={"Authorization": f"Bearer {token}"}).status_code == 200
    configure(METRICS_TOKEN="scrape-me")
    assert client.get(path, headers={"Authorization": "Bearer scrape-me"}).status_code == 200


@pytest.mark.parametrize("path", ["/metrics", "/stats"])
def test_a_local_server_answers_local_callers_only(api_server, clean, path):
    """The default: HOST on loopback, no METRICS_TOKEN, asked from this machine."""
    assert httpx.get(f"{api_server.url}{path}").status_code == 200
    relayed = httpx.get(f"{api_server.url}{path}", headers={"X-Forwarded-For": "203.0.113.7"})
    assert relayed.status_code == 401  # a proxy on this machine passing a stranger through


def test_only_a_loopback_server_without_metrics_token_is_open_locally():
    assert Settings(host="127.0.0.1", metrics_token=None).metrics_open_locally
    assert Settings(host="localhost", metrics_token=None).metrics_open_locally
    assert not Settings(host="0.0.0.0", metrics_token=None).metrics_open_locally
    assert not Settings(host="127.0.0.1", metrics_token="t").metrics_open_locally


def test_rotating_x_forwarded_for_does_not_escape_the_lockout(api_server, clean):
    """No TRUSTED_PROXIES: the peer is the client, whatever X-Forwarded-For says."""
    url = f"{api_server.url}{API}"
    failures = [
        httpx.get(url, headers=_via(f"198.51.100.{i}", f"sbo_guess-{i}")).status_code
        for i in range(20)  # AUTH_FAILURES_PER_MINUTE, the default
    ]
    assert failures == [401] * 20
    refused = httpx.get(url, headers=_via("198.51.100.99", ADMIN_TOKEN))
    assert refused.status_code == 429
    assert "too many failed authentications" in refused.json()["detail"]


def test_behind_a_trusted_proxy_each_client_has_its_own_lockout(behind_proxy, configure):
    configure(TRUSTED_PROXIES="10.0.0.0/24", AUTH_FAILURES_PER_MINUTE=2)
    for guess in ("sbo_guess-1", "sbo_guess-2"):
        assert behind_proxy.get(API, headers=_via("203.0.113.1", guess)).status_code == 401
    assert behind_proxy.get(API, headers=_via("203.0.113.1", ADMIN_TOKEN)).status_code == 429
    # the same client, prepending an address of its choice: the proxy appends the real one
    spoofed = _via("192.0.2.50, 203.0.113.1", ADMIN_TOKEN)
    assert behind_proxy.get(API, headers=spoofed).status_code == 429
    # another client behind the same proxy is not locked out by the first
    assert behind_proxy.get(API, headers=_via("203.0.113.2", ADMIN_TOKEN)).status_code == 200


def test_an_untrusted_peer_cannot_name_its_address(behind_proxy, configure):
    configure(TRUSTED_PROXIES="192.0.2.1", AUTH_FAILURES_PER_MINUTE=2)  # not PROXY
    for i in range(2):
        assert behind_proxy.get(API, headers=_via(f"203.0.113.{i}", f"g{i}")).status_code == 401
    assert behind_proxy.get(API, headers=_via("203.0.113.9", ADMIN_TOKEN)).status_code == 429


def test_a_wrong_token_is_locked_out_from_every_address(behind_proxy, configure, servers):
    configure(TRUSTED_PROXIES=PROXY, AUTH_FAILURES_PER_MINUTE=3)
    wrong = "sbo_revoked-but-still-configured-somewhere"
    answers = [behind_proxy.get(API, headers=_via(f"203.0.113.{i}", wrong)) for i in range(4)]
    assert [a.status_code for a in answers] == [401, 401, 401, 429]
    assert "this token failed too often" in answers[-1].json()["detail"]
    assert 1 <= int(answers[-1].headers["retry-after"]) <= 60
    # neither the addresses (one failure each) nor other tokens are locked out
    assert behind_proxy.get(API, headers=_via("203.0.113.1", ADMIN_TOKEN)).status_code == 200
    keys = b" ".join(redis.Redis.from_url(servers["REDIS_URL"]).keys("ratelimit:*"))
    assert wrong.encode() not in keys
    assert hashlib.sha256(wrong.encode()).hexdigest().encode() not in keys  # not token_hash
