"""What every worker service shares: its runtime (app, database, task records) and its launcher."""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from celery import Celery, Task, signals
from celery.exceptions import Ignore
from pydantic import ValidationError

from tasklane.celery_app import create_celery_app
from tasklane.contracts import Payload, TaskContract
from tasklane.db.engine import Database
from tasklane.errors import InvalidPayload, PermanentTaskError
from tasklane.settings import ConfigurationError, Settings, load_settings
from tasklane.task_events import TaskEventPublisher
from tasklane.task_records import TaskRecords

P = TypeVar("P", bound=Payload)


def _validation_summary(error: ValidationError) -> str:
    return "; ".join(
        f"{'.'.join(str(part) for part in item['loc']) or 'payload'}: {item['msg']}"
        for item in error.errors()
    )


class WorkerRuntime:
    """One worker service's Celery app, database and task-record tracking, built from settings."""

    def __init__(self, settings: Settings, *, name: str) -> None:
        self.settings = settings
        self.celery: Celery = create_celery_app(settings, name=f"tasklane-{name}")
        self.database = Database(settings)
        self.records = TaskRecords(self.database, TaskEventPublisher(settings.broker_url))
        self.records.connect()
        signals.worker_process_init.connect(
            self._after_fork, weak=False, dispatch_uid=f"tasklane.{name}.fork"
        )

    def _after_fork(self, **_: Any) -> None:
        self.database.after_fork()

    def task(self, contract: TaskContract[P], **options: Any) -> Callable[[Callable[[Task, P], Any]], Task]:
        """Register ``fn(task, payload)`` as the worker for ``contract``.

        The message's keyword arguments are validated against the contract's payload model again on
        receipt; a message that does not match fails at once, without retries.
        """

        runtime = self

        def decorate(fn: Callable[[Task, P], Any]) -> Task:
            @functools.wraps(fn)
            def run(self: Task, **kwargs: Any) -> Any:
                if runtime.records.is_cancelled(self.request.id):
                    # Cancelled while queued: revocations live in worker memory, the record survives restarts.
                    raise Ignore()
                try:
                    payload = contract.validate(kwargs)
                except ValidationError as exc:
                    raise InvalidPayload(
                        f"invalid {contract.name} message: {_validation_summary(exc)}"
                    ) from None
                return fn(self, payload)

            options.setdefault("throws", (PermanentTaskError,))
            return self.celery.task(name=contract.name, bind=True, **options)(run)

        return decorate

    def report_progress(self, task: Task, percent: int) -> None:
        self.records.report_progress(task.request.id, percent)


def run_worker(app_path: str, queues: Sequence[str], argv: Sequence[str] | None = None) -> None:
    """Replace this process with ``celery worker`` for ``queues``, configured from settings.

    Extra arguments are passed to ``celery worker`` after the defaults, so they win. SIGTERM is remapped
    to Celery's cold shutdown, which with ``worker_soft_shutdown_timeout`` first gives running tasks that
    long to finish and then returns unfinished ones to the queue.
    """
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        sys.exit(f"tasklane worker: {exc}")
    args = [
        sys.executable, "-m", "celery", "--app", app_path, "worker",
        "--queues", ",".join(queues),
        "--hostname", f"{queues[0]}@%h",
        "--loglevel", settings.log_level,
    ]  # fmt: skip
    if settings.worker_concurrency:
        args += ["--concurrency", str(settings.worker_concurrency)]
    args += list(sys.argv[1:] if argv is None else argv)
    os.environ["REMAP_SIGTERM"] = "SIGQUIT"
    os.execv(sys.executable, args)  # noqa: S606  (become the worker: signals go straight to Celery)
