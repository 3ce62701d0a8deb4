"""Engine and sessions. Services flush; the boundary (request or task) commits."""

import select
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from typing import Any

import psycopg
from sqlalchemy import ColumnElement, Connection, Engine, create_engine, event, func, true
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.orm import Session, sessionmaker

from settings import get_settings


def sqlalchemy_url(url: str) -> str:
    """Accept plain `postgresql://` URLs and use the psycopg 3 driver for them."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def libpq_url(url: str) -> str:
    """The same database as a plain libpq URL (for psycopg and LangGraph's saver)."""
    return url.replace("postgresql+psycopg://", "postgresql://", 1)


def database_url() -> str:
    settings = get_settings()
    if not settings.database_url:
        raise RuntimeError(
            f"DATABASE_URL is not set, and no run_server.py runs from DATA_DIR "
            f"{settings.data_dir} (it writes its embedded PostgreSQL's URL there while it runs)"
        )
    return sqlalchemy_url(settings.database_url)


def commit_without_waiting_for_the_disk() -> ColumnElement[str]:
    """An expression that makes its transaction's commit skip the WAL flush, for a statement
    to select (set_config(..., true): this transaction only; the pooled connection keeps
    the server's setting). For transactions whose loss in a crash of PostgreSQL is the
    same as the worker dying before their commit: nothing outside the database acts on
    them before a later commit that does flush, which takes every earlier commit's WAL
    with it (a turn's opening, its checkpoints: the reply's claim flushes them)."""
    return func.set_config("synchronous_commit", "off", true())


def check_idle_connection(connection: psycopg.Connection[Any]) -> None:
    """Raise when a pooled connection, idle between uses, has been closed under us.

    Without a round trip: an idle connection has nothing to read unless the server closed it
    (a restart, pg_terminate_backend) or wrote to it out of turn, and either way it is not
    to be used. This replaces a ping per checkout (SQLAlchemy's `pool_pre_ping`, psycopg's
    `check_connection`), which cost a round trip each time a session or the checkpointer
    took a connection: 9 per turn. A connection that dies without a word (a lost network)
    passes this check as it passed the ping until TCP gave up; its error is a disconnect,
    which discards it and every older pooled connection, and the task's retry runs on new
    ones."""
    if connection.closed or connection.broken:
        raise psycopg.OperationalError("the pooled connection is closed")
    poller = select.poll()
    poller.register(connection.pgconn.socket, select.POLLIN | select.POLLPRI)
    if poller.poll(0):
        # closed here, or a pool that sees it still open would hand it out again
        connection.close()
        raise psycopg.OperationalError("the server closed the pooled connection")


@lru_cache
def get_engine() -> Engine:
    engine = create_engine(
        database_url(),
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        # a dead PostgreSQL must fail fast: WhatsApp retries, we must not hang
        connect_args={"connect_timeout": 2},
    )
    event.listen(engine, "checkout", _check_on_checkout)
    return engine


def _check_on_checkout(dbapi_connection: Any, record: Any, proxy: Any) -> None:
    """A closed connection is discarded and another one checked out (SQLAlchemy retries)."""
    try:
        check_idle_connection(dbapi_connection)
    except psycopg.Error as exc:
        raise DisconnectionError(str(exc)) from exc


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


@lru_cache
def _read_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(
        get_engine().execution_options(isolation_level="AUTOCOMMIT"), expire_on_commit=False
    )


@contextmanager
def read_scope() -> Iterator[Session]:
    """A session that only reads, each statement on its own (autocommit). In READ COMMITTED
    every statement sees a snapshot of its own anyway, so a transaction around reads adds
    nothing but its BEGIN and COMMIT round trips. Never write through it: each statement
    would commit by itself."""
    session = _read_sessionmaker()()
    try:
        yield session
    finally:
        session.close()


@contextmanager
def autocommit_scope() -> Iterator[Connection]:
    """A connection on which each statement commits by itself: one statement that must be
    durable before what follows costs one round trip, not BEGIN, it and COMMIT."""
    with get_engine().connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        yield connection


@contextmanager
def session_scope() -> Iterator[Session]:
    """A unit of work for tasks and scripts: commit on success, roll back on error."""
    session = get_sessionmaker()()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def reset_engine() -> None:
    """Forget the engine (after fork in a worker, or when settings change in tests)."""
    if get_engine.cache_info().currsize:
        get_engine().dispose(close=False)
    get_engine.cache_clear()
    get_sessionmaker.cache_clear()
    _read_sessionmaker.cache_clear()
