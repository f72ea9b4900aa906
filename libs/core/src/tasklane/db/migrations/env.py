"""Alembic environment: the URL comes from ``tasklane.db.migrate`` or, for the alembic CLI, settings."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine, pool

from tasklane.db import models  # noqa: F401  (registers every table on the metadata)
from tasklane.db.base import Base

config = context.config


def _database_url() -> str:
    url = config.attributes.get("database_url")
    if url:
        return str(url)
    from tasklane.settings import Settings

    return Settings().effective_database_url


def run_migrations() -> None:
    url = _database_url()
    engine = create_engine(url, poolclass=pool.NullPool)
    with engine.connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=Base.metadata,
            render_as_batch=connection.dialect.name == "sqlite",
            compare_type=True,
        )
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run_migrations()
