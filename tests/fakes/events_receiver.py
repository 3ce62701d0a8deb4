"""An operators' system receiving Switchboard's signed conversation events."""

from __future__ import annotations

import time
from typing import Any

from channels.simulators.http import LoopbackServer, Request, Response


class FakeEventsReceiver(LoopbackServer):
    def __init__(self) -> None:
        super().__init__()
        self.received: list[Request] = []
        self._failures = 0

    def fail_next(self, count: int = 1) -> None:
        with self.lock:
            self._failures += count

    def handle(self, request: Request) -> Response:
        with self.lock:
            self.received.append(request)
            if self._failures:
                self._failures -= 1
                return Response.json({"error": "temporarily down"}, status=503)
        return Response.json({"ok": True})

    def events(self, event_type: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            bodies = [r.json() for r in self.received]
        return [b for b in bodies if event_type is None or b["type"] == event_type]

    def wait_for(self, event_type: str, count: int = 1, timeout: float = 15.0) -> list[dict]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = self.events(event_type)
            if len(found) >= count:
                return found
            time.sleep(0.05)
        raise AssertionError(f"{count} {event_type} event(s) expected, got {self.events()}")

    def reset(self) -> None:
        with self.lock:
            self.received.clear()
            self._failures = 0
