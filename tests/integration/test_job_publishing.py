"""persistence.jobs publishes a job as Celery's send_task would: the same message (headers,
properties, body, queue, countdown as an ETA) on Redis and on RabbitMQ, so a worker runs it
the same; only the task id and the ETA's instant differ. No worker listens meanwhile: the
messages are read back from the broker."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime

import pytest
from celery import Celery
from kombu import Connection

from persistence import jobs
from scripts.bench import rabbitmq

pytestmark = pytest.mark.integration

# a task the test app does not know: what the API process sends (tasks live in workers)
FLUSH = "switchboard.turn.flush"


@pytest.fixture(params=["redis", "amqp"])
def broker(request: pytest.FixtureRequest, servers: dict[str, str]) -> Iterator[str]:
    """A broker no worker reads: Redis database 15, or a RabbitMQ virtual host of its own."""
    if request.param == "redis":
        url = servers["REDIS_URL"].rsplit("/", 1)[0] + "/15"
        yield url
        _drain(url)
        return
    unreachable = rabbitmq.unreachable()
    if unreachable is not None:
        pytest.skip(unreachable)
    with rabbitmq.vhost("switchboard-test-jobs") as url:
        yield url


@pytest.fixture
def app(broker: str) -> Iterator[Celery]:
    celery = Celery("switchboard", set_as_current=False)
    celery.config_from_object("celeryconfig")
    celery.conf.broker_url = broker
    if broker.startswith("amqp"):
        celery.conf.broker_transport_options = {"confirm_publish": True}
    previous = jobs.celery_client()
    jobs.use_app(celery)
    _drain(broker)
    try:
        yield celery
    finally:
        jobs.use_app(previous)
        celery.close()


def _drain(url: str) -> list[dict]:
    """Every message waiting in the `messages` queue, taken off it."""
    taken = []
    with Connection(url, connect_timeout=2) as connection:
        channel = connection.default_channel
        try:
            while (message := channel.basic_get("messages", no_ack=True)) is not None:
                taken.append(
                    {
                        "headers": dict(message.headers),
                        "properties": dict(message.properties),
                        "body": json.loads(message.body),
                        "content_type": message.content_type,
                        "routing_key": message.delivery_info.get("routing_key"),
                    }
                )
        except connection.channel_errors:  # RabbitMQ: no such queue yet
            pass
    return taken


def _eta(message: dict) -> datetime:
    return datetime.fromisoformat(message["headers"].pop("eta"))


def test_a_job_is_the_message_send_task_would_publish(app: Celery, broker: str) -> None:
    assert jobs.send(jobs.Job(FLUSH, (42,), 1.5))
    app.send_task(FLUSH, args=(42,), countdown=1.5)

    ours, celerys = _drain(broker)
    assert abs((_eta(ours) - _eta(celerys)).total_seconds()) < 1.0
    for message in (ours, celerys):
        for key in ("id", "root_id"):
            assert message["headers"].pop(key)
        assert message["properties"].pop("correlation_id")
        message["properties"].pop("delivery_tag", None)  # the transport's own, per message
        message["properties"].pop("application_headers", None)  # amqp: the headers again
    assert ours["headers"]["task"] == FLUSH
    assert ours["body"][0] == [42]
    assert ours == celerys


def test_a_job_without_countdown_has_no_eta(app: Celery, broker: str) -> None:
    assert jobs.send(jobs.Job("switchboard.turn.flush", (7,)))

    [message] = _drain(broker)
    assert message["headers"]["eta"] is None
    assert message["body"][0] == [7]


def test_a_broker_that_refuses_makes_send_false(app: Celery) -> None:
    app.conf.broker_url = "redis://127.0.0.1:1/0"  # nothing listens on port 1
    app.conf.broker_connection_timeout = 0.5
    app.conf.task_publish_retry_policy = {"max_retries": 0}
    jobs.use_app(app)  # routes are looked up again for the new broker

    assert jobs.send(jobs.Job(FLUSH, (1,), 0.5)) is False
