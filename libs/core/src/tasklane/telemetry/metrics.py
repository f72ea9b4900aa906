"""Prometheus metrics: what each process counts, and the one server per process group that serves them.

Task metrics use celery-exporter's names and labels (``celery_task_*_total{name, hostname, queue_name}``,
``celery_task_runtime``, ``celery_queue_length``, ``celery_worker_up``...), so its dashboards and alerts work
unchanged; they are counted where the work happens, from Celery's signals in the worker, rather than by a
separate exporter reading task events off the broker (that would need every worker to send events, an
extra deployment, and would miss what happens while it is down).

A worker's pool processes and gunicorn's workers each count in their own process, so those run in
prometheus-client's multiprocess mode: ``prepare_multiprocess`` points ``PROMETHEUS_MULTIPROC_DIR`` at a
fresh directory before the process that forks them starts, and the parent serves the sum of all of them on
``TASKLANE_METRICS_PORT`` (gunicorn's master, the worker's main process). Gauges that describe the present
(queue lengths, the outbox, payment events waiting) are read when Prometheus scrapes, by the collectors
below, not kept up to date.
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from celery import signals
from prometheus_client import REGISTRY, CollectorRegistry, Counter, Gauge, Histogram, start_http_server
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from tasklane.routing import UnroutedTaskError, queue_for
from tasklane.telemetry.multiprocess import MULTIPROC_ENV

log = logging.getLogger(__name__)
HOSTNAME = socket.gethostname()
TASK_LABELS = ("name", "hostname", "queue_name")
# Seconds: from a notification's tenth of a second to a report's minutes.
RUNTIME_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, float("inf"))


def _counter(event: str, help_text: str, extra: tuple[str, ...] = ()) -> Counter:
    return Counter(f"celery_task_{event}", help_text, [*TASK_LABELS[:2], *extra, TASK_LABELS[2]])


TASK_SENT = _counter("sent", "Task messages published.")
TASK_RECEIVED = _counter("received", "Task messages a worker received.")
TASK_STARTED = _counter("started", "Tasks a worker started.")
TASK_SUCCEEDED = _counter("succeeded", "Tasks that succeeded.")
TASK_FAILED = _counter("failed", "Tasks that failed.", ("exception",))
TASK_RETRIED = _counter("retried", "Tasks that failed and will be retried.")
TASK_REVOKED = _counter("revoked", "Tasks revoked (cancelled, or expired before they ran).")
TASK_REJECTED = _counter("rejected", "Task messages the worker rejected.")
TASK_RUNTIME = Histogram("celery_task_runtime", "Runtime of tasks that succeeded (seconds).", TASK_LABELS,
                         buckets=RUNTIME_BUCKETS)  # fmt: skip

EMAILS_SENT = Counter("tasklane_emails_sent", "Emails the SMTP relay accepted.", ["template"])
EMAILS_FAILED = Counter("tasklane_emails_failed", "Email send attempts that failed.", ["template"])
PAYMENTS_APPLIED = Counter(
    "tasklane_payments_applied", "Confirmed payments processed, by outcome.", ["outcome"]
)
CREDITS_APPLIED = Counter("tasklane_credits_applied", "Credits added to balances by paid purchases.")
REPORT_ROWS = Counter("tasklane_report_rows", "Rows written into report files.", ["report", "format"])
REPORT_BYTES = Counter("tasklane_report_bytes", "Bytes of report files stored.", ["report", "format"])
WEBHOOK_EVENTS = Counter("tasklane_webhook_events", "Webhook deliveries by outcome.", ["provider", "outcome"])
WEBHOOK_BATCH = Histogram("tasklane_webhook_batch_size", "Events stored per group commit.",
                          buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, float("inf")))  # fmt: skip
RECONCILED = Counter(
    "tasklane_reconciler_tasks",
    "Task records the reconciler acted on: published (never noted "
    "as sent), retried (due), recovered (message lost), failed (lost too often).",
    ["action"],
)
RECONCILE_BEHIND = Counter(
    "tasklane_reconciler_behind_backlog",
    "Quiet records the reconciler could not check, "
    "their queue being longer than TASKLANE_RECONCILE_SCAN_LIMIT.",
)
READINESS = Gauge("tasklane_readiness_up", "Whether the last readiness check reached each dependency.",
                  ["check"], multiprocess_mode="livemostrecent")  # fmt: skip


def mark_process_dead(pid: int) -> None:
    if os.environ.get(MULTIPROC_ENV):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]


def serve(port: int, collectors: Iterable[Collector] = ()) -> None:
    """Serve ``/metrics`` on ``port`` from a background thread: every process's counts (multiprocess mode)
    or this process's, and ``collectors`` read at each scrape."""
    if os.environ.get(MULTIPROC_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry = REGISTRY
    for collector in collectors:
        registry.register(collector)
    start_http_server(port, registry=registry)
    log.info("metrics on :%d/metrics", port)


def _queue(name: str | None) -> str:
    try:
        return queue_for(name or "")
    except UnroutedTaskError:
        return "unknown"


def _labels(name: str | None) -> dict[str, str]:
    return {"name": name or "unknown", "hostname": HOSTNAME, "queue_name": _queue(name)}


_started: dict[str, float] = {}


def _on_sent(sender: str | None = None, headers: dict[str, Any] | None = None, **_: Any) -> None:
    TASK_SENT.labels(**_labels(sender or (headers or {}).get("task"))).inc()


def _on_received(request: Any = None, **_: Any) -> None:
    TASK_RECEIVED.labels(**_labels(getattr(request, "name", None))).inc()


def _on_prerun(task_id: str, task: Any, **_: Any) -> None:
    _started[task_id] = time.monotonic()
    TASK_STARTED.labels(**_labels(task.name)).inc()


def _on_postrun(task_id: str, task: Any, state: str | None = None, **_: Any) -> None:
    started = _started.pop(task_id, None)
    if state == "SUCCESS" and started is not None:
        TASK_RUNTIME.labels(**_labels(task.name)).observe(time.monotonic() - started)


def _on_success(sender: Any = None, **_: Any) -> None:
    TASK_SUCCEEDED.labels(**_labels(getattr(sender, "name", None))).inc()


def _on_failure(sender: Any = None, exception: BaseException | None = None, **_: Any) -> None:
    labels = _labels(getattr(sender, "name", None))
    TASK_FAILED.labels(exception=type(exception).__name__ if exception else "", **labels).inc()


def _on_retry(sender: Any = None, **_: Any) -> None:
    TASK_RETRIED.labels(**_labels(getattr(sender, "name", None))).inc()


def _on_revoked(request: Any = None, **_: Any) -> None:
    TASK_REVOKED.labels(**_labels(getattr(request, "name", None))).inc()


def _on_rejected(message: Any = None, **_: Any) -> None:
    TASK_REJECTED.labels(**_labels((getattr(message, "headers", None) or {}).get("task"))).inc()


_RECEIVERS: tuple[tuple[Any, Callable[..., None]], ...] = (
    (signals.after_task_publish, _on_sent),
    (signals.task_received, _on_received),
    (signals.task_prerun, _on_prerun),
    (signals.task_postrun, _on_postrun),
    (signals.task_success, _on_success),
    (signals.task_failure, _on_failure),
    (signals.task_retry, _on_retry),
    (signals.task_revoked, _on_revoked),
    (signals.task_rejected, _on_rejected),
)


def count_tasks() -> None:
    """Count what this process publishes and, in a worker, what it receives and runs."""
    for signal, receiver in _RECEIVERS:
        signal.connect(receiver, weak=False, dispatch_uid=f"tasklane.metrics.{receiver.__name__}")


class Scraped(Collector):
    """Gauges computed when Prometheus scrapes: ``read()`` returns {labels tuple: value} per metric."""

    def __init__(
        self,
        name: str,
        help_text: str,
        labels: tuple[str, ...],
        read: Callable[[], dict[tuple[str, ...], float]],
    ) -> None:
        self._name, self._help, self._labels, self._read = name, help_text, labels, read

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(self._name, self._help, labels=list(self._labels))
        try:
            values = self._read()
        except Exception:
            # A scrape that cannot read (the database blinked) shows the gap rather than failing every
            # metric of the page.
            log.warning("could not read %s", self._name, exc_info=True)
            return
        for labels, value in values.items():
            family.add_metric(list(labels), value)
        yield family

    def describe(self) -> Iterator[GaugeMetricFamily]:
        return iter(())
