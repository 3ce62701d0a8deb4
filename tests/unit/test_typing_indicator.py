"""The read receipt: with a typing indicator once a turn has worked past the grace, refreshed
until its reply is ready; a quicker turn's after the reply, without one. On threads that
outlive the turn."""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Any, cast

from channels.errors import WhatsAppError
from services.turns import presence


class Reader:
    """Records mark_read calls and the thread each ran on."""

    def __init__(self, fail: bool = False) -> None:
        self.reads: list[tuple[str, bool]] = []
        self.threads: set[int] = set()
        self.fail = fail
        self.read = threading.Event()

    def mark_read(self, wamid: str, *, typing: bool = True) -> None:
        self.threads.add(threading.get_ident())
        self.reads.append((wamid, typing))
        self.read.set()
        if self.fail:
            raise WhatsAppError("unsupported", code=131000)


def receipt(reader: Reader, wamid: str = "wamid.IN") -> presence.ReadReceipt:
    return presence.ReadReceipt(cast(Any, reader), wamid)


def test_a_slow_turn_shows_a_typing_indicator_after_the_grace_refreshed_until_answered():
    reader = Reader()
    with presence.typing_indicator(receipt(reader), refresh=0.05, grace=0.1) as answered:
        time.sleep(0.05)
        assert reader.reads == []  # within the grace: nothing yet
        assert reader.read.wait(5)
        time.sleep(0.18)
        answered.set()  # the reply is ready: no more refreshes while it is sent
        count = len(reader.reads)
        time.sleep(0.15)
        assert len(reader.reads) == count
    time.sleep(0.1)
    assert reader.reads == [("wamid.IN", True)] * count  # no plain read after the indicator
    assert count >= 2  # read, then refreshed


def test_a_turn_answered_within_the_grace_marks_the_message_read_after_its_reply():
    reader = Reader()
    with presence.typing_indicator(receipt(reader), grace=5) as answered:
        answered.set()
        time.sleep(0.1)
        assert reader.reads == []  # the reply is being sent: it goes first
    assert reader.read.wait(5)
    assert reader.reads == [("wamid.IN", False)]  # read, no indicator


def test_a_turn_that_fails_within_the_grace_still_marks_the_message_read():
    reader = Reader()
    with contextlib.suppress(RuntimeError), presence.typing_indicator(receipt(reader), grace=5):
        raise RuntimeError("the graph failed")
    assert reader.read.wait(5)
    assert reader.reads == [("wamid.IN", False)]


def test_turns_share_one_thread():
    reader = Reader()
    for i in range(5):
        reader.read.clear()
        with presence.typing_indicator(receipt(reader, f"wamid.{i}"), grace=0):
            assert reader.read.wait(5)
        time.sleep(0.2)  # the thread goes back to waiting for the next turn
    assert [wamid for wamid, _ in reader.reads] == [f"wamid.{i}" for i in range(5)]
    assert len(reader.threads) == 1 and threading.get_ident() not in reader.threads


def test_a_failed_read_stops_the_refreshes_and_not_the_turn():
    reader = Reader(fail=True)
    with presence.typing_indicator(receipt(reader), refresh=0.01, grace=0):
        assert reader.read.wait(5)
        time.sleep(0.1)
    assert len(reader.reads) == 1
