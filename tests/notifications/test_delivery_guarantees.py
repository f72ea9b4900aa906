"""Each alert arrives, once: redelivery and racing workers send one email; a flaky relay delays, a
refusing relay fails; the rate limit spaces sends out."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator

import pytest
from celery import Celery

from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import (
    SEND_LOW_STOCK_ALERT,
    SEND_STOCK_MOVEMENT_REPORT,
    SendLowStockAlert,
    SendStockMovementReport,
)
from tasklane.db.engine import Database
from tasklane.db.models import TaskStatus
from tests.conftest import Tenant
from tests.harness.processes import ManagedProcess
from tests.harness.seed import add_movement, add_product
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import publish_bare, run_task, wait_for_attempts, wait_until_finished


@pytest.fixture
def isolated_env(services: Services) -> dict[str, str]:
    return tasklane_env(services, broker_url=fresh_broker_url(services))


@pytest.fixture
def isolated_celery(isolated_env: dict[str, str]) -> Iterator[Celery]:
    app = create_celery_app(settings_from_env(isolated_env))
    yield app
    app.close()


@pytest.fixture
def two_workers(isolated_env: dict[str, str]) -> Iterator[list[ManagedProcess]]:
    workers = [start_worker(isolated_env, concurrency=1) for _ in range(2)]
    yield workers
    for worker in workers:
        worker.stop()


def test_two_workers_racing_on_the_same_message_send_one_email(
    two_workers: list[ManagedProcess],
    isolated_celery: Celery,
    database: Database,
    tenant: Tenant,
    smtp: SmtpServer,
) -> None:
    add_product(database, tenant.id, "LOW", stock=0, reorder=3)
    smtp.rcpt_delay = 1.0  # the first worker holds the dedupe claim while the second arrives
    task_id = str(uuid.uuid4())
    payload = SendLowStockAlert(business_id=tenant.id)

    # The broker hands the same message to both workers at once (a redelivery racing the original).
    publishers = [
        threading.Thread(target=publish_bare, args=(isolated_celery, SEND_LOW_STOCK_ALERT, payload, task_id))
        for _ in range(2)
    ]
    for thread in publishers:
        thread.start()
    for thread in publishers:
        thread.join()

    wait_for_attempts(database, task_id, at_least=2)
    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.COMPLETED
    smtp.settle(2.5)
    assert len(smtp.messages_to(tenant.owner_email)) == 1
    assert all("Task notifications.send_low_stock_alert" in w.log() for w in two_workers), (
        "both workers ran it"
    )


@pytest.mark.usefixtures("notifications_worker")
def test_a_redelivered_alert_message_sends_one_email(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    product = add_product(database, tenant.id, "MOVE", stock=5, reorder=1)
    add_movement(database, product, -2)
    task_id = str(uuid.uuid4())
    payload = SendStockMovementReport(business_id=tenant.id)

    publish_bare(celery, SEND_STOCK_MOVEMENT_REPORT, payload, task_id)
    wait_until_finished(database, task_id)
    publish_bare(celery, SEND_STOCK_MOVEMENT_REPORT, payload, task_id)
    record = wait_for_attempts(database, task_id, at_least=2)

    record = wait_until_finished(database, task_id)
    assert record.result is not None and record.result["sent"] is False
    smtp.settle()
    assert len(smtp.messages_to(tenant.owner_email)) == 1


@pytest.mark.usefixtures("notifications_worker")
def test_a_relay_answering_421_for_a_while_delays_the_alert_without_losing_it(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "LOW", stock=0, reorder=3)
    smtp.reply_next("421 4.7.0 Try again later", times=3)

    record = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))

    assert record.status == TaskStatus.COMPLETED
    assert record.attempts == 4
    smtp.settle()
    assert len(smtp.messages_to(tenant.owner_email)) == 1


@pytest.mark.usefixtures("notifications_worker")
def test_a_relay_answering_550_fails_the_alert_at_once(
    celery: Celery, database: Database, tenant: Tenant, smtp: SmtpServer
) -> None:
    add_product(database, tenant.id, "LOW", stock=0, reorder=3)
    smtp.reply_next("550 5.7.1 Relaying denied", times=3)

    record = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))

    assert record.status == TaskStatus.FAILED
    assert record.attempts == 1
    assert record.error == "the mail server refused the message: SMTP 550 5.7.1 Relaying denied"
    # The claim was rolled back with the failed send: a later alert for the same products can still go out.
    smtp.reset()
    retried = run_task(celery, database, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id))
    assert retried.result is not None and retried.result["sent"] is True


def test_the_rate_limit_spaces_out_sends_to_protect_the_relay(
    services: Services, database: Database, smtp: SmtpServer
) -> None:
    env = tasklane_env(services, broker_url=fresh_broker_url(services), TASKLANE_EMAIL_RATE_LIMIT="20/m")
    worker = start_worker(env, concurrency=2)
    app = create_celery_app(settings_from_env(env))
    tenants = []
    try:
        from tests.conftest import make_tenant

        for _ in range(3):
            tenant = make_tenant(database)
            add_product(database, tenant.id, "LOW", stock=0, reorder=3)
            tenants.append(tenant)
        task_ids = [str(uuid.uuid4()) for _ in tenants]
        for tenant, task_id in zip(tenants, task_ids, strict=True):
            publish_bare(app, SEND_LOW_STOCK_ALERT, SendLowStockAlert(business_id=tenant.id), task_id)
        records = [wait_until_finished(database, task_id) for task_id in task_ids]
    finally:
        worker.stop()
        app.close()

    started = sorted(r.started_at for r in records if r.started_at)
    assert len(started) == 3
    # 60/m is one per second: three sends cannot start within less than two seconds of each other.
    assert (started[-1] - started[0]).total_seconds() >= 1.8
