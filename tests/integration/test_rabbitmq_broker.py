"""CELERY_BROKER_URL=amqp://...: turns go through RabbitMQ while the buffer stays in Redis.

Runs against the machine's RabbitMQ (127.0.0.1:5672, or RABBITMQ_URL) in a virtual host of
its own; skipped with the reason when none answers. The API (TestClient, this process) and
a real worker both read the amqp broker from the settings, as separate hosts would.
"""

from __future__ import annotations

import importlib
import os
import time
from collections.abc import Iterator

import pytest
import redis

from channels.simulators.webhooks import text_message_payload
from scripts.bench import rabbitmq
from tests.conftest import SHARED_STACK, Stack, wipe
from tests.helpers import eventually, messages_in_db, post_webhook

UNREACHABLE = rabbitmq.unreachable()
pytestmark = [
    pytest.mark.integration,
    pytest.mark.skipif(UNREACHABLE is not None, reason=str(UNREACHABLE)),
]
QUEUES = ("default", "messages", "state", "status")


@pytest.fixture(scope="module")
def amqp_stack(
    servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, Stack]]:
    """A worker and beat on RabbitMQ, and this process publishing there too."""
    from celery import Celery

    import celeryconfig
    import tasks
    from persistence import jobs
    from settings import get_settings

    previous = jobs.celery_client()
    with rabbitmq.vhost("switchboard-test") as url, pytest.MonkeyPatch.context() as patch:
        rabbitmq.purge(url, QUEUES)
        patch.setenv("CELERY_BROKER_URL", url)
        get_settings.cache_clear()
        importlib.reload(celeryconfig)
        app = Celery("switchboard", set_as_current=False)
        app.config_from_object(celeryconfig)
        patch.setattr(tasks, "app", app)  # the stack's readiness ping goes through RabbitMQ
        jobs.use_app(app)
        SHARED_STACK.release()  # its worker listens on Redis, not on this broker
        wipe(servers)
        running = Stack(servers, tmp_path_factory.mktemp("amqp"))
        try:
            running.start(CELERY_BROKER_URL=url)
            yield url, running
        finally:
            running.stop()
            jobs.use_app(previous)
            patch.delenv("CELERY_BROKER_URL")
            get_settings.cache_clear()
            importlib.reload(celeryconfig)
    assert "CELERY_BROKER_URL" not in os.environ


def test_the_settings_pick_rabbitmq_for_celery_and_keep_redis_for_the_buffer(amqp_stack):
    import celeryconfig
    from settings import get_settings

    settings = get_settings()
    assert settings.broker_is_amqp
    url, running = amqp_stack
    assert celeryconfig.broker_url == url
    assert celeryconfig.broker_transport_options == {"confirm_publish": True}
    assert settings.redis_url and settings.redis_url.startswith("redis")


def test_a_message_gets_its_reply_through_rabbitmq(amqp_stack, client, merchant, fakes):
    fakes["gemini"].reply("Hello from a worker fed by RabbitMQ")
    base = int(time.time())
    for i, text in enumerate(["I want shoes", "size 42"]):
        payload = text_message_payload(
            phone_number_id=merchant["phone_number_id"], text=text, timestamp=base + i
        )
        assert post_webhook(client, payload).status_code == 200
    sent = fakes["graph"].wait_for_sent(1, timeout=30)
    assert sent[0]["text"]["body"] == "Hello from a worker fed by RabbitMQ"
    time.sleep(2.5)  # longer than a burst window: a second turn would show up now
    assert len(fakes["graph"].sent) == 1  # the countdown (ETA) flush ran once for the burst
    assert len(fakes["gemini"].requests) == 1
    outbound = eventually(lambda: [m for m in messages_in_db(direction="out") if m.wamid])
    assert outbound[0].wamid == sent[0]["_wamid"]


def test_the_queues_live_in_rabbitmq_not_in_redis(amqp_stack, client, merchant, fakes, servers):
    from services.monitoring.health import queue_depths

    client_redis = redis.Redis.from_url(servers["REDIS_URL"])
    fakes["gemini"].reply("ok")
    payload = text_message_payload(phone_number_id=merchant["phone_number_id"], text="hi")
    assert post_webhook(client, payload).status_code == 200
    fakes["graph"].wait_for_sent(1, timeout=30)
    assert not any(client_redis.exists(queue) for queue in QUEUES)  # no Celery list in Redis
    assert "Connected to amqp://" in amqp_stack[1].worker_log()
    depths = queue_depths(client_redis)
    assert set(depths) == set(QUEUES)  # read from RabbitMQ's declared queues
    health = client.get("/health").json()
    assert health["workers"] >= 1, health  # the worker answered a ping sent over RabbitMQ
