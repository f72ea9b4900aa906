"""What every worker service shares: its runtime (app, database, task records) and its launcher."""

from __future__ import annotations

import argparse
import functools
import importlib
import logging
import os
import pkgutil
import random
import sys
import threading
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Generic, TypeVar

from celery import Celery, Task, bootsteps, signals
from celery.exceptions import Ignore, Retry
from prometheus_client.registry import Collector
from pydantic import ValidationError

from tasklane import cancellation
from tasklane.celery_app import create_celery_app
from tasklane.contracts import Payload, TaskContract
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.errors import InvalidPayload, PermanentTaskError, describe_failure
from tasklane.outages import EffectNotRecorded, is_outage
from tasklane.settings import ConfigurationError, Settings, load_settings
from tasklane.task_events import TaskEventPublisher
from tasklane.task_records import TaskRecords, business_id_of
from tasklane.telemetry import context, errors, multiprocess
from tasklane.telemetry.processes import install_worker, worker_collectors

P = TypeVar("P", bound=Payload)
S = TypeVar("S", bound=Settings)
log = logging.getLogger(__name__)


def _validation_summary(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'payload'}: {item['msg']}"
        for item in error.errors()
    )


HEARTBEAT_INTERVAL = 5.0


class Heartbeat:
    """Touches ``path`` every few seconds from a thread of the worker's main process.

    Liveness must stay local: a broker or database outage must not look like a dead worker, or every
    worker restarts at once and the outage gets longer. This only proves the process is alive and its
    interpreter is not wedged.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        while not self._stop.is_set():
            self.path.touch()
            self._stop.wait(HEARTBEAT_INTERVAL)

    def start(self) -> None:
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="tasklane-heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=HEARTBEAT_INTERVAL)
        self.path.unlink(missing_ok=True)


def heartbeat_bootstep(heartbeat: Heartbeat) -> type[bootsteps.StartStopStep]:
    """A worker bootstep beating ``heartbeat`` once the pool has forked its children."""

    class HeartbeatStep(bootsteps.StartStopStep):  # type: ignore[misc]  # celery ships no type hints
        requires = {"celery.worker.components:Pool"}

        def start(self, worker: Any) -> None:
            heartbeat.start()

        def stop(self, worker: Any) -> None:
            heartbeat.stop()

        terminate = stop  # a cold shutdown (SIGTERM, remapped) terminates steps instead of stopping them

    return HeartbeatStep


OUTAGE_ATTEMPT = "tasklane-outage-attempt"  # message header: outage retries so far
DONE = "tasklane-done"  # message header: effects an earlier attempt completed but could not record


class TasklaneTask(Task):  # type: ignore[misc]  # celery ships no type hints
    """Every Tasklane task: a retry that would hold its message longer than ``worker_retry_hold`` is left to
    the task record instead.

    Redis redelivers a message its worker has held for the visibility timeout, and that timeout must
    outlast every hold; so a long wait (an email backing off for minutes) is not held at all. The record
    says ``retrying`` with ``next_attempt_at``, the message is acknowledged, and the reconciler publishes
    the task again when it is due, with its retry count, so the visibility timeout (and how soon a killed
    worker's messages come back) stays short.
    """

    runtime: WorkerRuntime[Any]

    def retry(  # noqa: PLR0917  (Celery's own signature)
        self,
        args: Any = None,
        kwargs: Any = None,
        exc: BaseException | None = None,
        throw: bool = True,
        eta: datetime | None = None,
        countdown: float | None = None,
        max_retries: int | None = None,
        **options: Any,
    ) -> Any:
        delay = countdown if countdown is not None else (eta - utcnow()).total_seconds() if eta else None
        limit = self.max_retries if max_retries is None else max_retries
        retries = self.request.retries + 1
        if (
            delay is None
            or delay <= self.runtime.settings.worker_retry_hold
            or self.request.called_directly
            or (limit is not None and retries > limit)  # out of retries: Celery raises, nothing to defer
        ):
            return super().retry(args, kwargs, exc, throw, eta, countdown, max_retries, **options)
        try:
            self.runtime.records.defer(
                self.request.id, retries=retries, due=utcnow() + timedelta(seconds=delay), reason=exc
            )
        except Exception as error:
            if not is_outage(error):
                raise
            # No database to defer to: wait as long as a worker may hold the message, then try again.
            return super().retry(
                args,
                kwargs,
                exc,
                throw,
                None,
                self.runtime.settings.worker_retry_hold,
                max_retries,
                **options,
            )
        raise Ignore()  # acknowledged; the record, not the message, now waits for the retry


class WorkerRuntime(Generic[S]):
    """One worker process's Celery app, database and task-record tracking, built from its settings.

    ``queues`` are the service's own; ``TASKLANE_WORKER_QUEUES`` (set by the chart per worker set, or from
    ``--queues`` by ``run_worker``) narrows or moves them, and they decide the broker's redelivery keys and
    visibility timeout. Each worker service's app module ``boot``s one, then ``discover``s its task modules,
    which register their tasks on it with ``@runtime.task(CONTRACT)``.
    """

    def __init__(self, settings: S, *, name: str, queues: Sequence[str]) -> None:
        self.settings = settings
        self.queues = tuple(settings.worker_queues or queues)
        self.component = f"tasklane-worker-{name}"
        self.celery: Celery = create_celery_app(settings, name=f"tasklane-{name}", queues=self.queues)
        self.celery.steps["worker"].add(heartbeat_bootstep(Heartbeat(settings.worker_heartbeat_file)))
        # Gauges read at each scrape; task modules add their own before the worker starts serving them.
        self.collectors: list[Collector] = worker_collectors(self.celery, self.queues)
        install_worker(self.celery, settings, self.component, self.collectors)
        self.database = Database(settings)
        events = TaskEventPublisher(settings.broker_url, settings.redis_sentinel_master)
        self.records = TaskRecords(self.database, events)
        self.records.connect()
        signals.worker_process_init.connect(
            self._after_fork, weak=False, dispatch_uid=f"tasklane.{name}.fork"
        )

    def _after_fork(self, **_: Any) -> None:
        self.database.after_fork()
        cancellation.install()

    def discover(self, *packages: str) -> None:
        """Import every module of ``packages``, so the tasks they declare register on this runtime."""
        for name in packages:
            package = importlib.import_module(name)
            for module in pkgutil.walk_packages(getattr(package, "__path__", []), prefix=f"{name}."):
                importlib.import_module(module.name)

    def task(self, contract: TaskContract[P], **options: Any) -> Callable[[Callable[[Task, P], Any]], Task]:
        """Register ``fn(task, payload)`` as the worker for ``contract``.

        Around ``fn``: the record is marked ``processing`` before it runs and ``completed`` after it
        returns, both before the message is acknowledged; the message's keyword arguments are validated
        against the contract again (a message that does not match fails at once, without retries); and
        an outage (PostgreSQL or Redis out of reach) at any of these steps retries the task with backoff
        instead of ending it.
        """

        runtime = self

        def decorate(fn: Callable[[Task, P], Any]) -> Task:
            @functools.wraps(fn)
            def run(self: Task, **kwargs: Any) -> Any:
                tenant = business_id_of(kwargs)
                errors.tag_task(self.request.id, tenant)
                with context.tenant_scope(tenant):
                    return runtime._run(self, contract, fn, kwargs)

            options.setdefault("throws", (PermanentTaskError, cancellation.TaskCancelled))
            return self.celery.task(
                name=contract.name, bind=True, base=TasklaneTask, runtime=self, **options
            )(run)

        return decorate

    def _run(self, task: Task, contract: TaskContract[P], fn: Callable[[Task, P], Any], kwargs: Any) -> Any:
        try:
            started = self.records.start(
                task_id=task.request.id, name=contract.name, queue=contract.queue, kwargs=kwargs
            )
            if not started:
                # Cancelled while queued: revocations live in worker memory, the record survives.
                raise Ignore()
            try:
                payload = contract.validate(kwargs)
            except ValidationError as exc:
                raise InvalidPayload(f"invalid {contract.name} message: {_validation_summary(exc)}") from None
            result = fn(task, payload)
            self.records.complete(task.request.id, result)
        except EffectNotRecorded as exc:
            raise self.retry_after_outage(task, exc.outage, done=exc.done) from exc
        except Exception as exc:
            if not is_outage(exc):
                raise
            raise self.retry_after_outage(task, exc) from exc
        return result

    def retry_after_outage(self, task: Task, exc: BaseException, *, done: str | None = None) -> Retry:
        """Publish ``task`` again after a backoff (1 s doubling, capped at ``worker_retry_hold``) and return
        the ``Retry`` to raise; re-raise ``exc`` once ``task_outage_retries`` are spent.

        These retries are counted apart from the task's own (a message header), so an outage does not use
        up the retries an email keeps for its relay. ``done`` names an effect this attempt completed but
        could not record; the retry carries it (``already_done``).
        """
        headers = dict(task.request.headers or {})
        if done is not None:
            headers[DONE] = [*headers.get(DONE, []), done]
        attempt = int(headers.get(OUTAGE_ATTEMPT) or 0)
        if attempt >= self.settings.task_outage_retries:
            raise exc
        countdown = min(2.0**attempt, self.settings.worker_retry_hold) * random.uniform(0.5, 1)  # noqa: S311
        log.warning(
            "%s[%s]: %s; retrying in %.1fs (outage retry %d of %d)",
            task.name, task.request.id, describe_failure(exc), countdown, attempt + 1,
            self.settings.task_outage_retries,
        )  # fmt: skip
        retry = task.signature_from_request(
            task.request, countdown=countdown, headers={**headers, OUTAGE_ATTEMPT: attempt + 1}
        )
        retry.apply_async()
        return Retry(exc=exc, when=countdown, sig=retry)

    @staticmethod
    def already_done(task: Task, effect: str) -> bool:
        """Whether an earlier attempt of ``task`` completed ``effect`` but could not record it."""
        return effect in (task.request.headers or {}).get(DONE, [])

    def report_progress(self, task: Task, percent: int) -> None:
        self.records.report_progress(task.request.id, percent)


_booted: WorkerRuntime[Any] | None = None


def boot(settings_class: type[S], *, name: str, queues: Sequence[str]) -> WorkerRuntime[S]:
    """Build this process's worker runtime from the environment; a worker service's app module calls it
    once, before it discovers its task modules."""
    global _booted  # noqa: PLW0603  (one runtime per worker process, like Celery's own current app)
    if _booted is not None:
        raise RuntimeError(f"a worker runtime is already booted in this process ({_booted.celery.main})")
    try:
        settings = load_settings(settings_class)
    except ConfigurationError as exc:
        sys.exit(f"tasklane worker: {exc}")
    runtime = WorkerRuntime(settings, name=name, queues=queues)
    _booted = runtime
    return runtime


def current_runtime(settings_class: type[S]) -> WorkerRuntime[S]:
    """The runtime this process booted, for a task module to register its tasks on; ``settings_class`` is
    what the module reads of its settings, and the booted runtime must have loaded at least that."""
    if _booted is None:
        raise RuntimeError("no worker runtime booted: import task modules through a worker's app module")
    if not isinstance(_booted.settings, settings_class):
        raise TypeError(
            f"the booted runtime loaded {type(_booted.settings).__name__}, but this module needs "
            f"{settings_class.__name__}"
        )
    runtime: WorkerRuntime[S] = _booted
    return runtime


def _take_queues(args: list[str]) -> tuple[list[str] | None, list[str]]:
    """Split ``-Q/--queues`` (in any of celery's spellings) from the other worker arguments."""
    parser = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    parser.add_argument("-Q", "--queues")
    known, rest = parser.parse_known_args(args)
    return (known.queues.split(",") if known.queues else None), rest


def run_worker(app_path: str, queues: Sequence[str], argv: Sequence[str] | None = None) -> None:
    """Replace this process with ``celery worker`` for ``queues``, configured from settings.

    The queues come from ``-Q/--queues`` on the command line, else ``TASKLANE_WORKER_QUEUES``, else the
    service's own; they are handed to the app through ``TASKLANE_WORKER_QUEUES`` so the broker keys and
    visibility timeout match what is consumed. Other arguments are passed to ``celery worker`` after the
    defaults, so they win. SIGTERM is remapped to Celery's cold shutdown, which with
    ``worker_soft_shutdown_timeout`` first gives running tasks that long to finish and then returns
    unfinished ones to the queue.
    """
    given, extra = _take_queues(list(sys.argv[1:] if argv is None else argv))
    if given is not None:
        os.environ["TASKLANE_WORKER_QUEUES"] = ",".join(given)
    try:
        settings = load_settings(Settings)
    except ConfigurationError as exc:
        sys.exit(f"tasklane worker: {exc}")
    consumed = list(settings.worker_queues or queues)
    os.environ["TASKLANE_WORKER_QUEUES"] = ",".join(consumed)
    multiprocess.prepare(settings)  # before celery starts and forks its pool
    args = [
        sys.executable, "-m", "celery", "--app", app_path, "worker",
        "--queues", ",".join(consumed),
        "--hostname", f"{consumed[0]}@%h",
        "--loglevel", settings.log_level,
    ]  # fmt: skip
    if settings.worker_concurrency:
        args += ["--concurrency", str(settings.worker_concurrency)]
    args += extra
    os.environ["REMAP_SIGTERM"] = "SIGQUIT"
    os.execv(sys.executable, args)  # noqa: S606  (become the worker: signals go straight to Celery)
