"""The test stack's worker and beat, forked from one process that has imported the app.

`python -m celery -A tasks worker` spends seconds of CPU importing the app (LangGraph,
google-genai, openai, SQLAlchemy...) before it does anything, and the suite starts a worker
and a beat dozens of times (each fault test, each module with settings of its own). This
process imports all that once, with the suite's environment, and forks each of them from
itself: the child takes the environment asked for, then runs Celery's command line as
`python -m celery` would. Importing the app reads no settings (celeryconfig is loaded when
the app is first configured, in the child), so a child with other settings is configured
as a fresh process would be; tests.conftest only asks for children whose environment
differs from this process's in settings.

Protocol: one JSON object a line on stdin, one reply a line on stdout.
  {"op": "spawn", "args": [...], "env": {...}, "cwd": "...", "log": "..."} -> {"pid": N}
  {"op": "poll", "pid": N} -> {"code": exit code, negative for a signal, or null}
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import IO, Any


def main() -> None:
    import celery.__main__
    import celery.apps.beat
    import celery.apps.worker
    import celery.bin.celery
    import celery.concurrency.prefork
    import celery.worker.consumer  # noqa: F401

    import tasks  # noqa: F401 - the app and everything its tasks import
    from services.conversations.language import load_identifier

    load_identifier()  # what each worker loads as it starts (tasks.runtime): inherited loaded

    exited: dict[int, int] = {}

    def reap(*_: Any) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            exited[pid] = os.waitstatus_to_exitcode(status)

    signal.signal(signal.SIGCHLD, reap)
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C in pytest is not for this process
    _reply({"ready": True})
    for line in sys.stdin:
        request = json.loads(line)
        if request["op"] == "spawn":
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                raise SystemExit(_child(request))  # unwinds out of this loop, as a process exits
            _reply({"pid": pid})
        elif request["op"] == "poll":
            reap()
            _reply({"code": exited.get(request["pid"])})


def _reply(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


def _child(request: dict[str, Any]) -> int:
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    log = os.open(request["log"], os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    os.dup2(log, 1)
    os.dup2(log, 2)
    os.close(log)
    os.chdir(request["cwd"])
    os.environ.clear()
    os.environ.update(request["env"])
    from celery.__main__ import __file__ as celery_main
    from celery.__main__ import main as celery

    sys.argv = [celery_main, *request["args"]]
    celery()  # exits
    return 0


# --- the test process's side ---------------------------------------------------------


class Forked:
    """A process a zygote forked, with the part of Popen's interface the tests use."""

    def __init__(self, parent: _Connection, pid: int) -> None:
        self.parent = parent
        self.pid = pid
        self.returncode: int | None = None

    def poll(self) -> int | None:
        if self.returncode is None:
            self.returncode = self.parent.ask({"op": "poll", "pid": self.pid})["code"]
        return self.returncode

    def wait(self, timeout: float | None = None) -> int:
        deadline = None if timeout is None else time.monotonic() + timeout
        while (code := self.poll()) is None:
            if deadline is not None and time.monotonic() > deadline:
                raise subprocess.TimeoutExpired(f"pid {self.pid}", timeout or 0)
            time.sleep(0.02)
        return code

    def send_signal(self, sig: int) -> None:
        if self.poll() is None:
            os.kill(self.pid, sig)

    def terminate(self) -> None:
        self.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.send_signal(signal.SIGKILL)


class _Connection:
    """One zygote process and its pipes."""

    def __init__(self, env: dict[str, str], cwd: Path) -> None:
        self.env = dict(env)
        self.lock = threading.Lock()
        self.process = subprocess.Popen(
            [sys.executable, "-m", "tests.zygote"], cwd=cwd, env=env, text=True,
            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
        )  # fmt: skip
        with self.lock:
            self._read()  # ready once the app is imported

    def alive(self) -> bool:
        return self.process.poll() is None

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None
        with self.lock:
            self.process.stdin.write(json.dumps(request) + "\n")
            self.process.stdin.flush()
            return self._read()

    def _read(self) -> dict[str, Any]:
        stdout: IO[str] | None = self.process.stdout
        assert stdout is not None
        line = stdout.readline()
        if not line:
            raise RuntimeError(f"the zygote exited ({self.process.wait()})")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def close(self) -> None:
        """Its children live on (their Stack stops them); their exit codes go with it."""
        assert self.process.stdin is not None
        self.process.stdin.close()  # the zygote's loop ends
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()


class Zygote:
    """Forks the stack's processes. A zygote is started when first asked for a child, and
    another when the environment asked for differs from its own in more than `settings`
    (names read only after the fork); the earlier one stays, for its children's exit codes."""

    def __init__(self, settings: frozenset[str]) -> None:
        self.settings = settings
        self.connections: list[_Connection] = []
        self.started = 0
        self.spawned = 0

    def spawn(self, args: list[str], *, env: dict[str, str], cwd: Path, log: Path) -> Forked:
        current = self.connections[-1] if self.connections else None
        if current is None or not current.alive() or not self._fits(current.env, env):
            current = _Connection(env, cwd)
            self.connections.append(current)
            self.started += 1
        reply = current.ask(
            {"op": "spawn", "args": args, "env": env, "cwd": str(cwd), "log": str(log)}
        )
        self.spawned += 1
        return Forked(current, reply["pid"])

    def _fits(self, own: dict[str, str], env: dict[str, str]) -> bool:
        return {k for k in env.keys() | own.keys() if env.get(k) != own.get(k)} <= self.settings

    def stop(self) -> None:
        for connection in self.connections:
            connection.close()
        self.connections.clear()


if __name__ == "__main__":
    main()
