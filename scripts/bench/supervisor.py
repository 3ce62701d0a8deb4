"""The process manager of the fault soak: the API, the worker and beat are started again
whenever they exit, as systemd or Kubernetes would (and run_server.py's Supervisor does).

The API comes back on its port with the same environment (its failpoint marker decides
whether it dies again); a worker that exited has its process group killed first, so no
orphaned pool process goes on running a turn beside the new worker.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

from scripts.bench.stack import Stack, exited

Process = subprocess.Popen[bytes]


@dataclass
class Death:
    role: str
    at: float
    how: str  # "killed by signal 9", "exit status 1"
    restarted_in: float | None = None  # seconds until the new process was up
    error: str | None = None


@dataclass
class Role:
    name: str
    current: Callable[[], Process | None]
    restart: Callable[[], Any]


@dataclass
class Supervisor:
    stack: Stack
    roles: list[Role]
    check_every: float = 0.25
    deaths: list[Death] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self) -> Supervisor:
        self._thread = threading.Thread(target=self._watch, name="supervisor", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=120)

    def deaths_of(self, role: str) -> list[Death]:
        with self.lock:
            return [d for d in self.deaths if d.role == role]

    def summary(self) -> dict[str, dict[str, int]]:
        """Per role: how it died, how many times."""
        out: dict[str, dict[str, int]] = {}
        with self.lock:
            for death in self.deaths:
                kinds = out.setdefault(death.role, {})
                kinds[death.how] = kinds.get(death.how, 0) + 1
        return out

    def _watch(self) -> None:
        while not self._stop.wait(self.check_every):
            for role in self.roles:
                process = role.current()
                if process is None or process.poll() is None or self._stop.is_set():
                    continue
                self._restart(role, process)

    def _restart(self, role: Role, process: Process) -> None:
        death = Death(role.name, time.time(), exited(process))
        with self.lock:
            self.deaths.append(death)
        with suppress(ProcessLookupError, PermissionError):
            os.killpg(process.pid, signal.SIGKILL)  # its own session: pool processes too
        started = time.monotonic()
        try:
            role.restart()
        except Exception as exc:  # tried again on the next check
            death.error = f"{type(exc).__name__}: {exc}"[:300]
            return
        death.restarted_in = round(time.monotonic() - started, 2)


def for_stack(stack: Stack, *, api_port: int, api_env: dict[str, str]) -> Supervisor:
    """Watch the stack's API (restarted on `api_port` with `api_env`), worker and beat."""

    def restart_api() -> None:  # on failure stack.api stays the dead one: tried again
        _, stack.api = stack.serve("api", "api.app:create_app", port=api_port, **api_env)

    return Supervisor(
        stack,
        [
            Role("api", lambda: stack.api, restart_api),
            Role("worker", lambda: stack.worker, stack.start_worker),
            Role("beat", lambda: stack.beat, stack.start_beat),
        ],
    )
