"""The API when the broker or the database is down: clear 503s, nothing half-written, recovery."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from tasklane.celery_app import create_celery_app
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import Business, TaskRecord, TaskStatus, User
from tasklane_api.main import create_app
from tasklane_maintenance.reconciler import Reconciler
from tests.conftest import Tenant
from tests.harness.postgres_server import PostgresServer
from tests.harness.redis_server import RedisServer
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import get_record, wait_until_finished


@pytest.fixture
def own_redis() -> Iterator[RedisServer]:
    server = RedisServer()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    server = PostgresServer()
    server.start()
    yield server
    server.destroy()


def test_broker_down_answers_503_with_retry_after_and_creates_nothing(
    services: Services, own_redis: RedisServer, tenant: Tenant, database: Database
) -> None:
    settings = settings_from_env(tasklane_env(services, broker_url=own_redis.url))
    with TestClient(create_app(settings)) as api:
        own_redis.stop()

        response = api.post(
            "/v1/users", json={"email": "lost@example.com", "name": "Lost"}, headers=tenant.headers
        )

        assert response.status_code == 503
        assert int(response.headers["Retry-After"]) > 0
        body = response.json()
        assert "task queue is unavailable" in body["detail"]
        with database.session() as session:
            assert session.scalar(select(User).where(User.business_id == tenant.id)) is None
            record = session.get_one(TaskRecord, body["task_id"])
        assert record.status == TaskStatus.FAILED
        assert record.error is not None
        assert record.error.startswith("not queued: the task broker is unavailable")
        assert api.get(f"/v1/tasks/{record.id}", headers=tenant.headers).json()["status"] == "failed"

        own_redis.start()
        retried = api.post(
            "/v1/users", json={"email": "lost@example.com", "name": "Lost"}, headers=tenant.headers
        )
        assert retried.status_code == 201


def test_readyz_follows_redis_and_postgres_going_down_and_coming_back(
    services: Services, own_redis: RedisServer, own_postgres: PostgresServer
) -> None:
    settings = settings_from_env(
        tasklane_env(services, broker_url=own_redis.url, TASKLANE_DATABASE_URL=own_postgres.url())
    )
    with TestClient(create_app(settings)) as api:
        ready = api.get("/readyz")
        assert ready.status_code == 200
        assert ready.json()["checks"] == {"database": "ok", "broker": "ok"}

        own_redis.stop()
        down = api.get("/readyz")
        assert down.status_code == 503
        assert down.json()["detail"] == "not ready: broker down"
        assert down.json()["checks"]["database"] == "ok"
        own_redis.start()
        assert api.get("/readyz").status_code == 200

        own_postgres.stop()
        down = api.get("/readyz")
        assert down.status_code == 503
        assert down.json()["detail"] == "not ready: database down"
        assert api.get("/healthz").status_code == 200
        own_postgres.start()
        assert api.get("/readyz").status_code == 200


def test_database_down_during_a_request_is_503_not_500(
    services: Services, own_postgres: PostgresServer, tenant: Tenant
) -> None:
    settings = settings_from_env(tasklane_env(services, TASKLANE_DATABASE_URL=own_postgres.url()))
    with TestClient(create_app(settings)) as api:
        own_postgres.stop()

        response = api.get("/v1/tasks", headers=tenant.headers)

        assert response.status_code == 503
        assert response.json()["detail"] == "the database is unavailable; retry later"
        own_postgres.start()


def test_a_spend_during_a_broker_outage_keeps_its_alert_and_the_relay_sends_it_later(
    services: Services, own_redis: RedisServer, tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    env = tasklane_env(services, broker_url=own_redis.url)
    settings = settings_from_env(env)
    with database.transaction() as session:
        session.get_one(Business, tenant.id).credit_balance = Decimal("12.00")
    with TestClient(create_app(settings)) as api:
        own_redis.stop()
        response = api.post(
            "/v1/credits/usage", json={"amount": "5", "description": "offline"}, headers=tenant.headers
        )
        own_redis.start()

    # The spend happened and is not undone: retrying would spend twice.
    assert response.status_code == 200, response.text
    assert response.json()["balance"] == "7.00"
    alert_id = response.json()["low_credit_alert_task_id"]
    pending = get_record(database, alert_id)
    assert pending is not None
    assert (pending.status, pending.dispatched_at) == (TaskStatus.QUEUED, None)

    worker = start_worker(env, concurrency=1)
    celery = create_celery_app(settings)
    try:
        now_past_the_grace = utcnow() + timedelta(seconds=settings.undelivered_task_grace)
        assert alert_id in Reconciler(settings, database, celery).run(now=now_past_the_grace).published
        record = wait_until_finished(database, alert_id)
    finally:
        celery.close()
        worker.stop()
    assert record.status == TaskStatus.COMPLETED
    assert record.dispatched_at is not None
    assert (
        smtp.wait_for_message_to(tenant.owner_email)["Subject"] == "Your AI credit balance is low (7.00 left)"
    )
