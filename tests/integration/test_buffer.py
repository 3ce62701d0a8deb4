"""The Redis burst buffer against the real test Redis, with a short window and real sleeps."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
import redis

from persistence.buffer import DUE_KEY, Buffer

pytestmark = pytest.mark.integration

QUIET = 0.3
MAX_WAIT = 0.8
SLACK = 0.05  # Redis clock vs. our monotonic clock, and the round trip


@pytest.fixture
def buffer(servers: dict[str, str]) -> Iterator[Buffer]:
    client = redis.Redis.from_url(servers["REDIS_URL"])
    client.flushdb()
    yield Buffer(client, quiet=QUIET, max_wait=MAX_WAIT)
    client.flushdb()
    client.close()


def test_the_first_note_opens_a_burst_due_after_the_quiet_time(buffer):
    noted = buffer.note(1)
    assert noted.is_new_burst is True
    assert QUIET - SLACK <= noted.seconds_left <= QUIET


def test_a_second_note_within_the_window_extends_the_same_burst(buffer):
    buffer.note(1)
    time.sleep(0.15)
    before = buffer.seconds_left(1)
    noted = buffer.note(1)
    assert noted.is_new_burst is False
    assert noted.seconds_left > before + 0.1
    assert QUIET - SLACK <= noted.seconds_left <= QUIET


def test_continuous_messages_never_push_the_burst_past_max_wait(buffer):
    buffer.note(1)
    first = float(buffer.client.hget("buffer:1", "first"))
    dues = []
    started = time.monotonic()
    while time.monotonic() - started < MAX_WAIT + 0.2:
        buffer.note(1)
        dues.append(buffer.client.zscore(DUE_KEY, 1))
        time.sleep(0.1)
    assert max(dues) == pytest.approx(first + MAX_WAIT, abs=1e-3)
    assert buffer.seconds_left(1) == 0.0


def test_bursts_of_different_conversations_are_independent(buffer):
    assert buffer.note(1).is_new_burst is True
    assert buffer.note(2).is_new_burst is True
    assert buffer.open_bursts() == 2


def test_claim_before_due_returns_seconds_left_and_keeps_the_burst_open(buffer):
    buffer.note(1)
    left = buffer.claim(1)
    assert left is not None
    assert 0 < left <= QUIET
    assert buffer.note(1).is_new_burst is False
    assert buffer.open_bursts() == 1


def test_claim_after_due_closes_the_burst_once(buffer):
    buffer.note(1)
    time.sleep(QUIET + 0.05)
    assert buffer.claim(1) == 0.0
    assert buffer.claim(1) is None
    assert buffer.open_bursts() == 0
    assert buffer.seconds_left(1) is None


def test_a_note_after_a_claim_opens_a_new_burst(buffer):
    buffer.note(1)
    time.sleep(QUIET + 0.05)
    assert buffer.claim(1) == 0.0
    assert buffer.note(1).is_new_burst is True


def test_claim_without_a_burst_returns_none(buffer):
    assert buffer.claim(42) is None


def test_seconds_left_counts_down_and_stops_at_zero(buffer):
    assert buffer.seconds_left(1) is None
    buffer.note(1)
    first = buffer.seconds_left(1)
    time.sleep(0.1)
    second = buffer.seconds_left(1)
    assert 0 < second < first <= QUIET
    time.sleep(QUIET)
    assert buffer.seconds_left(1) == 0.0


def test_open_bursts_counts_open_conversations(buffer):
    assert buffer.open_bursts() == 0
    buffer.note(1)
    buffer.note(1)
    buffer.note(2)
    assert buffer.open_bursts() == 2


def test_overdue_lists_only_bursts_past_due_by_more_than_the_grace(buffer):
    buffer.note(1)
    time.sleep(QUIET + 0.1)
    buffer.note(2)  # fresh: not due yet
    assert buffer.overdue(grace=0.0) == [1]
    assert buffer.overdue(grace=5.0) == []
