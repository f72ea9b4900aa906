"""SIGTERM on a worker (a rolling deploy): running tasks get the soft-shutdown grace to finish, and the
ones that cannot finish go back to the queue for another worker, never lost and never sent twice."""

from __future__ import annotations

import signal
import time
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tasklane.db.engine import Database
from tasklane.db.models import TaskStatus
from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import wait_for_status, wait_until_finished

SOFT_SHUTDOWN = 3


@pytest.fixture
def isolated_env(services: Services) -> dict[str, str]:
    return tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT=str(SOFT_SHUTDOWN),
    )


@pytest.fixture
def api(isolated_env: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings_from_env(isolated_env))) as client:
        yield client


def _register(api: TestClient, tenant: Tenant, email: str) -> str:
    response = api.post("/v1/users", json={"email": email, "name": "Deploy"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["welcome_email_task_id"]
    return task_id


def test_a_task_that_cannot_finish_in_the_grace_period_is_requeued_and_completed_elsewhere(
    isolated_env: dict[str, str], api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    first = start_worker(isolated_env, concurrency=1)
    smtp.rcpt_delay = SOFT_SHUTDOWN * 4  # the relay stalls far longer than the grace period
    task_id = _register(api, tenant, "slow@example.com")
    wait_for_status(database, task_id, [TaskStatus.PROCESSING])

    started = time.monotonic()
    first.signal(signal.SIGTERM)
    first.wait(timeout=SOFT_SHUTDOWN + 15)
    shutdown_seconds = time.monotonic() - started

    assert shutdown_seconds >= SOFT_SHUTDOWN - 0.5, "the running task was not given its grace period"
    assert "Initiating Soft Shutdown" in first.log()
    smtp.rcpt_delay = 0
    second = start_worker(isolated_env, concurrency=1)
    try:
        record = wait_until_finished(database, task_id, timeout=40)
    finally:
        second.stop()
    assert record.status == TaskStatus.COMPLETED
    assert record.attempts == 2
    smtp.settle()
    assert len(smtp.messages_to("slow@example.com")) == 1


def test_a_task_that_finishes_within_the_grace_period_completes_before_the_worker_exits(
    isolated_env: dict[str, str], api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    worker = start_worker(isolated_env, concurrency=1)
    smtp.rcpt_delay = 1
    task_id = _register(api, tenant, "quick@example.com")
    wait_for_status(database, task_id, [TaskStatus.PROCESSING])

    worker.signal(signal.SIGTERM)
    worker.wait(timeout=SOFT_SHUTDOWN + 15)

    record = wait_until_finished(database, task_id, timeout=5)
    assert record.status == TaskStatus.COMPLETED
    assert record.attempts == 1
    assert len(smtp.messages_to("quick@example.com")) == 1
