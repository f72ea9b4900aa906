"""Programmatic Alembic: what ``tasklane db upgrade`` runs."""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.script import ScriptDirectory
from alembic.util import CommandError

from tasklane.settings import Settings


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", "tasklane.db:migrations")
    # Passed as an attribute, not an ini option: URLs may hold '%' that configparser would interpolate.
    config.attributes["database_url"] = settings.effective_database_url
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    command.upgrade(alembic_config(settings), revision)


def _scripts() -> ScriptDirectory:
    config = Config()
    config.set_main_option("script_location", "tasklane.db:migrations")
    return ScriptDirectory.from_config(config)


def head_revision() -> str | None:
    """The newest migration this code ships: what a database must be at before this release runs on it."""
    return _scripts().get_current_head()


def is_newer_than_this_release(revision: str) -> bool:
    """Whether ``revision`` is one this code does not ship: a later release has migrated the database."""
    try:
        _scripts().get_revision(revision)
    except CommandError:
        return True
    return False


def current_revision(settings: Settings) -> str | None:
    from alembic.runtime.migration import MigrationContext

    from tasklane.db.engine import create_db_engine

    engine = create_db_engine(settings)
    try:
        with engine.connect() as connection:
            return MigrationContext.configure(connection).get_current_revision()
    finally:
        engine.dispose()
