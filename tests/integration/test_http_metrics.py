"""http_requests_total counts each request under its route template ("none" when no route
matches), however often a path comes back."""

from __future__ import annotations

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import ADMIN_TOKEN

pytestmark = pytest.mark.integration


def _requests(client, handler: str, method: str) -> float:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == "http_requests_total"
        and sample.labels.get("handler") == handler
        and sample.labels.get("method") == method
    )


def test_requests_are_counted_per_route_template(client):
    template = "/api/v1/canned-responses/{canned_id}"
    before = {
        "template": _requests(client, template, "GET"),
        "none": _requests(client, "none", "GET"),
        "webhook": _requests(client, "/webhook", "GET"),
    }
    for path in (
        "/api/v1/canned-responses/1",
        "/api/v1/canned-responses/2",
        "/api/v1/canned-responses/1",
    ):
        assert client.get(path).status_code < 500  # refused or not found: counted all the same
    for _ in range(2):
        assert client.get("/no-such-page/7").status_code == 404
    assert client.get("/no-such-page/8").status_code == 404
    assert client.get("/webhook").status_code == 403  # no verify token: the handshake fails

    assert _requests(client, template, "GET") - before["template"] == 3
    assert _requests(client, "/api/v1/canned-responses/1", "GET") == 0
    assert _requests(client, "/no-such-page/7", "GET") == 0
    assert _requests(client, "none", "GET") - before["none"] == 3
    assert _requests(client, "/webhook", "GET") - before["webhook"] == 1
