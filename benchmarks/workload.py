"""What the task benches share: users to welcome, queues filled with real or no-op tasks, and the workers
that drain them (a Tasklane worker through its entry point, or the no-op baseline of ``noop_app``)."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping

import redis
from celery import Celery
from sqlalchemy import insert

import tasklane_notifications
import tasklane_reports
from tasklane.celery_app import unacked_keys
from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.db.engine import Database
from tasklane.db.models import Business, User
from tasklane.publishing import record_task, send
from tests.harness.http_sink import HttpSink
from tests.harness.ports import free_port, wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.stack import BIN, REPO, start_worker

QUEUE = "notifications"
SERVED = {
    "notifications": tasklane_notifications.QUEUES,
    "reports": tasklane_reports.QUEUES,
}  # by each worker
NOOP_TASK = "notifications.bench_noop"  # benchmarks.noop_app's one task


def users(database: Database, count: int) -> list[uuid.UUID]:
    """``count`` new users of a new business: each a welcome email that has not been sent."""
    business, ids = uuid.uuid4(), [uuid.uuid4() for _ in range(count)]
    with database.transaction() as session:
        session.execute(
            insert(Business), [{"id": business, "name": "Bench", "owner_email": f"{business}@b.test"}]
        )
        session.execute(
            insert(User),
            [{"id": i, "business_id": business, "email": f"{i}@bench.test", "name": "Bench"} for i in ids],
        )
    return ids


def publish_welcomes(database: Database, celery: Celery, user_ids: list[uuid.UUID]) -> list[str]:
    """Welcome emails as the API publishes them: a task record each, then the message."""
    with database.transaction() as session:
        outbound = [record_task(session, SEND_WELCOME_EMAIL, SendWelcomeEmail(user_id=u), business_id=None)
                    for u in user_ids]  # fmt: skip
        session.flush()
        for task in outbound:
            send(celery, task)
    return [task.id for task in outbound]


def publish_noops(celery: Celery, count: int) -> list[str]:
    return [celery.send_task(NOOP_TASK).id for _ in range(count)]


def noop_worker(env: Mapping[str, str], *, concurrency: int) -> ManagedProcess:
    """The baseline: ``noop_app``'s worker with the arguments the harness gives a Tasklane worker."""
    argv = [
        str(BIN / "celery"), "--app", "benchmarks.noop_app", "worker", "--queues", QUEUE,
        "--concurrency", str(concurrency), "--without-gossip", "--without-mingle", "--loglevel", "WARNING",
    ]  # fmt: skip
    return ManagedProcess("bench-noop", argv, env, cwd=REPO).start()


def tasklane_worker(env: Mapping[str, str], *, concurrency: int, service: str = QUEUE) -> ManagedProcess:
    return start_worker(env, service, name=f"bench-{uuid.uuid4().hex[:6]}", concurrency=concurrency)


def drain(
    broker: redis.Redis, count: int, worker: Callable[[], ManagedProcess], *, queue: str = QUEUE
) -> float:
    """Start a worker on ``queue`` holding ``count`` messages; tasks/s from its first take to the last ack
    (the worker's unacknowledged messages are under ``unacked:<its queues>``)."""
    process = worker()
    try:
        wait_for(lambda: broker.llen(queue) < count, timeout=120, interval=0.005, what="the first take")
        started = time.monotonic()
        held = unacked_keys(SERVED[queue])["unacked_key"]
        wait_for(
            lambda: broker.llen(queue) == 0 and broker.hlen(held) == 0,
            timeout=1800,
            interval=0.005,
            what="the queue to drain",
        )
        return count / (time.monotonic() - started)
    finally:
        process.stop()


def telemetry(collector: HttpSink) -> dict[str, str]:
    """What an SRE turns on, as the chart does: traces sampled at 10% over OTLP/HTTP, metrics, JSON logs."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": collector.url,
        "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
        "OTEL_TRACES_SAMPLER_ARG": "0.1",
        "TASKLANE_METRICS_PORT": str(free_port()),
        "TASKLANE_LOG_FORMAT": "json",
    }


def null_collector() -> HttpSink:
    """An OTLP endpoint that takes each export and drops it (decoding would take the CPU being measured)."""
    return HttpSink(lambda path, headers, body: (200, b"", "application/x-protobuf")).start()
