"""A Celery worker loads what its processes share before its pool forks them."""

from __future__ import annotations

from celery.signals import worker_init

from services.conversations import language
from tasks import runtime


def test_the_language_model_is_loaded_when_the_worker_starts_not_on_a_first_turn():
    language._identifier.cache_clear()
    worker_init.send(sender=None)
    assert language._identifier.cache_info().currsize == 1
    assert language.detect_language("Where is my order? It has not arrived yet") == "en"
    assert language._identifier.cache_info().misses == 1  # the turn found it loaded
    assert runtime._before_fork in [receiver() for _, receiver in worker_init.receivers]
