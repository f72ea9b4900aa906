"""Fan-out for many tenants: one dispatch message becomes exactly one alert per business that needs one."""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterator
from decimal import Decimal

import pytest
from celery import Celery
from sqlalchemy import insert

from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import DISPATCH_LOW_STOCK_ALERTS, Dispatch
from tasklane.db.engine import Database
from tasklane.db.models import Business, Product, TaskStatus
from tests.harness.ports import wait_for
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import run_task

BUSINESSES = 1000
PAGE_SIZE = 128


@pytest.fixture
def fanout_env(services: Services) -> dict[str, str]:
    return tasklane_env(
        services, broker_url=fresh_broker_url(services), TASKLANE_DISPATCH_PAGE_SIZE=str(PAGE_SIZE)
    )


@pytest.fixture
def fanout_celery(fanout_env: dict[str, str]) -> Iterator[Celery]:
    worker = start_worker(fanout_env, concurrency=2)
    app = create_celery_app(settings_from_env(fanout_env))
    yield app
    app.close()
    worker.stop()


def _seed_businesses(database: Database) -> tuple[set[str], set[str]]:
    """1,000 businesses: every third has a product at its reorder level, the rest are well stocked;
    a few inactive ones with low stock must be left alone."""
    run = uuid.uuid4().hex[:8]
    low, fine = set(), set()
    businesses, products = [], []
    for index in range(BUSINESSES):
        business_id = uuid.uuid4()
        email = f"fan-{run}-{index}@shop.test"
        needs_alert = index % 3 == 0
        active = index % 50 != 1
        businesses.append(
            {"id": business_id, "name": f"Fan {index}", "owner_email": email, "is_active": active}
        )
        stock = 2 if needs_alert or not active else 80
        products.append(
            {
                "id": uuid.uuid4(),
                "business_id": business_id,
                "sku": "SKU-1",
                "name": "Item",
                "price": Decimal(1),
                "stock_quantity": stock,
                "reorder_level": 5,
            }
        )
        (low if needs_alert and active else fine).add(email)
    with database.transaction() as session:
        session.execute(insert(Business), businesses)
        session.execute(insert(Product), products)
    return low, fine


def test_dispatch_over_1000_businesses_sends_exactly_one_alert_to_each_with_low_stock(
    fanout_celery: Celery, database: Database, smtp: SmtpServer
) -> None:
    low, fine = _seed_businesses(database)

    dispatch = run_task(fanout_celery, database, DISPATCH_LOW_STOCK_ALERTS, Dispatch())

    assert dispatch.status == TaskStatus.COMPLETED, dispatch.error
    assert dispatch.result is not None
    assert dispatch.result["queued"] >= len(low)
    assert dispatch.result["pages"] >= len(low) // PAGE_SIZE

    def delivered() -> Counter[str]:
        return Counter(
            rcpt for rcpts in list(smtp.envelopes) for rcpt in rcpts if rcpt in low or rcpt in fine
        )

    wait_for(lambda: len(delivered()) >= len(low), timeout=180, interval=0.5, what=f"{len(low)} alerts")
    smtp.settle(2)
    counts = delivered()
    assert set(counts) == low, "alerts must go to exactly the active businesses with low stock"
    assert set(counts.values()) == {1}

    # The six-hourly schedule firing again (or a manual trigger) in the same window sends nothing new.
    again = run_task(fanout_celery, database, DISPATCH_LOW_STOCK_ALERTS, Dispatch())
    assert again.status == TaskStatus.COMPLETED
    smtp.settle(5)
    assert set(delivered().values()) == {1}
