"""Bring a database up to date: our Alembic migrations, then LangGraph's checkpoint tables."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from langgraph.checkpoint.postgres import PostgresSaver
from sqlalchemy import create_engine, text

from observability.logs import get_logger
from persistence.db import libpq_url, sqlalchemy_url
from settings import get_settings

MIGRATIONS = Path(__file__).parent / "migrations"
log = get_logger(__name__)

# Several processes may start at once (API and workers); one migrates at a time.
_MIGRATION_LOCK_KEY = 7_340_001


def alembic_config(url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["url"] = sqlalchemy_url(url)
    return config


def upgrade(url: str) -> None:
    # Autocommit: an open transaction here would block LangGraph's CREATE INDEX CONCURRENTLY.
    engine = create_engine(sqlalchemy_url(url), isolation_level="AUTOCOMMIT")
    try:
        with engine.connect() as lock_conn:
            lock_conn.execute(text("SELECT pg_advisory_lock(:k)"), {"k": _MIGRATION_LOCK_KEY})
            try:
                command.upgrade(alembic_config(url), "head")
                with PostgresSaver.from_conn_string(libpq_url(sqlalchemy_url(url))) as saver:
                    saver.setup()
            finally:
                lock_conn.execute(text("SELECT pg_advisory_unlock(:k)"), {"k": _MIGRATION_LOCK_KEY})
    finally:
        engine.dispose()
    log.info("database.migrated")


if __name__ == "__main__":
    upgrade(get_settings().database_url or "")
