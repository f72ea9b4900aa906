"""Session-wide real services (PostgreSQL, Redis, SMTP), a migrated database, a notifications worker,
and per-test tenants."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from celery import Celery
from fastapi.testclient import TestClient

from tasklane.admin import create_business
from tasklane.celery_app import create_celery_app
from tasklane.db.engine import Database
from tasklane.db.migrate import upgrade
from tasklane.settings import Settings
from tasklane_api.main import create_app
from tests.harness.postgres_server import PostgresServer
from tests.harness.processes import ManagedProcess
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, settings_from_env, start_worker, tasklane_env
from tools.demo_data import DemoSpec, generate


@pytest.fixture(scope="session")
def services() -> Iterator[Services]:
    postgres, redis, smtp = PostgresServer(), RedisServer(), SmtpServer()
    postgres.start()
    redis.start()
    smtp.start()
    database_url = postgres.create_database("tasklane")
    services = Services(postgres=postgres, redis=redis, smtp=smtp, database_url=database_url)
    upgrade(settings_from_env(tasklane_env(services)))
    yield services
    smtp.stop()
    redis.stop()
    postgres.destroy()


@pytest.fixture(scope="session")
def env(services: Services) -> dict[str, str]:
    return tasklane_env(services)


@pytest.fixture(scope="session")
def settings(env: dict[str, str]) -> Settings:
    return settings_from_env(env)


@pytest.fixture(scope="session")
def database(settings: Settings) -> Iterator[Database]:
    database = Database(settings)
    yield database
    database.engine.dispose()


@pytest.fixture(scope="session")
def notifications_worker(env: dict[str, str]) -> Iterator[ManagedProcess]:
    worker = start_worker(env, "notifications", name="notifications-main")
    yield worker
    worker.stop()


@pytest.fixture(scope="session")
def api(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture
def smtp(services: Services) -> Iterator[SmtpServer]:
    if not services.smtp.running:
        services.smtp.start()
    services.smtp.reset()
    yield services.smtp
    services.smtp.reset()
    if not services.smtp.running:
        services.smtp.start()


@dataclass(frozen=True)
class Tenant:
    id: uuid.UUID
    name: str
    owner_email: str
    api_key: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.api_key}"}


def make_tenant(database: Database, name: str = "Test Shop") -> Tenant:
    suffix = uuid.uuid4().hex[:10]
    with database.transaction() as session:
        business, key = create_business(
            session, name=f"{name} {suffix}", owner_email=f"owner-{suffix}@shop.test"
        )
    return Tenant(id=business.id, name=business.name, owner_email=business.owner_email, api_key=key)


@pytest.fixture
def tenant(database: Database) -> Tenant:
    return make_tenant(database)


@pytest.fixture
def other_tenant(database: Database) -> Tenant:
    return make_tenant(database, "Other Shop")


@pytest.fixture(scope="session")
def celery(settings: Settings) -> Iterator[Celery]:
    """A publisher on the session broker, as the API or beat would hold."""
    app = create_celery_app(settings)
    yield app
    app.close()


@pytest.fixture(scope="session")
def reports_worker(env: dict[str, str]) -> Iterator[ManagedProcess]:
    worker = start_worker(env, "reports", name="reports-main")
    yield worker
    worker.stop()


def demo_tenant(database: Database, spec: DemoSpec) -> Tenant:
    summary = generate(database, spec)[0]
    assert summary.api_key is not None
    return Tenant(
        id=summary.business_id,
        name=summary.business_name,
        owner_email=summary.owner_email,
        api_key=summary.api_key,
    )


@pytest.fixture(scope="session")
def shop(database: Database) -> Tenant:
    """A small shop with a known, varied history: 600 sales over 60 days."""
    return demo_tenant(database, DemoSpec(products=25, customers=40, sales=600, users=3, days=60, seed=11))


@pytest.fixture(scope="session")
def big_shop(database: Database) -> Tenant:
    """A shop whose XLSX sales report takes several seconds: for progress, time limits and cancelling."""
    return demo_tenant(
        database, DemoSpec(products=200, customers=2000, sales=150_000, users=3, days=365, seed=5)
    )


@pytest.fixture(scope="session")
def payments_worker(env: dict[str, str]) -> Iterator[ManagedProcess]:
    worker = start_worker(env, "payments", name="payments-main")
    yield worker
    worker.stop()
