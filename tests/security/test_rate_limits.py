"""Rate limits on the operator and admin APIs and the console login, never on the webhook."""

from __future__ import annotations

import time

import pytest
import redis

from channels.simulators.webhooks import text_message_payload
from persistence.db import session_scope
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN
from tests.helpers import post_webhook
from tests.integration.console_helpers import login

pytestmark = pytest.mark.integration

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
WRONG = {"Authorization": "Bearer sbo_not-a-real-token"}
API = "/api/v1/conversations"


@pytest.fixture
def operator_token(clean) -> str:
    with session_scope() as session:
        return create_operator(session, name="Olga")[1]


def _redis(servers: dict[str, str]) -> redis.Redis:
    return redis.Redis.from_url(servers["REDIS_URL"])


def _assert_refused(response, *, says: str) -> None:
    assert response.status_code == 429, response.text
    assert 1 <= int(response.headers["retry-after"]) <= 60
    assert says in response.json()["detail"]


def test_each_token_has_its_own_budget_of_requests_a_minute(
    client, operator_token, configure, servers, caplog
):
    configure(API_RATE_LIMIT_PER_MINUTE=3)
    assert [client.get(API, headers=ADMIN).status_code for _ in range(3)] == [200] * 3
    _assert_refused(client.get(API, headers=ADMIN), says="at most 3 requests a minute")
    _assert_refused(client.get("/api/v1/merchants", headers=ADMIN), says="retry in")
    olga = {"Authorization": f"Bearer {operator_token}"}
    assert client.get(API, headers=olga).status_code == 200  # another credential, another budget
    keys = [key.decode() for key in _redis(servers).keys("ratelimit:*")]
    assert sorted(keys) == ["ratelimit:requests:admin-token", "ratelimit:requests:operator:1"]
    assert caplog.text.count("rate_limit.exceeded") == 1  # once a window, not once a request


def test_wrong_tokens_lock_the_address_out_even_with_the_right_token(
    client, clean, configure, caplog
):
    configure(AUTH_FAILURES_PER_MINUTE=3)
    assert [client.get(API, headers=WRONG).status_code for _ in range(3)] == [401] * 3
    refused = client.get(API, headers=ADMIN)
    _assert_refused(refused, says="too many failed authentications")
    assert "check the token" in refused.json()["detail"]
    assert client.post("/api/v1/takeover", headers=ADMIN, json={}).status_code == 429
    assert "rate_limit.address_locked_out" in caplog.text


def test_the_lock_out_ends_with_its_window(client, clean, configure, servers):
    configure(AUTH_FAILURES_PER_MINUTE=1)
    assert client.get(API, headers=WRONG).status_code == 401
    assert client.get(API, headers=ADMIN).status_code == 429
    [key] = _redis(servers).keys("ratelimit:auth-failures:*")
    _redis(servers).expire(key, 1)  # the minute passes, one second from now
    time.sleep(1.2)
    assert client.get(API, headers=ADMIN).status_code == 200


def test_requests_without_a_token_guess_nothing_and_do_not_count(client, clean, configure):
    configure(AUTH_FAILURES_PER_MINUTE=2)
    assert {client.get(API).status_code for _ in range(5)} == {401}
    assert client.get(API, headers=ADMIN).status_code == 200


def test_the_webhook_is_never_rate_limited(client, merchant, configure):
    configure(API_RATE_LIMIT_PER_MINUTE=1, AUTH_FAILURES_PER_MINUTE=1)
    assert client.get(API, headers=WRONG).status_code == 401  # this address is now locked out
    assert client.get(API, headers=ADMIN).status_code == 429
    number = merchant["phone_number_id"]
    accepted = [
        post_webhook(client, text_message_payload(phone_number_id=number)).status_code
        for _ in range(5)
    ]
    assert accepted == [200] * 5
    forged = post_webhook(client, text_message_payload(phone_number_id=number), secret="forged")
    assert forged.status_code == 401
    assert post_webhook(client, text_message_payload(phone_number_id=number)).status_code == 200


def test_without_redis_requests_are_let_through_with_a_warning(client, clean, configure, caplog):
    configure(API_RATE_LIMIT_PER_MINUTE=1, AUTH_FAILURES_PER_MINUTE=1)
    configure(REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens there
    started = time.monotonic()
    assert client.get(API, headers=WRONG).status_code == 401
    assert [client.get(API, headers=ADMIN).status_code for _ in range(3)] == [200] * 3
    assert time.monotonic() - started < 3.0
    assert "rate_limit.unavailable" in caplog.text


def test_the_console_login_counts_wrong_tokens_too(client, clean, configure):
    configure(AUTH_FAILURES_PER_MINUTE=2)
    assert [login(client, "wrong").status_code for _ in range(2)] == [401, 401]
    refused = login(client, ADMIN_TOKEN)
    assert refused.status_code == 429 and "sb_console" not in refused.cookies
    assert 1 <= int(refused.headers["retry-after"]) <= 60
    assert "Too many failed sign-ins" in refused.text
    assert client.get(API, headers=ADMIN).status_code == 429  # one budget for both doors
