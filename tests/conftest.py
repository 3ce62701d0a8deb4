"""Test infrastructure: real PostgreSQL and Redis (embedded unless TEST_*_URL is set),
fake third-party HTTP APIs on 127.0.0.1, and a real Celery worker and beat.

Settings come from the environment, so this module sets it before anything reads it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import psutil
import pytest

from tests.zygote import Forked, Zygote

if TYPE_CHECKING:
    from fastapi import FastAPI

ROOT = Path(__file__).resolve().parent.parent
# Every process of the test stack writes its metrics here (prometheus_client's multiprocess
# mode), as run_server.py arranges; set before anything imports prometheus_client. Each
# pytest-xdist worker runs its own stack, so each gets its own directory.
if os.environ.get("PYTEST_XDIST_WORKER") or "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="switchboard-metrics-")
APP_SECRET = "test-app-secret"
VERIFY_TOKEN = "test-verify-token"
ADMIN_TOKEN = "test-admin-token"
PHONE_NUMBER_ID = "106540352242922"
ACCESS_TOKEN = "EAAG-test-access-token"
GEMINI_KEY = "test-gemini-key"
OPENAI_KEY = "test-openai-key"
EVENTS_SECRET = "test-events-secret"
SHOPIFY_SECRET = "test-shopify-secret"
TWILIO_SID = "AC" + "7e57" * 8
TWILIO_TOKEN = "test-twilio-auth-token"
INSTAGRAM_APP_SECRET = "test-instagram-app-secret"
# the Fernet key every process of the test stack encrypts stored credentials with
SECRETS_KEY = "Jm2B0f3mB2oRk9yH6q0nqHkz8yqS1c0cQmZ7vX0s2Wg="


def _base_env() -> dict[str, str]:
    return {
        "WHATSAPP_APP_SECRET": APP_SECRET,
        "VERIFY_TOKEN": VERIFY_TOKEN,
        "ADMIN_API_TOKEN": ADMIN_TOKEN,
        "BUFFER_SECONDS": "1",
        "BUFFER_MAX_SECONDS": "3",
        "SWEEPER_INTERVAL_SECONDS": "1",
        "INBOX_SWEEP_SECONDS": "1",
        "SEND_RECONCILE_SECONDS": "30",
        "LLM_PROVIDER": "gemini",
        "LLM_FALLBACK_PROVIDER": "openai",
        "GOOGLE_API_KEY": GEMINI_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
        "LLM_MAX_RETRIES": "1",
        "WHATSAPP_API_VERSION": "v23.0",
        "LOG_LEVEL": "INFO",
        "EVENTS_WEBHOOK_SECRET": EVENTS_SECRET,
        "SECRETS_KEY": SECRETS_KEY,
    }


@pytest.fixture(scope="session")
def fakes() -> Iterator[dict]:
    from channels.simulators.graph import GraphSimulator
    from channels.simulators.instagram import InstagramSimulator
    from channels.simulators.llm_gemini import GeminiSimulator
    from channels.simulators.llm_openai import OpenAISimulator
    from channels.simulators.shopify import ShopifySimulator
    from channels.simulators.twilio import TwilioSimulator
    from tests.fakes.events_receiver import FakeEventsReceiver

    started = {
        "graph": GraphSimulator(version="v23.0").start(),
        "gemini": GeminiSimulator(api_key=GEMINI_KEY).start(),
        "openai": OpenAISimulator(api_key=OPENAI_KEY).start(),
        "events": FakeEventsReceiver().start(),
        "shopify": ShopifySimulator(api_secret=SHOPIFY_SECRET).start(),
        "twilio": TwilioSimulator(account_sid=TWILIO_SID, auth_token=TWILIO_TOKEN).start(),
        "instagram": InstagramSimulator(version="v23.0").start(),
    }
    yield started
    for fake in started.values():
        fake.stop()


# The embedded servers' handles, for the fault tests that stop and restart them.
SERVERS: dict[str, object] = {}


@pytest.fixture(scope="session")
def servers(fakes: dict) -> Iterator[dict[str, str]]:
    """Databases for the whole session, and the environment every process of the stack reads."""
    from persistence.embedded import start_postgres, start_redis

    # Not under pytest's basetemp: that is mode 0700, and PostgreSQL runs as another user
    # when the tests run as root.
    data = Path(tempfile.mkdtemp(prefix="switchboard-test-"))
    stop = [lambda: shutil.rmtree(data, ignore_errors=True)]
    database_url = os.environ.get("TEST_DATABASE_URL")
    redis_url = os.environ.get("TEST_REDIS_URL")
    if not database_url:
        pg, database_url = start_postgres(data / "postgres")
        SERVERS["postgres"] = pg
        stop.append(pg.cleanup)
    if not redis_url:
        SERVERS["redis"] = start_redis(data / "redis", persistent=False)
        redis_url = SERVERS["redis"].url
        stop.append(lambda: SERVERS["redis"].stop())
    env = {
        **_base_env(),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "DATA_DIR": str(data),
        "WHATSAPP_API_BASE_URL": fakes["graph"].url,
        # the Graph API simulator hands out media URLs on itself, over http on 127.0.0.1
        "WHATSAPP_MEDIA_HOSTS": f"lookaside.fbsbx.com,{fakes['graph'].url}",
        "GEMINI_BASE_URL": fakes["gemini"].base_url,
        "OPENAI_BASE_URL": fakes["openai"].base_url,
        "EVENTS_WEBHOOK_URL": f"{fakes['events'].url}/switchboard-events",
        "SHOPIFY_API_BASE_URL": fakes["shopify"].url,
        "SHOPIFY_API_SECRET": SHOPIFY_SECRET,
        "TWILIO_API_BASE_URL": fakes["twilio"].url,
        "INSTAGRAM_API_BASE_URL": fakes["instagram"].url,
        "INSTAGRAM_APP_SECRET": INSTAGRAM_APP_SECRET,
    }
    os.environ.update(env)
    _reset_process_caches()
    from persistence.migrate import upgrade

    upgrade(database_url)
    yield env
    SHARED_STACK.release()
    if ZYGOTE is not None:
        ZYGOTE.stop()
    for fn in reversed(stop):
        fn()


def _reset_process_caches() -> None:
    from settings import get_settings

    get_settings.cache_clear()
    from tasks import runtime

    runtime.reset()


def wipe(servers: dict[str, str], attempts: int = 5) -> None:
    """Empty every table and Redis. A worker still finishing the previous test's turn can
    deadlock with TRUNCATE: try again."""
    from sqlalchemy.exc import OperationalError

    for attempt in range(attempts):
        try:
            return _wipe(servers)
        except OperationalError:
            if attempt == attempts - 1:
                raise
            time.sleep(0.5)


def _wipe(servers: dict[str, str]) -> None:
    """DELETE every row and restart the sequences: about 7 times faster than TRUNCATE
    (22 ms against 160 ms a test, measured) for tables this small. Foreign keys are not
    checked while emptying everything (session_replication_role, which needs a superuser:
    the embedded PostgreSQL's; elsewhere TRUNCATE does it)."""
    import redis
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    from persistence.db import get_engine

    with get_engine().begin() as conn:
        tables = conn.execute(
            text("SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                 "AND tablename NOT IN ('alembic_version', 'checkpoint_migrations')")
        ).scalars().all()  # fmt: skip
        sequences = (
            conn.execute(text("SELECT sequencename FROM pg_sequences WHERE schemaname = 'public'"))
            .scalars()
            .all()
        )
        try:
            with conn.begin_nested():
                conn.execute(text("SET LOCAL session_replication_role = replica"))
                conn.execute(text("; ".join(f"DELETE FROM {table}" for table in tables)))
                conn.execute(text("; ".join(f"ALTER SEQUENCE {s} RESTART" for s in sequences)))
        except ProgrammingError:  # not a superuser
            conn.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
    redis.Redis.from_url(servers["REDIS_URL"]).flushdb()


@pytest.fixture
def clean(servers: dict[str, str], fakes: dict) -> Iterator[None]:
    """Every test starts with empty tables, an empty Redis and fresh fakes."""
    wipe(servers)
    for fake in fakes.values():
        fake.reset()
    yield


@pytest.fixture
def short_buffer() -> Iterator[None]:
    """A 0.3 s burst window instead of the suite's 1 s, for tests whose messages are never
    meant to share a burst (their turns start 0.7 s sooner). The API that takes a message
    decides when its burst is due, so this process's setting is the one that counts; the
    worker claims a burst when it is due. Tests of merging keep the 1 s window."""
    from persistence.buffer import process_buffer
    from settings import get_settings

    env = pytest.MonkeyPatch()
    env.setenv("BUFFER_SECONDS", "0.3")
    get_settings.cache_clear()
    process_buffer.cache_clear()
    yield
    env.undo()
    get_settings.cache_clear()
    process_buffer.cache_clear()


class Stack:
    """The worker and beat processes; restartable for tests that need other settings."""

    def __init__(self, env: dict[str, str], log_dir: Path) -> None:
        self.env = env
        self.log_dir = log_dir
        self.processes: list[Forked | subprocess.Popen[bytes]] = []
        self.overrides: dict[str, str] = {}
        self.name = ""  # the worker's node name

    def start(self, **overrides: str) -> Stack:
        self.overrides = overrides
        self.name = f"test-{time.time_ns()}@{socket.gethostname()}"
        env = {**os.environ, **self.env, **overrides, "PYTHONPATH": str(ROOT)}
        worker = [sys.executable, "-m", "celery", "-A", "tasks", "worker", "-Q",
                  "default,messages,state,status", "--concurrency", "2", "--loglevel", "INFO",
                  "--without-mingle", "--without-gossip",
                  "-n", self.name]  # fmt: skip
        beat = [sys.executable, "-m", "celery", "-A", "tasks", "beat", "--loglevel", "INFO",
                "--schedule", str(self.log_dir / f"beat-{time.time_ns()}")]  # fmt: skip
        for name, cmd in (("worker", worker), ("beat", beat)):
            self.processes.append(_spawn(cmd, env, self.log_dir / f"{name}.log"))
        try:
            self._wait_ready()
        except BaseException:
            self.stop()  # no orphaned worker consuming the next stack's tasks
            raise
        return self

    def wait_idle(self, timeout: float = 15.0) -> None:
        """Until the worker runs, holds and schedules nothing (or `timeout` passes)."""
        from tasks import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            # this worker's replies, as soon as they come (not after the whole timeout)
            inspect = app.control.inspect([self.name], timeout=0.5, limit=1)
            try:
                held = [inspect.active(), inspect.reserved(), inspect.scheduled()]
            except Exception:
                held = [None]
            if all(h is not None and not any(h.values()) for h in held):
                return
            time.sleep(0.2)

    def alive(self) -> bool:
        return bool(self.processes) and all(p.poll() is None for p in self.processes)

    def _wait_ready(self, timeout: float = 180.0) -> None:
        # a worker imports the whole app: minutes, not seconds, on a loaded 2-core machine
        from tasks import app

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if app.control.ping([self.name], timeout=0.5, limit=1):
                    return
            except Exception:
                time.sleep(0.2)
        raise RuntimeError(f"worker did not start; see {self.log_dir / 'worker.log'}")

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
        self.processes.clear()

    def discard(self) -> None:
        """Stop at once (SIGKILL: the worker, its pool and the beat), for a stack whose work
        is of no more interest: a warm shutdown takes seconds, and the caller wipes what it
        leaves behind (tasks taken and not acknowledged, locks)."""
        doomed: list[psutil.Process] = []
        for process in self.processes:
            if process.poll() is not None:
                continue  # its pid may be another process's by now
            with contextlib.suppress(psutil.Error):
                main = psutil.Process(process.pid)
                doomed += [main, *main.children(recursive=True)]
        for victim in doomed:
            with contextlib.suppress(psutil.Error):
                victim.send_signal(signal.SIGKILL)
        for process in self.processes:
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=20)
        _wait_dead(doomed, timeout=20)
        self.processes.clear()

    def worker_log(self) -> str:
        return (self.log_dir / "worker.log").read_text(errors="replace")


def _wait_dead(processes: list[psutil.Process], timeout: float) -> None:
    """Until each process has ended or is a zombie. The pool processes of a killed worker
    are reparented to init, which may reap them more than a second later (1.4 s a stack,
    measured here): a zombie holds no socket and takes no task, so it need not be waited for."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in processes):
                return
        except psutil.NoSuchProcess:
            continue  # gone while asked: ask the others again
        time.sleep(0.02)


def _names_read_after_fork() -> frozenset[str]:
    """The environment a zygote's child may take other values of: the settings (read when
    the app is configured, after the fork), the failpoints (read when hit), and pytest's name
    of the test running, which changes with every test."""
    from settings import Settings

    return frozenset(name.upper() for name in Settings.model_fields) | {
        "FAILPOINTS",
        "PYTEST_CURRENT_TEST",
    }


# Workers and beats are forked from a process that has imported the app (tests/zygote.py):
# a start then costs no import. SWITCHBOARD_TEST_ZYGOTE=0 starts each with its own
# interpreter, as `celery -A tasks worker` would be.
ZYGOTE = (
    Zygote(_names_read_after_fork()) if os.environ.get("SWITCHBOARD_TEST_ZYGOTE") != "0" else None
)


def _spawn(cmd: list[str], env: dict[str, str], log: Path) -> Forked | subprocess.Popen[bytes]:
    """`python -m celery ...` with this environment, its output appended to `log`."""
    if ZYGOTE is not None and cmd[:3] == [sys.executable, "-m", "celery"]:
        return ZYGOTE.spawn(cmd[3:], env=env, cwd=ROOT, log=log)
    with open(log, "ab") as out:
        return subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)


class SharedStack:
    """The one worker and beat of the session, kept from module to module while the settings
    asked for stay the same: a start costs seconds (the worker imports the whole app), and
    most modules want the defaults. Tests that run their own Stack release it first, so no
    second worker takes their tasks."""

    def __init__(self) -> None:
        self.current: Stack | None = None

    def acquire(self, servers: dict[str, str], log_dir: Path, **settings: str) -> Stack:
        if self.current is not None and self.current.alive() and self.current.overrides == settings:
            self.current.wait_idle()  # the last module's tasks must not land in this one's
            return self.current
        self.release()
        wipe(servers)  # what earlier modules left behind must not wake the new sweeper
        self.current = Stack(servers, log_dir).start(**settings)
        return self.current

    def release(self) -> None:
        if self.current is not None:
            self.current.discard()  # wiped before the next one starts
            self.current = None


SHARED_STACK = SharedStack()


def running_stack(
    servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory, name: str, **settings: str
) -> Iterator[Stack]:
    """For module fixtures: a worker and beat with these settings (shared with the next
    module that asks for the same ones)."""
    yield SHARED_STACK.acquire(servers, tmp_path_factory.mktemp(name), **settings)


def _worker_fixtures(item: pytest.Item) -> list[str]:
    return [name for name in getattr(item, "fixturenames", ())
            if "stack" in name or name in ("workers", "live_server")]  # fmt: skip


def _stack_group(item: pytest.Item) -> int:
    """0: no worker; 1: the default shared worker; 2: a worker with its own settings."""
    names = _worker_fixtures(item)
    if not names:
        return 0
    definitions = item._fixtureinfo.name2fixturedefs  # type: ignore[attr-defined]
    custom = any(definitions[name][-1].func.__module__ != __name__ for name in names)
    return 2 if custom else 1


WORKER_MODULES: set[str] = set()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Modules that need no worker run first, then those that share the default one, then
    those with settings of their own: the default worker starts once, not once a module.
    A module's tests stay together and in order."""
    groups: dict[str, int] = {}
    for item in items:
        module = item.nodeid.split("::")[0]
        groups[module] = max(groups.get(module, 0), _stack_group(item))
    WORKER_MODULES.update(module for module, group in groups.items() if group)
    items.sort(key=lambda item: groups[item.nodeid.split("::")[0]])


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if ZYGOTE is not None and ZYGOTE.spawned:
        terminalreporter.write_line(
            f"test stack: {ZYGOTE.spawned} worker and beat processes forked from "
            f"{ZYGOTE.started} zygote(s)"
        )


@pytest.fixture(scope="module", autouse=True)
def _no_stray_worker(request: pytest.FixtureRequest) -> None:
    """A module that asks for no worker runs without one, as it would alone."""
    if request.node.nodeid.split("::")[0] not in WORKER_MODULES:
        SHARED_STACK.release()


@pytest.fixture(scope="module")
def stack(servers: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A worker and beat with the default settings; modules without it run without background
    workers only if no earlier module left the shared one running."""
    yield from running_stack(servers, tmp_path_factory, "stack")


@pytest.fixture
def client(servers: dict[str, str]) -> Iterator:
    from fastapi.testclient import TestClient

    with TestClient(shared_app()) as test_client:
        yield test_client


_APPS: list[tuple[dict[str, str], dict[str, object], FastAPI]] = []


def shared_app() -> FastAPI:
    """`create_app()`, reused while the environment and the settings it was built under are
    the same. A new app pays on its first request for every route's dependency analysis
    (FastAPI does it lazily, and the Prometheus instrumentator asks for all 140 routes at
    once): 0.2-0.9 s a test. Each TestClient still runs the app's lifespan, which sets
    everything a test may change on `app.state`; the middleware read their settings per
    request."""
    from api.app import create_app
    from settings import get_settings

    env = {k: v for k, v in os.environ.items() if k != "PYTEST_CURRENT_TEST"}
    settings = get_settings().model_dump()  # SecretStr values compare by their secret
    for built_env, built_settings, app in _APPS:
        if built_env == env and built_settings == settings:
            return app
    app = create_app()
    _APPS.insert(0, (env, settings, app))
    del _APPS[4:]  # the default app, the sandbox's, and whatever a module sets up
    return app


@pytest.fixture
def merchant(clean: None) -> dict:
    """A merchant with one WhatsApp number, as the default-merchant settings would create."""
    from persistence.db import session_scope
    from services.merchants.merchant import add_phone_number, create_merchant

    with session_scope() as session:
        created = create_merchant(session, name="Acme Shoes", description="We sell running shoes.")
        phone = add_phone_number(
            session,
            merchant_id=created.id,
            phone_number_id=PHONE_NUMBER_ID,
            access_token=ACCESS_TOKEN,
            display_phone_number="15550001111",
        )
        return {"id": created.id, "phone_id": phone.id, "phone_number_id": PHONE_NUMBER_ID}
