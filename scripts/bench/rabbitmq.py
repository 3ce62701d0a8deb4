"""A RabbitMQ broker for the scale-out soak and the amqp test: the machine's own server
(127.0.0.1:5672 unless RABBITMQ_URL says otherwise), with a virtual host of its own for the
run when `rabbitmqctl` may create one, so nothing else's queues are touched."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote, urlsplit

DEFAULT_URL = "amqp://guest:guest@127.0.0.1:5672//"


def base_url() -> str:
    return os.environ.get("RABBITMQ_URL", DEFAULT_URL)


def unreachable(url: str | None = None) -> str | None:
    """Why no RabbitMQ answers at `url`, or None when one does."""
    parts = urlsplit(url or base_url())
    host, port = parts.hostname or "127.0.0.1", parts.port or 5672
    try:
        with socket.create_connection((host, port), timeout=1):
            pass
    except OSError as exc:
        return f"no RabbitMQ at {host}:{port} ({exc.__class__.__name__})"
    from kombu import Connection

    try:
        with Connection(url or base_url(), connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1)
    except Exception as exc:  # wrong credentials, not AMQP at all
        return f"RabbitMQ at {host}:{port} refused us: {exc}"
    return None


@contextmanager
def vhost(prefix: str = "switchboard") -> Iterator[str]:
    """The broker URL of a fresh virtual host, deleted afterwards; the default one (its
    queues purged by the caller) when rabbitmqctl is not available to us."""
    ctl = shutil.which("rabbitmqctl")
    name = f"{prefix}-{os.getpid()}-{time.time_ns() % 10**9}"
    parts = urlsplit(base_url())
    if ctl is None or not _ctl(ctl, "add_vhost", name):
        yield base_url()
        return
    try:
        _ctl(ctl, "set_permissions", "-p", name, parts.username or "guest", ".*", ".*", ".*")
        yield parts._replace(path="/" + quote(name, safe="")).geturl()
    finally:
        _ctl(ctl, "delete_vhost", name)


def _ctl(ctl: str, *args: str) -> bool:
    try:
        done = subprocess.run([ctl, *args], capture_output=True, timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def purge(url: str, queues: tuple[str, ...]) -> None:
    """Empty these queues (when they exist) before a run on a shared virtual host."""
    from kombu import Connection

    with Connection(url, connect_timeout=2) as connection:
        channel = connection.default_channel
        for queue in queues:
            try:
                channel.queue_purge(queue)
            except Exception:  # not declared yet: nothing to purge
                channel = connection.channel()
