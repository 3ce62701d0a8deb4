"""Settings changed for one test, through the environment as every process reads them; and
a real API server process for the attacks that only a real server shows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from persistence.embedded import free_port
from tests.conftest import ROOT


@pytest.fixture
def configure(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., None]]:
    """`configure(API_RATE_LIMIT_PER_MINUTE=3)`: set variables and drop the cached settings
    (and the Redis and database clients made from them); all restored afterwards."""
    from settings import get_settings
    from tasks import runtime

    def reset() -> None:
        get_settings.cache_clear()
        runtime.reset()

    def apply(**values: object) -> None:
        for name, value in values.items():
            monkeypatch.setenv(name, str(value))
        reset()

    yield apply
    monkeypatch.undo()
    reset()


class ApiServer:
    """`python run_server.py --only api` on a free port, against the test databases: the
    real HTTP server (uvicorn, its proxy-header and body handling) in its own process,
    whose memory the flood tests watch."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        full_env = {**os.environ, **env, "PORT": str(self.port), "PYTHONPATH": str(ROOT)}
        with open(log_path, "ab") as log:
            self.process = subprocess.Popen(
                [sys.executable, "run_server.py", "--only", "api"], cwd=ROOT, env=full_env,
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip

    def wait_ready(self, timeout: float = 60.0) -> ApiServer:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                if httpx.get(f"{self.url}/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"the API did not start; see {self.log_path}")

    def rss(self) -> int:
        return int(psutil.Process(self.process.pid).memory_info().rss)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture(scope="session")
def api_server(
    servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ApiServer]:
    server = ApiServer(servers, tmp_path_factory.mktemp("api") / "api.log").wait_ready()
    yield server
    server.stop()
