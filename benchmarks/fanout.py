"""`make bench-fanout`: how fast one dispatch message fans out to 10,000 businesses.

Beside it, the ceiling: a bare loop of `send_task` with the ids already in memory (no database paging,
no groups). Both publish the same messages to the same Redis in the same run; the ratio is the figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
import uuid
from decimal import Decimal

import redis
from sqlalchemy import insert

from benchmarks.services import bench_services
from tasklane.contracts.notifications import SEND_LOW_STOCK_ALERT, SendLowStockAlert
from tasklane.db.engine import Database
from tasklane.db.models import Business, Product
from tests.harness.stack import Services, tasklane_env


def seed(database: Database, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    with database.transaction() as session:
        owners = [{"id": i, "name": f"B{n}", "owner_email": f"b{n}@bench.test"} for n, i in enumerate(ids)]
        session.execute(insert(Business), owners)
        session.execute(
            insert(Product),
            [
                {"business_id": i, "sku": "S", "name": "Item", "price": Decimal(1), "stock_quantity": 1,
                 "reorder_level": 5}
                for i in ids
            ],
        )  # fmt: skip
    return ids


def run(businesses: int, repeats: int, services: Services) -> None:
    # The dispatcher as the notifications worker has it: its app boots from the environment.
    os.environ.update(tasklane_env(services))
    from tasklane_notifications.app import runtime
    from tasklane_notifications.tasks.dispatch import fan_out

    settings = runtime.settings
    ids = seed(runtime.database, businesses)
    broker = redis.Redis.from_url(settings.broker_url)

    def dispatcher() -> int:
        return fan_out(SEND_LOW_STOCK_ALERT, lambda b: SendLowStockAlert(business_id=b))["queued"]

    def bare_loop() -> int:
        for business_id in ids:
            runtime.celery.send_task(
                SEND_LOW_STOCK_ALERT.name,
                kwargs=SEND_LOW_STOCK_ALERT.message_kwargs(SendLowStockAlert(business_id=business_id)),
                ignore_result=True,
            )
        return len(ids)

    timings: dict[str, list[float]] = {"dispatcher": [], "bare send_task loop": []}
    for _ in range(repeats):
        for name, publish in (("dispatcher", dispatcher), ("bare send_task loop", bare_loop)):
            broker.delete("notifications")
            started = time.perf_counter()
            sent = publish()
            timings[name].append(time.perf_counter() - started)
            queued = broker.llen("notifications")
            if sent != businesses or queued != businesses:
                raise SystemExit(f"{name} published {sent}, the queue holds {queued}; expected {businesses}")

    page = settings.dispatch_page_size
    print(f"fan-out of {businesses:,} businesses, page size {page}, median of {repeats} runs")
    print(f"{'':24}{'seconds':>10}{'messages/s':>14}")
    medians = {name: statistics.median(values) for name, values in timings.items()}
    for name, seconds in medians.items():
        print(f"{name:24}{seconds:>10.2f}{businesses / seconds:>14,.0f}")
    ratio = medians["dispatcher"] / medians["bare send_task loop"]
    print(f"dispatcher / ceiling: {ratio:.2f}x the bare loop's time ({1 / ratio:.0%} of its enqueue rate)")
    runtime.celery.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--businesses", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    with bench_services() as (services, _):
        run(args.businesses, args.repeats, services)


if __name__ == "__main__":
    main()
