"""`python run_server.py`: one command starts everything, Ctrl-C stops it, data survives."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import pytest

from persistence.embedded import free_port
from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def _start(data_dir: Path, port: int) -> subprocess.Popen[bytes]:
    env = {
        k: v for k, v in os.environ.items()
        if k not in ("DATABASE_URL", "REDIS_URL", "GOOGLE_API_KEY", "OPENAI_API_KEY")
    }  # fmt: skip
    env.update(
        DATA_DIR=str(data_dir), PORT=str(port), ADMIN_API_TOKEN="adm",
        WHATSAPP_PHONE_NUMBER_ID="4242", WHATSAPP_ACCESS_TOKEN="tok", PYTHONPATH=str(ROOT),
    )  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "run_server.py"], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _healthy(port: int, timeout: float = 90.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            if body.get("workers"):
                return body
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.5)
    raise AssertionError("run_server.py did not become healthy with a worker")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # Ctrl-C
    process.wait(timeout=60)


def _survivors(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line]


def test_one_command_runs_everything_and_ctrl_c_stops_it(servers):
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-run-"))
    port = free_port()
    try:
        first = _start(data_dir, port)
        try:
            health = _healthy(port)
        finally:
            _stop(first)
        assert health["database"] == "ok" and health["redis"] == "ok"
        assert health["llm"]["configured"] is False  # no key: it runs and says so
        time.sleep(1)
        assert _survivors(data_dir) == []  # PostgreSQL, Redis, worker and beat are gone
        second = _start(data_dir, port)
        try:
            _healthy(port)
            _a_dead_worker_is_started_again(second, port)
            merchants = httpx.get(
                f"http://127.0.0.1:{port}/api/v1/merchants",
                headers={"Authorization": "Bearer adm"},
            ).json()
        finally:
            _stop(second)
        assert [m["phone_numbers"][0]["phone_number_id"] for m in merchants] == ["4242"]
    finally:
        shutil.rmtree(data_dir, ignore_errors=True)


def _a_dead_worker_is_started_again(server: subprocess.Popen[bytes], port: int) -> None:
    """A Celery worker exits on some broker failures; run_server.py starts it again."""
    import psutil

    def workers() -> list[psutil.Process]:
        found = []
        for child in psutil.Process(server.pid).children():
            try:
                if child.status() != psutil.STATUS_ZOMBIE and "worker" in child.cmdline():
                    found.append(child)
            except psutil.Error:
                continue  # gone meanwhile
        return found

    (worker,) = workers()
    worker.kill()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        replacement = [p for p in workers() if p.pid != worker.pid]
        if replacement:
            break
        time.sleep(0.5)
    assert replacement, "the worker was not started again"
    _healthy(port)
