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


def _sample(client, name: str, **labels: str) -> float:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    return sum(
        sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
        if sample.name == name and labels.items() <= sample.labels.items()
    )


def test_mounts_plain_routes_and_wrong_methods_have_their_template(client):
    before = {
        "static": _requests(client, "/console/static", "GET"),
        "openapi": _requests(client, "/openapi.json", "GET"),
        "delete": _requests(client, "/webhook", "DELETE"),
    }
    assert client.get("/console/static/console.css").status_code == 200
    assert client.get("/console/static/no-such-file.css").status_code == 404
    assert client.get("/openapi.json").status_code == 200
    assert client.delete("/webhook").status_code == 405

    assert _requests(client, "/console/static", "GET") - before["static"] == 2
    assert _requests(client, "/openapi.json", "GET") - before["openapi"] == 1
    assert _requests(client, "/webhook", "DELETE") - before["delete"] == 1


def test_scrapes_are_not_counted(client):
    for _ in range(3):
        _requests(client, "/metrics", "GET")
    assert _requests(client, "/metrics", "GET") == 0


def test_sizes_and_latencies_are_recorded_per_template(client):
    names = {
        "in": ("http_request_size_bytes_sum", {"handler": "/webhook"}),
        "out": ("http_response_size_bytes_count", {"handler": "/webhook"}),
        "latency": ("http_request_duration_seconds_count",
                    {"handler": "/webhook", "method": "POST"}),
        "fine": ("http_request_duration_highr_seconds_count", {}),
    }  # fmt: skip
    before = {key: _sample(client, name, **labels) for key, (name, labels) in names.items()}
    body = b'{"object": "whatsapp_business_account", "entry": []}'
    assert client.post("/webhook", content=body).status_code == 401  # unsigned: refused
    after = {key: _sample(client, name, **labels) for key, (name, labels) in names.items()}

    assert after["in"] - before["in"] == len(body)  # the request's Content-Length
    assert after["out"] - before["out"] == 1
    assert after["latency"] - before["latency"] == 1
    assert after["fine"] - before["fine"] >= 1  # every request, scrapes aside
