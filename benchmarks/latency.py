"""`make bench-latency`: how long a task waits before a worker starts it, and until it is done, with the
queue idle and at 50% and 90% of its measured capacity, for the notifications and reports queues, beside a
bare `send_task` -> no-op round trip on the same Celery settings, in one run.

Each kind gets one worker with two processes (the chart's default per worker set). Its capacity is measured
first (a filled queue drained, as `make bench-tasks` does); then, after ten warm-up tasks, an open-loop
publisher sends tasks at a fixed rate for a while and each task's times are read back: for Tasklane's tasks
from their records (`started_at`, `finished_at`; a task counts from just before `enqueue` commits its record
and publishes it, as the API does), for the no-op from what `benchmarks.noop_app` notes in Redis. Idle is
one task every half second. Times are this machine's clock throughout; the publisher shares its 2 cores.
"""

from __future__ import annotations

import os
import statistics
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta

import redis
from celery import Celery
from sqlalchemy import select

from benchmarks import workload
from benchmarks.services import bench_services
from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.contracts.reports import GENERATE_SALES_REPORT, GenerateSalesReport
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord
from tasklane.publishing import enqueue
from tests.harness.ports import wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import fresh_broker_url, settings_from_env, tasklane_env
from tools.demo_data import DemoSpec, generate

SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
CONCURRENCY = 2
LOADS = (("idle", None), ("50%", 0.5), ("90%", 0.9))


@dataclass
class Kind:
    label: str
    queue: str
    worker: Callable[[], ManagedProcess]
    publish: Callable[[], tuple[str, float]]  # one task: its id, and when it was handed over
    times: Callable[[list[str]], dict[str, tuple[float, float]]]  # id -> (started, finished), when known
    prefill: Callable[[int], None]


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * share))]


def record_times(database: Database) -> Callable[[list[str]], dict[str, tuple[float, float]]]:
    def read(ids: list[str]) -> dict[str, tuple[float, float]]:
        with database.session() as session:
            rows = session.execute(
                select(TaskRecord.id, TaskRecord.started_at, TaskRecord.finished_at).where(
                    TaskRecord.id.in_(ids)
                )
            ).all()
        return {i: (s.timestamp(), f.timestamp()) for i, s, f in rows if s and f}

    return read


def noop_times(broker: redis.Redis) -> Callable[[list[str]], dict[str, tuple[float, float]]]:
    def read(ids: list[str]) -> dict[str, tuple[float, float]]:
        started, finished = broker.hmget("bench:noop:started", ids), broker.hmget("bench:noop:finished", ids)
        return {i: (float(s), float(f)) for i, s, f in zip(ids, started, finished, strict=True) if s and f}

    return read


def run_at(kind: Kind, rate: float, seconds: float) -> tuple[list[float], list[float], float]:
    """Publish at ``rate`` for ``seconds`` (open loop); (waits to start, waits to finish, achieved rate)."""
    published: list[tuple[str, float]] = []
    count = max(1, int(rate * seconds))
    start = time.monotonic()
    for i in range(count):
        time.sleep(max(0.0, start + i / rate - time.monotonic()))
        published.append(kind.publish())
    achieved = count / (time.monotonic() - start) if count > 1 else rate
    ids = [task_id for task_id, _ in published]
    done = wait_for(lambda: len(found := kind.times(ids)) == len(ids) and found, timeout=600, interval=0.2)
    waits = [(done[i][0] - at, done[i][1] - at) for i, at in published]
    return [w[0] * 1000 for w in waits], [w[1] * 1000 for w in waits], achieved


def main() -> None:
    smtp = SmtpServer()
    smtp.start()
    results: dict[str, dict[str, tuple[list[float], list[float], float]]] = {}
    capacities: dict[str, float] = {}
    with bench_services() as (services, _):
        services.smtp = smtp
        env = tasklane_env(services, broker_url=fresh_broker_url(services), TASKLANE_LOG_LEVEL="WARNING")
        settings = settings_from_env(env)
        database, celery = Database(settings), create_celery_app(settings)
        broker = redis.Redis.from_url(settings.broker_url)
        shop = generate(database, DemoSpec(products=30, customers=30, sales=300, users=1, days=30, seed=3))[0]
        try:
            for kind in kinds(env, database, celery, broker, shop.business_id):
                sample = 600 if kind.queue == "notifications" else 60
                kind.prefill(sample)
                capacities[kind.label] = workload.drain(broker, sample, kind.worker, queue=kind.queue)
                worker = kind.worker()
                try:
                    run_at(kind, 5.0, 2.0)  # warm-up, not measured: the pool's first connections and imports
                    results[kind.label] = {
                        load: run_at(kind, 2.0 if share is None else share * capacities[kind.label], SECONDS)
                        for load, share in LOADS
                    }
                finally:
                    worker.stop()
        finally:
            broker.close()
            celery.close()
            database.engine.dispose()
            smtp.stop()

    print(f"queue latency, one worker of {CONCURRENCY} processes per kind, {os.cpu_count()} cores; ms")
    print(f"{SECONDS:.0f} s of open-loop publishing per load (idle: 2 tasks/s)\n")
    header = (
        f"{'capacity/s':>11}{'load':>6}{'sent/s':>8}{'start p50':>10}{'p99':>8}{'done p50':>10}{'p99':>8}"
    )
    print(f"{'':42}{header}")
    for label, loads in results.items():
        for load, (starts, dones, achieved) in loads.items():
            print(
                f"{label:42}{capacities[label]:>11.0f}{load:>6}{achieved:>8.1f}"
                f"{statistics.median(starts):>10.1f}{percentile(starts, 0.99):>8.1f}"
                f"{statistics.median(dones):>10.1f}{percentile(dones, 0.99):>8.1f}"
            )
    print("\ntargets: enqueue->started p99 under 25 ms idle and under 250 ms at 50% of capacity")


def kinds(
    env: dict[str, str], database: Database, celery: Celery, broker: redis.Redis, business_id: uuid.UUID
) -> list[Kind]:
    pool: list[uuid.UUID] = []

    def welcome() -> tuple[str, float]:
        if not pool:
            pool.extend(workload.users(database, 500))  # users to welcome, made ahead in batches
        payload = SendWelcomeEmail(user_id=pool.pop())
        at = time.time()
        with database.session() as session:
            return enqueue(session, celery, SEND_WELCOME_EMAIL, payload, business_id=None).id, at

    def report() -> tuple[str, float]:
        end = date.today()
        payload = GenerateSalesReport(
            business_id=business_id, start_date=end - timedelta(days=1), end_date=end, format="csv"
        )
        at = time.time()
        with database.session() as session:
            return enqueue(session, celery, GENERATE_SALES_REPORT, payload, business_id=business_id).id, at

    def noop() -> tuple[str, float]:
        at = time.time()
        return celery.send_task(workload.NOOP_TASK).id, at

    def reports(count: int) -> None:
        for _ in range(count):
            report()

    noop_env = {**env, "BENCH_NOOP_TIMES": "1"}
    return [
        Kind(
            "bare send_task -> no-op",
            "notifications",
            lambda: workload.noop_worker(noop_env, concurrency=CONCURRENCY),
            noop,
            noop_times(broker),
            lambda n: workload.publish_noops(celery, n),
        ),
        Kind(
            "notifications.send_welcome_email",
            "notifications",
            lambda: workload.tasklane_worker(env, concurrency=CONCURRENCY),
            welcome,
            record_times(database),
            lambda n: workload.publish_welcomes(database, celery, workload.users(database, n)),
        ),
        Kind(
            "reports.generate_sales_report (CSV, a day)",
            "reports",
            lambda: workload.tasklane_worker(env, concurrency=CONCURRENCY, service="reports"),
            report,
            record_times(database),
            reports,
        ),
    ]


if __name__ == "__main__":
    main()
