"""The embedded Redis holds sessions and takes tasks: any local user can reach 127.0.0.1,
so it wants a password, kept where only its owner can read it and never on a command line."""

from __future__ import annotations

import os
import stat
from pathlib import Path
from urllib.parse import urlsplit

import psutil
import pytest
import redis

from tests.conftest import SERVERS

pytestmark = pytest.mark.integration


@pytest.fixture
def embedded(servers: dict[str, str]):
    server = SERVERS.get("redis")
    if server is None:
        pytest.skip("needs the embedded Redis (TEST_REDIS_URL is set)")
    return server


def test_a_client_without_the_password_is_refused(embedded):
    parts = urlsplit(embedded.url)
    stranger = redis.Redis(host=parts.hostname, port=parts.port, protocol=2)
    with pytest.raises(redis.AuthenticationError):  # NOAUTH Authentication required
        stranger.set("switchboard:console:session:guess", "operator")
    with pytest.raises(redis.AuthenticationError):
        stranger.lpush("messages", "{}")  # no task enqueued either
    wrong = redis.Redis(host=parts.hostname, port=parts.port, password="guess", protocol=2)
    with pytest.raises(redis.AuthenticationError):
        wrong.ping()
    assert redis.Redis.from_url(embedded.url).ping()  # the URL the system uses carries it


def test_the_password_is_readable_by_its_owner_only_and_not_on_the_command_line(embedded):
    directory = Path(embedded.process.args[embedded.process.args.index("--dir") + 1])
    password = urlsplit(embedded.url).password
    assert password and (directory / "password").read_text().strip() == password
    for name in ("password", "redis.conf"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    assert stat.S_IMODE(directory.stat().st_mode) & 0o077 == 0
    assert not any(password in arg for arg in psutil.Process(embedded.process.pid).cmdline())
    assert os.environ["REDIS_URL"] == embedded.url
