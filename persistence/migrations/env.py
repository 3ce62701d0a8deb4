"""Alembic environment. LangGraph owns its `checkpoint*` tables; Alembic ignores them."""

from alembic import context
from sqlalchemy import create_engine, pool

from persistence.db import database_url
from persistence.models import Base

config = context.config
target_metadata = Base.metadata


def include_object(obj, name, type_, reflected, compare_to) -> bool:
    return not (type_ == "table" and name.startswith("checkpoint"))


def run_migrations_online() -> None:
    url = config.attributes.get("url") or database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection, target_metadata=target_metadata, include_object=include_object
        )
        with context.begin_transaction():
            context.run_migrations()


run_migrations_online()
