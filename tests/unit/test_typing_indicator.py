"""The typing indicator: read at the turn's start, refreshed while it runs, on threads that
outlive the turn."""

from __future__ import annotations

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


def test_the_message_is_read_with_a_typing_indicator_and_refreshed_until_the_turn_ends():
    reader = Reader()
    with presence.typing_indicator(receipt(reader), refresh=0.05):
        assert reader.read.wait(5)
        time.sleep(0.18)
    count = len(reader.reads)
    time.sleep(0.15)
    assert reader.reads == [("wamid.IN", True)] * count
    assert count >= 2  # read, then refreshed


def test_turns_share_one_thread():
    reader = Reader()
    for i in range(5):
        reader.read.clear()
        with presence.typing_indicator(receipt(reader, f"wamid.{i}")):
            assert reader.read.wait(5)
        time.sleep(0.2)  # the thread goes back to waiting for the next turn
    assert [wamid for wamid, _ in reader.reads] == [f"wamid.{i}" for i in range(5)]
    assert len(reader.threads) == 1 and threading.get_ident() not in reader.threads


def test_a_failed_read_stops_the_refreshes_and_not_the_turn():
    reader = Reader(fail=True)
    with presence.typing_indicator(receipt(reader), refresh=0.01):
        assert reader.read.wait(5)
        time.sleep(0.1)
    assert len(reader.reads) == 1
