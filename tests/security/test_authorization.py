"""Who may call what: every /api/v1 route authenticates (and so is rate limited), and the
administration routes refuse operators who are not admins."""

from __future__ import annotations

import re

import pytest

from persistence.db import session_scope
from services.merchants.operator import create_operator
from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration

ADMIN_ONLY = {
    ("GET", "/api/v1/merchants"),
    ("POST", "/api/v1/merchants"),
    ("PATCH", "/api/v1/merchants/{merchant_id}"),
    ("POST", "/api/v1/merchants/{merchant_id}/phone-numbers"),
    ("GET", "/api/v1/merchants/{merchant_id}/users"),
    ("POST", "/api/v1/merchants/{merchant_id}/users"),
    ("GET", "/api/v1/merchants/{merchant_id}/shopify"),
    ("POST", "/api/v1/merchants/{merchant_id}/shopify"),
    ("DELETE", "/api/v1/merchants/{merchant_id}/shopify"),
    ("POST", "/api/v1/merchants/{merchant_id}/shopify/sync"),
    ("GET", "/api/v1/operators"),
    ("POST", "/api/v1/operators"),
    ("POST", "/api/v1/operators/{operator_id}/revoke"),
    ("POST", "/api/v1/onboarding/whatsapp"),
    ("DELETE", "/api/v1/merchants/{merchant_id}"),
    ("GET", "/api/v1/merchants/{merchant_id}/phone-numbers"),
    ("PATCH", "/api/v1/merchants/{merchant_id}/phone-numbers/{phone_number_id}"),
    ("DELETE", "/api/v1/merchants/{merchant_id}/phone-numbers/{phone_number_id}"),
    ("GET", "/api/v1/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile"),
    ("PATCH", "/api/v1/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile"),
    (
        "POST",
        "/api/v1/merchants/{merchant_id}/phone-numbers/{phone_number_id}/business-profile/photo",
    ),
    ("PATCH", "/api/v1/merchants/{merchant_id}/users/{merchant_user_id}"),
    ("DELETE", "/api/v1/merchants/{merchant_id}/users/{merchant_user_id}"),
    ("POST", "/api/v1/merchants/{merchant_id}/channels"),
    ("GET", "/api/v1/merchants/{merchant_id}/channels"),
    ("GET", "/api/v1/merchants/{merchant_id}/channels/{channel_id}"),
    ("PATCH", "/api/v1/merchants/{merchant_id}/channels/{channel_id}"),
    ("DELETE", "/api/v1/merchants/{merchant_id}/channels/{channel_id}"),
    ("GET", "/api/v1/merchants/{merchant_id}/business-hours"),
    ("PUT", "/api/v1/merchants/{merchant_id}/business-hours"),
}


def _api_operations() -> list[tuple[str, str]]:
    from api.app import create_app

    paths = create_app().openapi()["paths"]
    return [
        (method.upper(), path)
        for path, operations in paths.items()
        if path.startswith("/api/")
        for method in operations
    ]


def _call(client, method: str, path: str, token: str | None):
    url = path.replace("{merchant_id}", "1").replace("{operator_id}", "1")
    url = re.sub(r"\{[a-z_]+\}", "1", url)
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    body = {"json": {}} if method in ("POST", "PUT", "PATCH") else {}
    return client.request(method, url, headers=headers, **body)


def test_every_api_operation_needs_a_valid_token(client, clean, configure):
    configure(AUTH_FAILURES_PER_MINUTE=0)  # so many wrong tokens would lock this address out
    operations = _api_operations()
    assert len(operations) > 20
    for token in (None, "sbo_wrong"):
        statuses = {(m, p): _call(client, m, p, token).status_code for m, p in operations}
        assert {op: code for op, code in statuses.items() if code != 401} == {}


def test_every_api_operation_is_rate_limited(client, clean, configure):
    configure(AUTH_FAILURES_PER_MINUTE=1)
    assert _call(client, "GET", "/api/v1/conversations", "sbo_wrong").status_code == 401
    statuses = {(m, p): _call(client, m, p, ADMIN_TOKEN).status_code for m, p in _api_operations()}
    assert {op: code for op, code in statuses.items() if code != 429} == {}


def test_only_the_administration_refuses_operators_who_are_not_admins(client, clean):
    with session_scope() as session:
        olga = create_operator(session, name="Olga", is_admin=False)[1]
    refused = {(m, p) for m, p in _api_operations() if _call(client, m, p, olga).status_code == 403}
    assert refused == ADMIN_ONLY


@pytest.mark.parametrize("method,path", sorted(ADMIN_ONLY))
def test_each_admin_route_refuses_operators_who_are_not_admins(client, clean, method, path):
    with session_scope() as session:
        olga = create_operator(session, name="Olga", is_admin=False)[1]
        boss = create_operator(session, name="Boss", is_admin=True)[1]
    refused = _call(client, method, path, olga)
    assert refused.status_code == 403
    assert "admin" in refused.json()["detail"]
    for token in (boss, ADMIN_TOKEN):  # admins get past the door (to a 2xx, 404 or 422)
        allowed = _call(client, method, path, token)
        assert allowed.status_code in (200, 201, 404, 422), allowed.text
