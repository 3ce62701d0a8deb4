"""The stack a benchmark runs against: real PostgreSQL, Redis, API, Celery worker and beat,
with the fake Graph API and fake Gemini of the tests answering on 127.0.0.1.

Servers are embedded (in a fresh temporary DATA_DIR) unless URLs are given. Every process
runs with that directory as its working directory and without the settings found in the
environment, so a developer's `.env` or exported configuration never reaches the benchmark
(it could name a real Graph API or events webhook).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from contextlib import ExitStack, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cryptography.fernet import Fernet

ROOT = Path(__file__).resolve().parents[2]
APP_SECRET = "bench-app-secret"
GEMINI_KEY = "bench-gemini-key"
ACCESS_TOKEN = "EAAG-bench-access-token"
GRAPH_VERSION = "v23.0"
QUEUES = "default,messages,state,status"
CELERY = [sys.executable, "-m", "celery", "-A", "tasks"]


@dataclass(frozen=True)
class StackOptions:
    buffer_seconds: float
    buffer_max_seconds: float
    sweeper_seconds: float
    workers: int
    api_workers: int
    llm_latency: float
    database_url: str | None
    redis_url: str | None
    keep_data: bool
    env: Mapping[str, str] = field(default_factory=dict)  # more settings for every process


class Stack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.data = Path(tempfile.mkdtemp(prefix="switchboard-bench-"))
        self.exit = ExitStack()
        self.env: dict[str, str] = {}
        self.graph: Any = None
        self.gemini: Any = None
        self.worker: subprocess.Popen[bytes] | None = None
        self.beat: subprocess.Popen[bytes] | None = None
        self.api: subprocess.Popen[bytes] | None = None
        self.embedded = {"postgres": False, "redis": False}
        self.redis_server: Any = None  # the embedded one, replaced by restart_redis()
        self.merchant_id: int | None = None
        self._pg_pid: int | None = None
        self._rd_pid: int | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> Stack:
        if not self.options.keep_data:
            self.exit.callback(shutil.rmtree, self.data, ignore_errors=True)
        database_url, redis_url = self._servers()
        self._fakes()
        self.exit.callback(self.stop_services)  # first out: workers before their servers
        self.env = {
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "DATA_DIR": str(self.data),
            "WHATSAPP_APP_SECRET": APP_SECRET,
            "VERIFY_TOKEN": "bench-verify-token",
            "ADMIN_API_TOKEN": "bench-admin-token",
            "WHATSAPP_API_BASE_URL": self.graph.url,
            "WHATSAPP_API_VERSION": GRAPH_VERSION,
            "LLM_PROVIDER": "gemini",
            "GOOGLE_API_KEY": GEMINI_KEY,
            "GEMINI_BASE_URL": self.gemini.base_url,
            "LLM_MAX_RETRIES": "1",
            "BUFFER_SECONDS": str(self.options.buffer_seconds),
            "BUFFER_MAX_SECONDS": str(self.options.buffer_max_seconds),
            "SWEEPER_INTERVAL_SECONDS": str(self.options.sweeper_seconds),
            "SANDBOX_ENABLED": "false",
            "SECRETS_KEY": Fernet.generate_key().decode(),  # encrypts stored access tokens
            "LOG_LEVEL": "INFO",
            # as run_server.py: API and worker processes record metrics into one directory
            "PROMETHEUS_MULTIPROC_DIR": str(self.data / "metrics"),
            **self.options.env,
        }
        (self.data / "metrics").mkdir()
        from settings import Settings, get_settings

        for name in Settings.model_fields:  # nothing of the developer's own configuration
            os.environ.pop(name.upper(), None)
        os.environ.update(self.env)
        os.chdir(self.data)  # no .env from the checkout, in this process either
        get_settings.cache_clear()
        from persistence.migrate import upgrade

        upgrade(database_url)
        return self

    def close(self) -> None:
        """Stop everything started, in reverse order; one step failing (or interrupted)
        does not skip the others."""
        self.exit.close()

    def _servers(self) -> tuple[str, str]:
        from persistence.embedded import start_postgres, start_redis

        database_url, redis_url = self.options.database_url, self.options.redis_url
        if not database_url:
            server, database_url = start_postgres(self.data / "postgres")
            self.exit.callback(server.cleanup)
            self.embedded["postgres"] = True
        if not redis_url:
            self.redis_server = start_redis(self.data / "redis", persistent=False)
            self.exit.callback(lambda: self.redis_server.stop())  # whichever runs by then
            redis_url = self.redis_server.url
            self.embedded["redis"] = True
        return database_url, redis_url

    def restart_redis(self, down_for: float) -> None:
        """Stop the embedded Redis (everything in it is lost) and, `down_for` seconds later,
        start an empty one on the same port."""
        from persistence.embedded import start_redis

        if self.redis_server is None:
            raise RuntimeError("restarting Redis needs the embedded one (no --redis-url)")
        port = int(self.redis_server.url.rsplit(":", 1)[1].split("/")[0])
        self.redis_server.stop()
        self._rd_pid = None
        time.sleep(down_for)
        self.redis_server = start_redis(self.data / "redis", persistent=False, port=port)

    def _fakes(self) -> None:
        from channels.simulators.graph import GraphSimulator
        from channels.simulators.llm_gemini import GeminiSimulator

        self.graph = GraphSimulator(version=GRAPH_VERSION).start()
        self.exit.callback(self.graph.stop)
        self.gemini = GeminiSimulator(api_key=GEMINI_KEY).start()
        self.exit.callback(self.gemini.stop)

    def reset_fakes(self) -> None:
        """Fresh recordings for a section; the LLM answers at the configured latency."""
        self.graph.reset()
        self.gemini.reset()
        self.gemini.delay = self.options.llm_latency

    # --- processes --------------------------------------------------------------------

    def child_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "PYTHONPATH": str(ROOT)}

    def spawn(self, name: str, cmd: list[str], **env: str) -> subprocess.Popen[bytes]:
        log = open(self.data / f"{name}.log", "ab")  # noqa: SIM115 - lives with the process
        process = subprocess.Popen(
            cmd,
            cwd=self.data,
            env={**self.child_env(), **env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.exit.callback(log.close)
        self.exit.callback(terminate, process)  # idempotent; stop_services usually did it
        return process

    def serve(
        self, name: str, app: str, *, port: int | None = None, **env: str
    ) -> tuple[str, subprocess.Popen[bytes]]:
        """Serve an app factory with uvicorn; both apps of the ingest figure come through here.
        A restarted API passes its old `port`."""
        from persistence.embedded import free_port

        port = port or free_port()
        options = (
            f"--factory --host 127.0.0.1 --port {port} --workers {self.options.api_workers} "
            "--loop uvloop --http httptools --no-access-log --log-level info"
        )
        cmd = [sys.executable, "-m", "uvicorn", app, *options.split()]
        process = self.spawn(name, cmd, **env)
        url = f"http://127.0.0.1:{port}"
        wait_http(f"{url}/health", process, self.data / f"{name}.log")
        return url, process

    def start_services(self, *, buffer_seconds: float, attempts: int = 2) -> str:
        """API, worker and beat with this burst window; returns the API's URL. A process
        that dies while starting (it happens on a busy shared machine) gets a second try."""
        for attempt in range(attempts):
            try:
                return self._start_services(buffer_seconds)
            except RuntimeError as exc:
                if attempt == attempts - 1:
                    raise
                print(f"[bench] services did not start, trying again: {exc}", file=sys.stderr)
        raise AssertionError("unreachable")

    def _start_services(self, buffer_seconds: float) -> str:
        self.stop_services()
        overrides = {
            "BUFFER_SECONDS": str(buffer_seconds),
            "BUFFER_MAX_SECONDS": str(max(self.options.buffer_max_seconds, 2 * buffer_seconds)),
        }
        url, self.api = self.serve("api", "api.app:create_app", **overrides)
        self.start_workers(**overrides)
        return url

    def stop_services(self) -> None:
        self.stop_workers()
        if self.api is not None:
            terminate(self.api)
            self.api = None

    def start_workers(self, **env: str) -> None:
        self.start_worker(**env)
        self.start_beat(**env)
        self._wait_worker()

    def start_worker(self, **env: str) -> subprocess.Popen[bytes]:
        """The Celery worker, not waited for (a supervisor restarting it may find Redis down)."""
        worker = [
            *CELERY, "worker", "-Q", QUEUES, "--concurrency", str(self.options.workers),
            "--loglevel", "INFO", "--without-mingle", "--without-gossip",
            "-n", f"bench-{time.time_ns()}@%h",
        ]  # fmt: skip
        self.worker = self.spawn("worker", worker, **env)
        return self.worker

    def start_beat(self, **env: str) -> subprocess.Popen[bytes]:
        beat = [*CELERY, "beat", "--loglevel", "INFO", "--schedule", str(self.data / "beat")]
        self.beat = self.spawn("beat", beat, **env)
        return self.beat

    def _wait_worker(self, timeout: float = 90.0) -> None:
        from tasks import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.worker is not None
            if self.worker.poll() is not None:
                break
            if app.control.ping(timeout=0.5):
                return
        raise RuntimeError(
            f"worker did not start ({exited(self.worker)}):\n{tail(self.data / 'worker.log')}"
        )

    def stop_workers(self) -> None:
        for process in (self.beat, self.worker):
            if process is not None:
                terminate(process)
        self.worker = self.beat = None

    def worker_rss(self) -> dict[str, int]:
        """Resident memory of the worker and its pool processes, in bytes."""
        import psutil

        if self.worker is None:
            return {}
        main = psutil.Process(self.worker.pid)
        children = main.children(recursive=True)
        sizes = [child.memory_info().rss for child in children]
        return {
            "main": main.memory_info().rss,
            "children": len(children),
            "children_total": sum(sizes),
            "child_max": max(sizes, default=0),
            "total": main.memory_info().rss + sum(sizes),
        }

    def server_pids(self) -> dict[str, Callable[[], int | None]]:
        """PostgreSQL's postmaster and redis-server, when they run on this machine."""
        return {"postgres": self._postgres_pid, "redis": self._redis_pid}

    def component_pids(self) -> dict[str, Callable[[], int | None]]:
        def pid_of(name: str) -> Callable[[], int | None]:
            return lambda: getattr(getattr(self, name), "pid", None)

        return {
            "api": pid_of("api"),
            "worker": pid_of("worker"),
            "beat": pid_of("beat"),
            **self.server_pids(),
        }

    def _postgres_pid(self) -> int | None:
        import psutil

        from scripts.bench import db

        if self._pg_pid is None and self.embedded["postgres"]:
            try:
                parent = psutil.Process(db.backend_pid()).parent()
                self._pg_pid = parent.pid if parent else None
            except psutil.Error:
                self._pg_pid = None
        return self._pg_pid

    def _redis_pid(self) -> int | None:
        import redis

        if self._rd_pid is None and self.embedded["redis"]:
            client = redis.Redis.from_url(self.env["REDIS_URL"])
            try:
                self._rd_pid = int(client.info("server")["process_id"])
            finally:
                client.close()
        return self._rd_pid

    # --- data -------------------------------------------------------------------------

    def add_phone(self, section: str) -> dict[str, Any]:
        """A WhatsApp number of its own per section, so each section's rows are easy to find."""
        from persistence.db import session_scope
        from services.merchants.merchant import add_phone_number, create_merchant

        phone_number_id = f"10{time.time_ns() % 10**13:013d}"
        with session_scope() as session:
            if self.merchant_id is None:
                merchant = create_merchant(
                    session, name="Bench Shoes", description="We sell running shoes."
                )
                self.merchant_id = merchant.id
            phone = add_phone_number(
                session,
                merchant_id=self.merchant_id,
                phone_number_id=phone_number_id,
                access_token=ACCESS_TOKEN,
                display_phone_number=f"1555{section[:1]}000111",
            )
            return {"id": phone.id, "phone_number_id": phone_number_id, "section": section}

    def post(self, client: httpx.Client, url: str, payload: dict[str, Any]) -> httpx.Response:
        from channels.simulators.webhooks import sign

        body = json.dumps(payload).encode()
        headers = {
            "Content-Type": "application/json",
            "X-Hub-Signature-256": sign(body, APP_SECRET),
        }
        response = client.post(f"{url}/webhook", content=body, headers=headers)
        response.raise_for_status()
        return response


def wait_http(url: str, process: subprocess.Popen[bytes], log: Path, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            httpx.get(url, timeout=2)
            return
        except httpx.HTTPError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not come up ({exited(process)}):\n{tail(log)}")


def exited(process: subprocess.Popen[bytes]) -> str:
    code = process.poll()
    if code is None:
        return "still running"
    return f"killed by signal {-code}" if code < 0 else f"exit status {code}"


def terminate(process: subprocess.Popen[bytes], timeout: float = 30.0) -> None:
    """SIGTERM (Celery finishes its current tasks), then SIGKILL to the process group."""
    if process.poll() is None:
        process.terminate()
    with suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)  # its own session: only what we started
    process.wait()


def tail(path: Path, lines: int = 40) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return f"(no log at {path})"
