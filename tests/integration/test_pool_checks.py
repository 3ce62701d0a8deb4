"""Pooled connections are checked without a round trip (persistence.db.check_idle_connection):
one the server closed is replaced on checkout, a healthy one is reused as it is. Read-only
sessions (persistence.db.read_scope) run each statement on its own, without a transaction."""

from __future__ import annotations

import time
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy import text

from persistence.db import get_engine, libpq_url, read_scope, session_scope
from tasks import runtime

pytestmark = pytest.mark.integration


def _terminate(pid: int) -> None:
    url = libpq_url(get_engine().url.render_as_string(hide_password=False))
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def _session_backend() -> int:
    with session_scope() as session:
        return int(session.scalar(text("SELECT pg_backend_pid()")))  # type: ignore[arg-type]


def _checkpoint_backend() -> int:
    with runtime.checkpoint_pool().connection() as conn:
        row = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
        assert row is not None
        return int(row["pid"])


def _close_pools() -> None:
    if runtime.checkpoint_pool.cache_info().currsize:
        runtime.checkpoint_pool().close()
    runtime.reset()


@pytest.fixture
def fresh_pools(servers: dict[str, str]) -> Iterator[None]:
    _close_pools()
    yield
    _close_pools()


def test_a_session_after_the_server_closed_its_pooled_connection_gets_a_new_one(fresh_pools):
    first = _session_backend()
    assert _session_backend() == first  # idle and healthy: reused, not replaced

    _terminate(first)

    assert _session_backend() != first  # no error: replaced on checkout


def test_the_checkpointer_after_the_server_closed_its_pooled_connection_gets_a_new_one(
    fresh_pools,
):
    runtime.checkpoint_pool().wait()  # its first connection is ready: no client waits, no growth
    first = _checkpoint_backend()
    assert _checkpoint_backend() == first

    _terminate(first)

    assert _checkpoint_backend() != first


def test_checking_out_a_healthy_connection_sends_nothing(fresh_pools, monkeypatch):
    _session_backend()  # the pool holds one idle connection now
    sent: list[str] = []
    original = psycopg.Cursor.execute

    def execute(self, query, *args, **kwargs):  # type: ignore[no-untyped-def]
        sent.append(str(query))
        return original(self, query, *args, **kwargs)

    monkeypatch.setattr(psycopg.Cursor, "execute", execute)
    with get_engine().connect() as conn:
        conn.execute(text("SELECT 1"))

    assert sent == ["SELECT 1"]  # no ping before it


def _two_nows(scope) -> tuple[object, object]:  # type: ignore[no-untyped-def]
    with scope() as session:
        first = session.scalar(text("SELECT now()"))
        time.sleep(0.01)
        return first, session.scalar(text("SELECT now()"))


def test_a_read_scope_runs_each_statement_on_its_own_and_leaves_sessions_transactional(
    fresh_pools,
):
    first, second = _two_nows(read_scope)
    assert first != second  # now() is the transaction's start: each statement had its own

    first, second = _two_nows(session_scope)  # the same pooled connection, back in a transaction
    assert first == second


def test_checkpoints_commit_without_waiting_for_the_disk_and_other_writes_wait(fresh_pools):
    """A checkpoint's commit skips its WAL flush (tasks.runtime): the reply's claim, a
    session's commit, flushes it with theirs. Replaced connections keep the setting."""
    with runtime.checkpoint_pool().connection() as conn:
        row = conn.execute("SHOW synchronous_commit").fetchone()
        assert row is not None and row["synchronous_commit"] == "off"
        pid = conn.execute("SELECT pg_backend_pid() AS pid").fetchone()
    assert pid is not None
    _terminate(int(pid["pid"]))
    with runtime.checkpoint_pool().connection() as conn:
        row = conn.execute("SHOW synchronous_commit").fetchone()
        assert row is not None and row["synchronous_commit"] == "off"
    with session_scope() as session:
        assert session.scalar(text("SHOW synchronous_commit")) == "on"
