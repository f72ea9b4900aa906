"""Keeping task records current from the worker, wired once for every worker service.

A task's start and its success are written by the task itself (``WorkerRuntime.task``), before its message
is acknowledged: if PostgreSQL cannot take the write, the task retries instead of being acknowledged with
a record that lies. The other transitions come from Celery's signals and are best effort (a failure to
write them is logged): a retry is re-recorded when the retry starts, and a failure that could not be
recorded leaves the record unfinished with no message behind it, which the reconciler publishes again.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tasklane.cancellation import TaskCancelled
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.errors import describe_failure
from tasklane.publishing import record_start
from tasklane.task_events import TaskEventPublisher
from tasklane.telemetry.tracing import current_traceparent

log = logging.getLogger(__name__)


def business_id_of(kwargs: dict[str, Any] | None) -> uuid.UUID | None:
    value = (kwargs or {}).get("business_id")
    try:
        return uuid.UUID(str(value)) if value else None
    except ValueError:
        return None


def _json_result(value: Any) -> dict[str, Any] | None:
    if value is None:
        return None
    return value if isinstance(value, dict) else {"value": value}


class TaskRecords:
    """The task-record side of a worker process."""

    def __init__(self, database: Database, events: TaskEventPublisher | None = None) -> None:
        self.database = database
        self.events = events

    def connect(self) -> None:
        """Subscribe to Celery's task signals (idempotent)."""
        uid = f"tasklane.task_records.{id(self)}"
        signals.task_retry.connect(self._on_retry, weak=False, dispatch_uid=f"{uid}.retry")
        signals.task_failure.connect(self._on_failure, weak=False, dispatch_uid=f"{uid}.failure")
        signals.task_revoked.connect(self._on_revoked, weak=False, dispatch_uid=f"{uid}.revoked")

    def start(self, *, task_id: str, name: str, queue: str, kwargs: dict[str, Any]) -> bool:
        """Mark the task ``processing`` and count the attempt; False if it was cancelled meanwhile.

        A task published without a record (by beat, or another worker) gets one here. Database errors
        propagate: the caller retries rather than run work it cannot account for.
        """
        business_id = business_id_of(kwargs)
        try:
            with self.database.transaction() as session:
                return record_start(
                    session,
                    task_id,
                    name,
                    queue,
                    kwargs,
                    business_id=business_id,
                    traceparent=current_traceparent(),
                )
        except IntegrityError:
            # The message names a business that does not exist: record the task without a tenant, so
            # its failure is still visible.
            with self.database.transaction() as session:
                return record_start(
                    session, task_id, name, queue, kwargs, business_id=None, traceparent=current_traceparent()
                )

    def complete(self, task_id: str, result: Any) -> None:
        """Record the task's success (raises on a database error: the task retries, it is idempotent)."""
        self._set(task_id, status=TaskStatus.COMPLETED, progress=100, result=_json_result(result), error=None)
        self._finished(task_id, TaskStatus.COMPLETED)

    def defer(self, task_id: str, *, retries: int, due: datetime, reason: BaseException | None) -> None:
        """Leave a retry to the record: ``retrying`` until ``due``, when the reconciler publishes it."""
        self._set(
            task_id,
            status=TaskStatus.RETRYING,
            retries=retries,
            next_attempt_at=due,
            error=describe_failure(reason) if reason else None,
        )

    def report_progress(self, task_id: str, percent: int) -> None:
        """Raise a running task's progress (0-100); progress never moves backwards."""
        percent = max(0, min(100, int(percent)))
        self._best_effort(
            lambda s: s.execute(
                update(TaskRecord)
                .where(TaskRecord.id == task_id, TaskRecord.progress < percent)
                .values(progress=percent, updated_at=utcnow())
            )
        )

    def _best_effort(self, work: Callable[[Session], object]) -> None:
        try:
            with self.database.transaction() as session:
                work(session)
        except (SoftTimeLimitExceeded, TaskCancelled):
            # The time limit's or a cancel's interrupt can land while progress is being written;
            # swallowing it here would let the task run on.
            raise
        except Exception:
            log.exception("could not update a task record")

    def _on_retry(self, request: Any, reason: Any = None, **_: Any) -> None:
        when = getattr(reason, "when", None)
        due = (
            utcnow() + timedelta(seconds=float(when))
            if isinstance(when, int | float)
            else when
            if isinstance(when, datetime)
            else None
        )
        values = {
            "status": TaskStatus.RETRYING,
            "retries": (request.retries or 0) + 1,
            "next_attempt_at": due,
            "error": describe_failure(reason.exc) if getattr(reason, "exc", None) else None,
        }
        self._best_effort(lambda s: s.execute(self._update(request.id, values)))

    def _on_failure(self, task_id: str, exception: BaseException, **_: Any) -> None:
        self._best_effort(
            lambda s: s.execute(
                self._update(
                    task_id,
                    {
                        "status": TaskStatus.FAILED,
                        "error": describe_failure(exception),
                        "finished_at": utcnow(),
                    },
                )
            )
        )
        self._finished(task_id, TaskStatus.FAILED)

    def _on_revoked(self, request: Any, expired: bool = False, **_: Any) -> None:
        reason = "expired before a worker could run it" if expired else "cancelled"
        values = {"status": TaskStatus.CANCELLED, "error": reason, "finished_at": utcnow()}
        self._best_effort(lambda s: s.execute(self._update(request.id, values)))
        self._finished(request.id, TaskStatus.CANCELLED)

    def _set(self, task_id: str, **values: Any) -> None:
        if values["status"] in (TaskStatus.COMPLETED, TaskStatus.FAILED):
            values["finished_at"] = utcnow()
        with self.database.transaction() as session:
            session.execute(self._update(task_id, values))

    @staticmethod
    def _update(task_id: str, values: dict[str, Any]) -> Any:
        return (
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.status != TaskStatus.CANCELLED)
            .values(**values, updated_at=utcnow())
        )

    def _finished(self, task_id: str | None, status: TaskStatus) -> None:
        if task_id and self.events is not None:
            self.events.finished(task_id, status)
