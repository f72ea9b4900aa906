"""Money is counted once: whatever kills a worker, however often a message is delivered, and whether or
not the broker is up when the provider calls."""

from __future__ import annotations

import os
import signal
import threading
import time
import uuid
from collections.abc import Iterator
from decimal import Decimal

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, text

from tasklane.celery_app import create_celery_app
from tasklane.contracts.payments import PROCESS_PAYMENT_WEBHOOK, ProcessPaymentWebhook
from tasklane.db.engine import Database
from tasklane.db.models import (
    Business,
    CreditLedgerEntry,
    PaymentEventStatus,
    PurchaseStatus,
    TaskRecord,
    TaskStatus,
)
from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness import paystack
from tests.harness.ports import wait_for
from tests.harness.redis_server import RedisServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import publish_bare, wait_for_status, wait_until_finished
from tests.payments.test_webhooks import (
    WEBHOOK,
    balance,
    buy,
    events_for,
    purchase_status,
    queued_task_id,
    wait_paid,
)

# Short limits so an abandoned message is redelivered within seconds, not minutes.
FAST_REDELIVERY = {
    f"TASKLANE_{queue}_{kind}_TIME_LIMIT": value
    for queue in ("REPORTS", "NOTIFICATIONS", "PAYMENTS", "MAINTENANCE")
    for kind, value in (("SOFT", "4"), ("HARD", "5"))
} | {
    "TASKLANE_BROKER_VISIBILITY_TIMEOUT": "10",
    "TASKLANE_WORKER_SOFT_SHUTDOWN_TIMEOUT": "1",
    "TASKLANE_WORKER_RETRY_HOLD": "2",
}


class RowLock:
    """Holds a purchase's row lock from outside, so a worker's payment task blocks mid-transaction."""

    def __init__(self, database: Database, reference: str) -> None:
        self._session = database.session()
        self._session.execute(
            text("SELECT id FROM credit_purchases WHERE reference = :reference FOR UPDATE"),
            {"reference": reference},
        )

    def release(self) -> None:
        self._session.rollback()
        self._session.close()


def ledger_count(database: Database, reference: str) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).where(CreditLedgerEntry.reference == reference)) or 0)


def payment(purchase: dict[str, object]) -> ProcessPaymentWebhook:
    return ProcessPaymentWebhook(
        payment_reference=str(purchase["reference"]),
        amount_paid=int(str(purchase["amount"])),
        currency="NGN",
        payment_provider="paystack",
    )


@pytest.fixture
def isolated(services: Services) -> Iterator[tuple[dict[str, str], TestClient]]:
    env = tasklane_env(services, broker_url=fresh_broker_url(services), **FAST_REDELIVERY)
    with TestClient(create_app(settings_from_env(env))) as api:
        yield env, api


def _blocked_mid_task(database: Database, task_id: str) -> None:
    wait_for_status(database, task_id, [TaskStatus.PROCESSING], timeout=30)
    time.sleep(0.5)  # past the prerun bookkeeping and into SELECT ... FOR UPDATE


def test_a_pool_process_killed_mid_payment_is_redelivered_and_credits_once(
    isolated: tuple[dict[str, str], TestClient], tenant: Tenant, database: Database
) -> None:
    env, api = isolated
    purchase = buy(api, tenant, credits=30)
    worker = start_worker(env, "payments", concurrency=1)
    lock = RowLock(database, str(purchase["reference"]))
    try:
        body = paystack.charge_success(str(purchase["reference"]), int(purchase["amount"]))
        api.post(WEBHOOK, content=body, headers=paystack.headers(body))
        task_id = queued_task_id(database, str(purchase["reference"]))
        _blocked_mid_task(database, task_id)

        [child] = worker.children()
        os.kill(child, signal.SIGKILL)  # what the OOM killer does to a pool process
        wait_for(
            lambda: worker.children() and worker.children() != [child], timeout=20, what="a new pool process"
        )
        time.sleep(1)
        lock.release()
        record = wait_until_finished(database, task_id)
    finally:
        worker.stop()

    assert record.status == TaskStatus.COMPLETED
    assert record.attempts == 2, "the killed attempt and its redelivery"
    assert ledger_count(database, str(purchase["reference"])) == 1
    assert balance(database, tenant) == Decimal("30.00")


def test_a_whole_worker_killed_mid_payment_hands_it_to_another_that_credits_once(
    isolated: tuple[dict[str, str], TestClient], tenant: Tenant, database: Database
) -> None:
    env, api = isolated
    purchase = buy(api, tenant, credits=20)
    first = start_worker(env, "payments", concurrency=1)
    lock = RowLock(database, str(purchase["reference"]))
    body = paystack.charge_success(str(purchase["reference"]), int(purchase["amount"]))
    api.post(WEBHOOK, content=body, headers=paystack.headers(body))
    task_id = queued_task_id(database, str(purchase["reference"]))
    _blocked_mid_task(database, task_id)

    first.kill()  # SIGKILL to the whole worker: nothing is acknowledged, nothing is handed back
    lock.release()
    second = start_worker(env, "payments", concurrency=1)
    try:
        record = wait_for_status(database, task_id, [TaskStatus.COMPLETED], timeout=60)
    finally:
        second.stop()

    assert ledger_count(database, str(purchase["reference"])) == 1
    assert balance(database, tenant) == Decimal("20.00")
    assert record.attempts == 2


def test_concurrent_workers_given_the_same_payment_many_times_credit_it_once(
    isolated: tuple[dict[str, str], TestClient], tenant: Tenant, database: Database
) -> None:
    env, api = isolated
    purchase = buy(api, tenant, credits=15)
    workers = [start_worker(env, "payments", concurrency=2) for _ in range(2)]
    celery = create_celery_app(settings_from_env(env))
    task_ids = [str(uuid.uuid4()) for _ in range(8)]
    try:
        threads = [
            threading.Thread(
                target=publish_bare,
                args=(celery, PROCESS_PAYMENT_WEBHOOK, payment(purchase), t),
            )
            for t in task_ids
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        records = [wait_until_finished(database, t) for t in task_ids]
    finally:
        celery.close()
        for worker in workers:
            worker.stop()

    assert {r.status for r in records} == {TaskStatus.COMPLETED}
    outcomes = sorted(r.result["outcome"] for r in records if r.result)
    assert outcomes == ["already_credited"] * 7 + ["credited"]
    assert ledger_count(database, str(purchase["reference"])) == 1
    assert balance(database, tenant) == Decimal("15.00")
    with database.session() as session:
        receipts = session.scalar(
            select(func.count()).where(
                TaskRecord.business_id == tenant.id,
                TaskRecord.name == "notifications.send_credit_purchase_notification",
            )
        )
    assert receipts == 1


def test_a_webhook_during_a_broker_outage_gets_200_and_is_credited_once_the_broker_is_back(
    services: Services, tenant: Tenant, database: Database
) -> None:
    redis = RedisServer()
    redis.start()
    env = tasklane_env(services, broker_url=redis.url)
    worker = start_worker(env, "payments", concurrency=1)
    try:
        with TestClient(create_app(settings_from_env(env))) as api:
            purchase = buy(api, tenant, credits=12)
            body = paystack.charge_success(str(purchase["reference"]), int(purchase["amount"]))
            redis.stop()

            started = time.monotonic()
            response = api.post(WEBHOOK, content=body, headers=paystack.headers(body))
            answered = time.monotonic() - started

            assert response.status_code == 200
            assert response.json() == {"status": "queued"}
            assert answered < 1, "the answer does not wait on the broker"
            time.sleep(2)  # the relay tries and finds the broker down
            [event] = events_for(database, str(purchase["reference"]))
            assert (event.status, event.dispatched_at) == (PaymentEventStatus.RECEIVED, None)
            assert purchase_status(database, str(purchase["reference"])).status == PurchaseStatus.PENDING

            redis.start()
            settled = wait_paid(database, str(purchase["reference"]))
    finally:
        worker.stop()
        redis.stop()

    assert settled.status == PurchaseStatus.PAID
    assert ledger_count(database, str(purchase["reference"])) == 1
    with database.session() as session:
        assert session.get_one(Business, tenant.id).credit_balance == Decimal("12.00")
    [event] = events_for(database, str(purchase["reference"]))
    assert event.status == PaymentEventStatus.PROCESSED
    assert event.dispatched_at is not None
