"""CELERY_BROKER_URL: Celery's broker, REDIS_URL when unset; only brokers we run on."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from settings import Settings

REDIS = "redis://127.0.0.1:6379/0"


def _settings(**values: object) -> Settings:
    return Settings(_env_file=None, redis_url=REDIS, **values)  # type: ignore[arg-type]


def test_without_a_broker_url_celery_uses_redis():
    settings = _settings()
    assert settings.broker_url == REDIS
    assert not settings.broker_is_amqp


def test_an_amqp_url_makes_rabbitmq_the_broker_and_leaves_redis_to_the_buffer():
    settings = _settings(celery_broker_url="amqp://app:secret@mq.internal:5672/switchboard")
    assert settings.broker_url == "amqp://app:secret@mq.internal:5672/switchboard"
    assert settings.broker_is_amqp
    assert settings.redis_url == REDIS


@pytest.mark.parametrize("url", ["sqs://queue", "http://mq.internal:15672", "mq.internal:5672"])
def test_a_broker_we_do_not_run_on_is_refused_at_start(url):
    with pytest.raises(ValidationError, match="CELERY_BROKER_URL"):
        _settings(celery_broker_url=url)


def test_an_empty_broker_url_means_unset():
    assert _settings(celery_broker_url="").broker_url == REDIS
