"""`make bench-tasks`: what a real notification task costs a worker process, beside a bare Celery no-op with
the same worker settings, in one run.

One worker process (`--concurrency 1`) drains a queue filled beforehand: the real task is
`notifications.send_welcome_email` (its record marked processing then completed, its dedupe key claimed,
the email rendered and sent over SMTP to a local capture), published as the API publishes it; the no-op is
`benchmarks.noop_app` on the same Celery settings. Throughput counts from the worker's first take to the
last acknowledgement. The real task runs twice per round: telemetry off, and on as the chart sets it
(traces sampled at 10%, metrics, JSON logs). Rounds alternate the three; figures are medians.
"""

from __future__ import annotations

import os
import statistics

import redis

from benchmarks import workload
from benchmarks.services import bench_services
from tasklane.celery_app import create_celery_app
from tasklane.db.engine import Database
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import fresh_broker_url, settings_from_env, tasklane_env

REAL, NOOP = int(os.environ.get("BENCH_TASKS", "500")), int(os.environ.get("BENCH_NOOPS", "3000"))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def main() -> None:
    collector = workload.null_collector()
    smtp = SmtpServer()
    smtp.start()
    rates: dict[str, list[float]] = {"noop": [], "real": [], "real+telemetry": []}
    with bench_services() as (services, _):
        services.smtp = smtp
        env = tasklane_env(services, broker_url=fresh_broker_url(services), TASKLANE_LOG_LEVEL="WARNING")
        settings = settings_from_env(env)
        database, celery = Database(settings), create_celery_app(settings)
        broker = redis.Redis.from_url(settings.broker_url)
        try:
            for _ in range(ROUNDS):
                workload.publish_noops(celery, NOOP)
                rates["noop"].append(
                    workload.drain(broker, NOOP, lambda: workload.noop_worker(env, concurrency=1))
                )
                for name, extra in (("real", {}), ("real+telemetry", workload.telemetry(collector))):
                    workload.publish_welcomes(database, celery, workload.users(database, REAL))
                    worker_env = {**env, **extra}
                    rates[name].append(
                        workload.drain(
                            broker, REAL, lambda e=worker_env: workload.tasklane_worker(e, concurrency=1)
                        )
                    )
        finally:
            broker.close()
            celery.close()
            database.engine.dispose()
            smtp.stop()
            collector.stop()

    median = {name: statistics.median(values) for name, values in rates.items()}
    labels = {
        "noop": "bare Celery no-op",
        "real": "notifications.send_welcome_email",
        "real+telemetry": "  with telemetry (10% traced)",
    }
    cores = os.cpu_count()
    print(f"task overhead: one worker process (--concurrency 1), queue filled first, {cores} cores")
    print(f"{ROUNDS} rounds ({REAL} emails, {NOOP} no-ops each); median tasks/s per worker process\n")
    for name, values in rates.items():
        each = ", ".join(f"{v:.0f}" for v in values)
        print(f"{labels[name]:36}{median[name]:>8.0f}   (rounds: {each})")
    ratio = [r / n for r, n in zip(rates["real"], rates["noop"], strict=True)]
    cost = [t / r for t, r in zip(rates["real+telemetry"], rates["real"], strict=True)]
    print()
    for label, values in (("welcome email / no-op", ratio), ("telemetry on / off", cost)):
        rounds = ", ".join(f"{r:.2f}" for r in values)
        print(f"{label:24}{statistics.median(values):.2f} (rounds: {rounds})")
    print("\ntarget: a notification task at least 0.25x a bare no-op's throughput per worker process")


if __name__ == "__main__":
    main()
