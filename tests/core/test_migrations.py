from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import create_engine, inspect

from tasklane.db import models
from tasklane.db.base import Base
from tasklane.db.engine import Database
from tasklane.db.migrate import alembic_config, upgrade
from tasklane.settings import Settings
from tests.harness.stack import Services

DOMAIN_TABLES = {
    "businesses", "api_keys", "users", "products", "stock_movements", "customers", "sales_transactions",
    "sale_line_items", "credit_purchases", "credit_ledger", "payment_events", "sent_notifications",
    "report_artifacts", "artifact_chunks", "task_records", "reminders",
}  # fmt: skip


def test_migrations_build_exactly_the_models_schema_on_postgresql(services: Services) -> None:
    url = services.postgres.create_database("migrations_check")
    upgrade(Settings(environment="development", database_url=url))

    engine = create_engine(url)
    with engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        tables = set(inspect(connection).get_table_names())
    engine.dispose()
    assert diff == []
    assert tables - {"alembic_version"} == DOMAIN_TABLES


def test_migrations_run_down_and_up_again(services: Services) -> None:
    url = services.postgres.create_database("migrations_roundtrip")
    settings = Settings(environment="development", database_url=url)
    upgrade(settings)

    command.downgrade(alembic_config(settings), "base")
    engine = create_engine(url)
    assert set(inspect(engine).get_table_names()) == {"alembic_version"}
    engine.dispose()
    upgrade(settings)


def test_the_embedded_sqlite_default_migrates_and_keeps_timestamps_aware(tmp_path: Path) -> None:
    settings = Settings(environment="development", database_url=f"sqlite:///{tmp_path}/dev.db")
    upgrade(settings)
    database = Database(settings)
    moment = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC) + timedelta(microseconds=6)

    with database.transaction() as session:
        business = models.Business(name="Dev", owner_email="dev@example.com", low_credit_alerted_at=moment)
        session.add(business)
    with database.session() as session:
        loaded = session.get_one(models.Business, business.id)

    assert loaded.low_credit_alerted_at == moment
    assert loaded.created_at.tzinfo is not None
    database.engine.dispose()


def test_naive_datetimes_are_refused_rather_than_guessed(database: Database) -> None:
    from sqlalchemy.exc import StatementError

    with pytest.raises(StatementError, match="naive datetime"), database.transaction() as session:
        session.add(
            models.Business(name="N", owner_email="naive@example.com", low_credit_alerted_at=datetime.now())
        )
