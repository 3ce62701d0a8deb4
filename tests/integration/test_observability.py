"""Metrics, logs and Flower on the real stack: what operations people see."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from channels.simulators.webhooks import text_message_payload
from persistence.embedded import free_port
from settings import get_settings
from tests.conftest import ACCESS_TOKEN, ADMIN_TOKEN, GEMINI_KEY, ROOT
from tests.helpers import eventually, post_webhook

pytestmark = pytest.mark.integration
SECRET_TEXT = "my card number is 4111 1111 1111 1111"


def _samples(client) -> dict[tuple[str, tuple], float]:
    response = client.get("/metrics", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def _value(samples: dict, name: str, **labels: str) -> float:
    """Sum of the samples of `name` whose labels include `labels`."""
    return sum(
        value
        for (sample, sample_labels), value in samples.items()
        if sample == name and set(labels.items()) <= set(sample_labels)
    )


def test_metrics_show_the_api_and_the_workers(stack, client, merchant, fakes):
    before = _samples(client)
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text="hi")
    post_webhook(client, payload)
    post_webhook(client, payload)  # WhatsApp's retry
    post_webhook(client, payload, secret="wrong")
    fakes["graph"].wait_for_sent(1, timeout=20)

    def after() -> dict:
        samples = _samples(client)
        done = _value(samples, "switchboard_turn_duration_seconds_count", outcome="replied")
        assert done > _value(before, "switchboard_turn_duration_seconds_count", outcome="replied")
        return samples

    now = eventually(after)

    def grew(name: str, **labels: str) -> float:
        return _value(now, name, **labels) - _value(before, name, **labels)

    assert grew("switchboard_webhook_requests_total", outcome="accepted") == 2
    assert grew("switchboard_webhook_requests_total", outcome="bad_signature") == 1
    assert grew("switchboard_webhook_messages_total", type="text", outcome="stored") == 1
    assert grew("switchboard_webhook_messages_total", type="text", outcome="duplicate") == 1
    assert grew("switchboard_burst_messages_count") == 1
    assert grew("switchboard_llm_calls_total", provider="gemini", outcome="ok") == 1
    assert grew("switchboard_llm_tokens_total", provider="gemini", direction="input") > 0
    assert grew("switchboard_llm_latency_seconds_count", model="gemini-2.5-flash") == 1
    assert grew("switchboard_whatsapp_sends_total", outcome="accepted") == 1
    assert grew("switchboard_messages_sent_total", author="ai") == 1
    assert grew("switchboard_messages_sent_total", author="holding") == 0
    assert grew("http_requests_total", handler="/webhook", method="POST") == 3
    assert _value(now, "switchboard_conversations", mode="ai") == 1
    assert _value(now, "switchboard_queue_depth", queue="messages") >= 0
    assert ("switchboard_buffer_open_bursts", ()) in now


def test_metrics_can_require_a_token(client, servers, monkeypatch):
    monkeypatch.setenv("METRICS_TOKEN", "scrape-me")
    get_settings.cache_clear()
    try:
        assert client.get("/metrics").status_code == 401
        wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
        assert wrong.status_code == 401
        right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
        assert right.status_code == 200 and "switchboard_" in right.text
    finally:
        monkeypatch.delenv("METRICS_TOKEN")
        get_settings.cache_clear()


def test_worker_logs_are_json_with_context_and_no_secrets(stack, client, merchant, fakes):
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text=SECRET_TEXT)
    post_webhook(client, payload)
    fakes["graph"].wait_for_sent(1, timeout=20)

    def finished() -> list[dict]:
        lines = [json.loads(line) for line in stack.worker_log().splitlines()
                 if line.startswith("{")]  # fmt: skip
        return [e for e in lines if e.get("event") == "turn.finished"] and lines

    lines = eventually(finished)
    turn = [e for e in lines if e.get("event") == "turn.finished"][-1]
    assert turn["level"] == "info" and turn["timestamp"]
    assert {"conversation_id", "turn_id", "task_id", "task"} <= set(turn)
    assert turn["task"] == "switchboard.turn.flush"
    sent = [e for e in lines if e.get("event") == "whatsapp.send.accepted"]
    assert sent and "message_id" in sent[-1] and "conversation_id" in sent[-1]
    text = stack.worker_log()
    for secret in ("4111 1111", ACCESS_TOKEN, GEMINI_KEY, ADMIN_TOKEN):
        assert secret not in text


def test_flower_shows_our_tasks_behind_basic_auth(stack, client, merchant, fakes, servers):
    port = free_port()
    flower = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "tasks", "flower", f"--port={port}",
         "--address=127.0.0.1", "--basic-auth=ops:s3cret"],
        cwd=ROOT, env={**os.environ, **servers, "PYTHONPATH": str(ROOT)},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        eventually(lambda: _reachable(f"{base}/healthcheck"), timeout=30)
        assert httpx.get(f"{base}/api/workers").status_code == 401
        time.sleep(1)  # flower subscribes to the workers' events
        post_webhook(
            client, text_message_payload(phone_number_id=merchant["phone_number_id"], text="hi")
        )
        fakes["graph"].wait_for_sent(1, timeout=20)

        def tasks() -> dict:
            response = httpx.get(f"{base}/api/tasks", auth=("ops", "s3cret"), timeout=5)
            assert response.status_code == 200
            names = {task.get("name") for task in response.json().values()}
            assert "switchboard.turn.flush" in names
            return response.json()

        assert eventually(tasks, timeout=20)
    finally:
        flower.terminate()
        flower.wait(timeout=10)


def _reachable(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False
