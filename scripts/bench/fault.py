"""Faults injected into a running stack on a schedule, each recorded with what it hit.

- api-kill: the API runs with `FAILPOINTS=webhook.after_store=kill@<marker>`; removing the
  marker arms it, and the next webhook whose rows are committed kills the API before it
  answers (services/failpoints.py). The process that died created the marker again, so the
  supervisor's restart runs disarmed: one death per injection. WhatsApp then retries.
- worker-kill: SIGKILL to the worker's pool processes while turns are open.
- redis-flush: FLUSHALL on the broker (queued tasks, burst windows, unacknowledged tasks).
- redis-restart: Redis stopped, and an empty one started on the same port a moment later.
"""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil
import redis
from sqlalchemy import text

from scripts.bench.stack import Stack
from scripts.bench.supervisor import Supervisor

KINDS = ("api-kill", "worker-kill", "redis-flush", "redis-restart")
QUEUE_KEYS = ("messages", "default", "state", "status")


@dataclass
class Injection:
    kind: str
    at: float  # time.time() when it struck
    ended: float = 0.0  # when the fault was over (Redis back, the API dead)
    took_effect: bool = True
    detail: dict[str, Any] = field(default_factory=dict)


class Injector:
    """Every `every` seconds (the first after `every`), the next kind of `kinds` in turn."""

    def __init__(
        self,
        stack: Stack,
        supervisor: Supervisor,
        *,
        kinds: tuple[str, ...],
        every: float,
        marker: Path,
        redis_down: float,
        say: Callable[[str], None],
    ) -> None:
        self.stack = stack
        self.supervisor = supervisor
        self.kinds = kinds
        self.every = every
        self.marker = marker
        self.redis_down = redis_down
        self.say = say
        self.injections: list[Injection] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="injector", daemon=True)

    def start(self) -> Injector:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=120)

    def counts(self) -> dict[str, int]:
        return {k: sum(1 for i in self.injections if i.kind == k) for k in self.kinds}

    def records(self) -> list[dict[str, Any]]:
        return [asdict(i) for i in self.injections]

    def _run(self) -> None:
        index = 0
        while not self._stop.wait(self.every):
            kind = self.kinds[index % len(self.kinds)]
            index += 1
            try:
                injection = self.inject(kind)
            except Exception as exc:  # recorded; the soak goes on
                injection = Injection(kind, time.time(), time.time(), False, {"error": repr(exc)})
            self.injections.append(injection)
            self.say(f"fault {kind}: {_brief(injection)}")

    def inject(self, kind: str) -> Injection:
        return {
            "api-kill": self.api_kill,
            "worker-kill": self.worker_kill,
            "redis-flush": self.redis_flush,
            "redis-restart": self.redis_restart,
        }[kind]()

    # --- the faults ---------------------------------------------------------------------

    def api_kill(self, wait: float = 20.0) -> Injection:
        deaths = len(self.supervisor.deaths_of("api"))
        armed = time.time()
        self.marker.unlink(missing_ok=True)  # armed: the next stored webhook kills the API
        deadline = time.monotonic() + wait
        while not self.marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        fired = time.time()
        self.marker.touch()  # disarm, if no webhook came in time
        injection = Injection("api-kill", fired, fired)
        injection.took_effect = self._api_died(deaths, deadline=time.monotonic() + 10)
        injection.detail = {"fired_after_s": round(fired - armed, 3)}
        return injection

    def _api_died(self, deaths: int, *, deadline: float) -> bool:
        while time.monotonic() < deadline:
            if len(self.supervisor.deaths_of("api")) > deaths:
                return True
            time.sleep(0.05)
        return False

    def worker_kill(self) -> Injection:
        open_turns = _wait_for(open_turns_now, at_least=1, seconds=5.0)
        injection = Injection("worker-kill", time.time())
        killed = []
        if self.stack.worker is not None and self.stack.worker.poll() is None:
            for child in psutil.Process(self.stack.worker.pid).children():
                child.send_signal(signal.SIGKILL)
                killed.append(child.pid)
        injection.ended = time.time()
        injection.took_effect = bool(killed)
        injection.detail = {"pool_processes_killed": len(killed), "open_turns": open_turns}
        return injection

    def redis_flush(self) -> Injection:
        state = self._redis_state_when_busy()
        injection = Injection("redis-flush", time.time(), detail=state)
        client = redis.Redis.from_url(self.stack.env["REDIS_URL"])
        try:
            client.flushall()
        finally:
            client.close()
        injection.ended = time.time()
        return injection

    def redis_restart(self) -> Injection:
        state = self._redis_state_when_busy()
        injection = Injection("redis-restart", time.time(), detail=state)
        self.stack.restart_redis(down_for=self.redis_down)
        injection.ended = time.time()
        injection.detail["down_s"] = round(injection.ended - injection.at, 2)
        return injection

    def _redis_state_when_busy(self, seconds: float = 5.0) -> dict[str, Any]:
        """Wait (a little) for an open burst window and a queued task, so the fault lands on
        live state; say what it found."""
        deadline = time.monotonic() + seconds
        while True:
            state = redis_state(self.stack.env["REDIS_URL"])
            busy = state["open_bursts"] > 0 and state["queued_tasks"] > 0
            if busy or time.monotonic() > deadline:
                return {**state, "busy": busy}
            time.sleep(0.05)


def redis_state(url: str) -> dict[str, int]:
    """Open burst windows, tasks waiting in the queues, tasks delivered but not acknowledged."""
    client = redis.Redis.from_url(url, socket_timeout=2)
    try:
        pipe = client.pipeline()
        pipe.zcard("buffer:due")
        for key in QUEUE_KEYS:
            pipe.llen(key)
        pipe.hlen("unacked")
        bursts, *queues, unacked = pipe.execute()
    finally:
        client.close()
    return {"open_bursts": bursts, "queued_tasks": sum(queues), "unacked_tasks": unacked}


def open_turns_now() -> int:
    from persistence.db import get_engine

    with get_engine().connect() as conn:
        return int(
            conn.execute(text("SELECT count(*) FROM turns WHERE finished_at IS NULL")).scalar()
        )


def _wait_for(count: Callable[[], int], *, at_least: int, seconds: float) -> int:
    deadline = time.monotonic() + seconds
    while True:
        value = count()
        if value >= at_least or time.monotonic() > deadline:
            return value
        time.sleep(0.02)


def _brief(injection: Injection) -> str:
    if not injection.took_effect:
        return f"did not take effect {injection.detail}"
    return ", ".join(f"{k} {v}" for k, v in injection.detail.items())
