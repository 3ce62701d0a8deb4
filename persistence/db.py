"""Engine and sessions. Services flush; the boundary (request or task) commits."""

from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache

from sqlalchemy import Engine, create_engine
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


@lru_cache
def get_engine() -> Engine:
    return create_engine(
        database_url(),
        pool_pre_ping=True,
        pool_size=10,
        max_overflow=20,
        pool_timeout=5,
        # a dead PostgreSQL must fail fast: WhatsApp retries, we must not hang
        connect_args={"connect_timeout": 2},
    )


@lru_cache
def get_sessionmaker() -> sessionmaker[Session]:
    return sessionmaker(get_engine(), expire_on_commit=False)


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
