"""How the welcome email behaves when delivery goes wrong, against a real worker and SMTP server."""

from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tasklane.db.engine import Database
from tasklane.db.models import TaskStatus
from tests.conftest import Tenant
from tests.harness.smtp_server import SmtpServer
from tests.harness.tasks import wait_for_attempts, wait_for_status, wait_until_finished

pytestmark = pytest.mark.usefixtures("notifications_worker")


def _register(api: TestClient, tenant: Tenant, email: str) -> str:
    response = api.post("/v1/users", json={"email": email, "name": "Grace"}, headers=tenant.headers)
    assert response.status_code == 201, response.text
    task_id: str = response.json()["welcome_email_task_id"]
    return task_id


def test_smtp_down_retries_with_backoff_then_delivers_once(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    smtp.stop()
    task_id = _register(api, tenant, "grace@example.com")

    retrying = wait_for_status(database, task_id, [TaskStatus.RETRYING])
    assert "mail server unreachable" in (retrying.error or "")
    wait_for_attempts(database, task_id, at_least=2)
    smtp.start()

    record = wait_until_finished(database, task_id, timeout=30)
    assert record.status == TaskStatus.COMPLETED
    assert record.attempts >= 2
    assert record.error is None
    smtp.wait_for_message_to("grace@example.com")
    smtp.settle()
    assert len(smtp.messages_to("grace@example.com")) == 1


def test_each_worker_process_keeps_one_relay_connection_and_replaces_a_dropped_one(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    def deliver(addresses: list[str]) -> None:
        for task_id in [_register(api, tenant, address) for address in addresses]:
            record = wait_until_finished(database, task_id)
            assert (record.status, record.attempts) == (TaskStatus.COMPLETED, 1), record.error
        for address in addresses:
            smtp.wait_for_message_to(address)

    deliver([f"kept{i}@example.com" for i in range(6)])
    assert smtp.connections() <= 2, "one connection per pool process (concurrency 2), not one per email"

    # The relay restarts: every kept connection is gone. The next send notices before handing anything
    # over and reconnects, so the emails still go on their first attempt.
    smtp.stop()
    smtp.start()
    deliver([f"after-restart{i}@example.com" for i in range(3)])
    smtp.settle()
    assert len(smtp.messages) == 9


def test_a_421_reply_is_retried_until_accepted(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    smtp.reply_next("421 4.3.2 Service not available, try again later", times=2)

    task_id = _register(api, tenant, "deferred@example.com")

    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.COMPLETED
    assert record.attempts == 3
    smtp.settle()
    assert len(smtp.messages_to("deferred@example.com")) == 1


def test_a_550_reply_fails_at_once_without_retrying(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    smtp.reply_next("550 5.1.1 Mailbox does not exist", times=5)

    task_id = _register(api, tenant, "nobody@example.com")

    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.FAILED
    assert record.attempts == 1
    assert "SMTP 550" in (record.error or "")
    smtp.settle()
    assert smtp.messages_to("nobody@example.com") == []


def test_a_missing_user_fails_clearly_and_is_not_retried(api: TestClient, database: Database) -> None:
    task_id = str(uuid.uuid4())
    missing = uuid.uuid4()

    api.app.state.resources.celery.send_task(  # type: ignore[attr-defined]
        "notifications.send_welcome_email", kwargs={"user_id": str(missing)}, task_id=task_id
    )

    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.FAILED
    assert record.error == f"user {missing} does not exist"
    assert record.attempts == 1


def test_a_message_that_breaks_the_contract_is_refused_by_the_worker(
    api: TestClient, database: Database
) -> None:
    task_id = str(uuid.uuid4())

    api.app.state.resources.celery.send_task(  # type: ignore[attr-defined]
        "notifications.send_welcome_email", kwargs={"user_id": "not-a-uuid", "extra": 1}, task_id=task_id
    )

    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.FAILED
    assert record.error is not None
    assert record.error.startswith("invalid notifications.send_welcome_email message:")
    assert "user_id:" in record.error
    assert "extra:" in record.error
