"""`python run_server.py`: one command starts everything, Ctrl-C stops it, data survives,
and the shell tools (scripts/manage.py, Flower) find what it runs."""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import psutil
import pytest

from persistence.embedded import free_port
from tests.conftest import ROOT
from tests.helpers import eventually

pytestmark = pytest.mark.integration
URLS = ("DATABASE_URL", "REDIS_URL")


def _environment(data_dir: Path, **extra: str) -> dict[str, str]:
    """This machine's environment without the test stack's servers, as in a new shell."""
    env = {
        k: v for k, v in os.environ.items()
        if k not in (*URLS, "GOOGLE_API_KEY", "OPENAI_API_KEY", "PROMETHEUS_MULTIPROC_DIR")
    }  # fmt: skip
    return {**env, "DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT), **extra}


def _start(data_dir: Path, port: int, *args: str, **extra: str) -> subprocess.Popen[bytes]:
    env = _environment(
        data_dir, PORT=str(port), ADMIN_API_TOKEN="adm", WHATSAPP_PHONE_NUMBER_ID="4242",
        WHATSAPP_ACCESS_TOKEN="tok", **extra,
    )  # fmt: skip
    return subprocess.Popen(
        [sys.executable, "run_server.py", *args], cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


def _healthy(port: int, timeout: float = 90.0, seen: list[str] | None = None) -> dict:
    """/health once a worker answers; `seen` collects each status said before."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            body = httpx.get(f"http://127.0.0.1:{port}/health", timeout=2).json()
            if seen is not None:
                seen.append(body["status"])
            if body.get("workers"):
                return body
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("run_server.py did not become healthy with a worker")


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGINT)  # Ctrl-C
    process.wait(timeout=60)


def _alive(process: psutil.Process) -> bool:
    """Running, and not merely ended: with several API processes, multiprocessing's resource
    tracker ends after run_server.py, and a container's init may never reap it (a zombie)."""
    try:
        return process.is_running() and process.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _survivors(data_dir: Path) -> list[str]:
    out = subprocess.run(["ps", "-eo", "args"], capture_output=True, text=True).stdout
    return [line for line in out.splitlines() if str(data_dir) in line]


def test_one_command_runs_everything_and_ctrl_c_stops_it(servers):
    data_dir = Path(tempfile.mkdtemp(prefix="switchboard-run-"))
    port, flower_port = free_port(), free_port()
    try:
        first = _start(data_dir, port, "--flower", FLOWER_PORT=str(flower_port))
        statuses: list[str] = []
        try:
            health = _healthy(port, seen=statuses)
            children = psutil.Process(first.pid).children(recursive=True)
            _the_shell_tools_find_the_running_system(data_dir, flower_port)
        finally:
            _stop(first)
        assert health["database"] == "ok" and health["redis"] == "ok"
        assert health["llm"]["configured"] is False  # no key: it runs and says so
        # before its worker answers it says it is starting, never that it is degraded
        assert set(statuses[:-1]) <= {"starting"} and statuses[-1] == "ok"
        # PostgreSQL, Redis, worker and beat are gone; Flower and API processes too
        eventually(lambda: _survivors(data_dir) == [], timeout=1)
        eventually(lambda: not any(_alive(child) for child in children), timeout=1)
        assert not (data_dir / "runtime.json").exists()
        assert _manage("list", data_dir).returncode != 0  # nothing runs: nothing to find
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


def _manage(command: str, data_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "scripts/manage.py", command], cwd=ROOT, env=_environment(data_dir),
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip


def _the_shell_tools_find_the_running_system(data_dir: Path, flower_port: int) -> None:
    """With no DATABASE_URL or REDIS_URL, as in a second terminal: the tools read
    DATA_DIR/runtime.json, which only its owner may read (the Redis password is in it)."""
    runtime = data_dir / "runtime.json"
    assert stat.S_IMODE(runtime.stat().st_mode) == 0o600
    assert {"database_url", "redis_url", "broker_url"} <= set(json.loads(runtime.read_text()))
    listed = _manage("list", data_dir)
    assert listed.returncode == 0, listed.stderr
    assert "number 4242" in listed.stdout  # the default merchant made at start
    user, password = (data_dir / "flower-auth").read_text().strip().split(":", 1)
    assert stat.S_IMODE((data_dir / "flower-auth").stat().st_mode) == 0o600
    workers = f"http://127.0.0.1:{flower_port}/api/workers"
    eventually(lambda: _answers(workers), timeout=60)
    assert httpx.get(workers, timeout=5).status_code == 401
    assert httpx.get(workers, auth=(user, "wrong"), timeout=5).status_code == 401

    def a_worker() -> dict:
        found = httpx.get(workers, auth=(user, password), params={"refresh": "1"}, timeout=10)
        assert found.status_code == 200
        return found.json()

    assert eventually(a_worker, timeout=30)  # Flower watches our broker, and sees our worker


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code in (200, 401)
    except httpx.HTTPError:
        return False


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
