"""DATA_DIR/runtime.json: how the shell tools find the servers a running run_server.py
started, and never those of one that is gone."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest

from persistence.embedded import published, without_password
from settings import RUNTIME_FILE, Settings, _with_running_system, running_system

URLS = {
    "database_url": "postgresql+psycopg://postgres:@/switchboard?host=/data/postgres",
    "redis_url": "redis://:pw@127.0.0.1:6390/0",
    "broker_url": "redis://:pw@127.0.0.1:6390/0",
}


@pytest.fixture
def no_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.delenv("REDIS_URL", raising=False)


def test_a_running_system_is_found_and_forgotten_when_it_stops(tmp_path, no_urls):
    with published(tmp_path, URLS) as path:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        settings = _with_running_system(Settings(data_dir=tmp_path))
        assert settings.database_url == URLS["database_url"]
        assert settings.redis_url == URLS["redis_url"]
    assert not path.exists()
    assert _with_running_system(Settings(data_dir=tmp_path)).database_url is None


def test_urls_that_are_set_win_over_the_running_system(tmp_path, monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://elsewhere/db")
    monkeypatch.delenv("REDIS_URL", raising=False)
    with published(tmp_path, URLS):
        settings = _with_running_system(Settings(data_dir=tmp_path))
    assert settings.database_url == "postgresql://elsewhere/db"
    assert settings.redis_url == URLS["redis_url"]


def test_the_file_of_a_server_that_died_is_ignored(tmp_path, no_urls):
    gone = subprocess.Popen([sys.executable, "-c", "pass"])
    gone.wait()
    (tmp_path / RUNTIME_FILE).write_text(json.dumps({"pid": gone.pid, "started": 1.0, **URLS}))
    assert running_system(tmp_path) is None


def test_a_reused_pid_is_not_taken_for_the_server(tmp_path, no_urls):
    (tmp_path / RUNTIME_FILE).write_text(json.dumps({"pid": os.getpid(), "started": 1.0, **URLS}))
    assert running_system(tmp_path) is None  # this process runs, but it started later


def test_a_broken_file_is_ignored(tmp_path, no_urls):
    (tmp_path / RUNTIME_FILE).write_text("{not json")
    assert running_system(tmp_path) is None


def test_log_lines_show_a_redis_url_without_its_password():
    assert without_password("redis://:s3cret@127.0.0.1:6390/0") == "redis://:***@127.0.0.1:6390/0"
    assert without_password("redis://127.0.0.1:6390/0") == "redis://127.0.0.1:6390/0"


def test_run_server_refuses_to_start_twice_on_one_data_dir(tmp_path, no_urls):
    from run_server import refuse_a_second_start

    with published(tmp_path, URLS), pytest.raises(SystemExit, match="already runs"):
        refuse_a_second_start(Settings(data_dir=tmp_path))
    refuse_a_second_start(Settings(data_dir=tmp_path))  # once it stopped: fine
