"""Telemetry wired into Celery processes: a worker (main process and pool children) and beat.

A worker's main process forks its pool at start, so it configures tracing only once the pool is up (a
bootstep after ``Pool``), and each child configures its own after the fork (``worker_process_init``).
Logging and Sentry are set before the fork: Celery hands its logging set-up over (``setup_logging``), and
Sentry's transport restarts its thread in each child by itself.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from typing import Any

from celery import Celery, bootsteps, signals
from celery.worker import state as worker_state
from prometheus_client.registry import Collector

from tasklane.settings import Settings
from tasklane.telemetry import metrics
from tasklane.telemetry.errors import configure_sentry
from tasklane.telemetry.logs import configure_logging
from tasklane.telemetry.tracing import configure_tracing


def worker_collectors(celery: Celery, queues: Sequence[str]) -> list[Collector]:
    """``celery_worker_up``, ``celery_worker_tasks_active`` and ``celery_queue_length`` of this worker's
    queues, read at each scrape (celery-exporter's names)."""

    def queue_lengths() -> dict[tuple[str, ...], float]:
        with celery.connection_for_read() as connection:
            client = connection.default_channel.client
            return {(queue,): float(client.llen(queue)) for queue in queues}

    return [
        metrics.Scraped("celery_worker_up", "Whether the worker is up.", ("hostname",),
                        lambda: {(metrics.HOSTNAME,): 1.0}),
        metrics.Scraped("celery_worker_tasks_active", "Tasks the worker is running now.", ("hostname",),
                        lambda: {(metrics.HOSTNAME,): float(len(worker_state.active_requests))}),
        metrics.Scraped("celery_queue_length", "Messages waiting in the queue.", ("queue_name",),
                        queue_lengths),
    ]  # fmt: skip


def install_worker(celery: Celery, settings: Settings, component: str, collectors: list[Collector]) -> None:
    """Logging, Sentry and task counting now; tracing after each fork; the metrics server once the pool is
    up, serving ``collectors`` too (task modules may still add to the list until then)."""
    signals.setup_logging.connect(
        functools.partial(configure_logging, settings), weak=False, dispatch_uid="tasklane.logging"
    )
    configure_sentry(settings, component)
    metrics.count_tasks()

    def child_started(**_: Any) -> None:
        configure_tracing(settings, component)

    signals.worker_process_init.connect(child_started, weak=False, dispatch_uid="tasklane.tracing.child")

    class TelemetryStep(bootsteps.StartStopStep):  # type: ignore[misc]  # celery ships no type hints
        requires = {"celery.worker.components:Pool"}

        def start(self, worker: Any) -> None:
            configure_tracing(settings, component)  # the main process: the relay, retries it publishes
            if settings.metrics_port:
                metrics.serve(settings.metrics_port, collectors)

    celery.steps["worker"].add(TelemetryStep)


def install_beat(settings: Settings, collectors: Sequence[Collector] = ()) -> None:
    """Beat is one process that never forks: everything at ``beat_init``."""
    signals.setup_logging.connect(
        functools.partial(configure_logging, settings), weak=False, dispatch_uid="tasklane.logging"
    )

    def beat_started(**_: Any) -> None:
        configure_sentry(settings, "tasklane-beat")
        configure_tracing(settings, "tasklane-beat", instrument=("celery",))
        metrics.count_tasks()
        if settings.metrics_port:
            metrics.serve(settings.metrics_port, collectors)

    signals.beat_init.connect(beat_started, weak=False, dispatch_uid="tasklane.beat.telemetry")
