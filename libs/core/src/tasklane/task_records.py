"""Keeping task records current from Celery's signals, wired once for every worker.

Each handler is one short UPDATE (or upsert) in its own transaction. A failure to write a record is
logged and never fails the task itself: the work matters more than its bookkeeping.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from typing import Any

from celery import signals
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.errors import describe_failure
from tasklane.routing import UnroutedTaskError, queue_for
from tasklane.task_events import TaskEventPublisher

log = logging.getLogger(__name__)


def _business_id(kwargs: dict[str, Any] | None) -> uuid.UUID | None:
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
        signals.task_prerun.connect(self._on_prerun, weak=False, dispatch_uid=f"{uid}.prerun")
        signals.task_retry.connect(self._on_retry, weak=False, dispatch_uid=f"{uid}.retry")
        signals.task_success.connect(self._on_success, weak=False, dispatch_uid=f"{uid}.success")
        signals.task_failure.connect(self._on_failure, weak=False, dispatch_uid=f"{uid}.failure")
        signals.task_revoked.connect(self._on_revoked, weak=False, dispatch_uid=f"{uid}.revoked")

    def is_cancelled(self, task_id: str) -> bool:
        with self.database.session() as session:
            status = session.scalar(select(TaskRecord.status).where(TaskRecord.id == task_id))
        return status == TaskStatus.CANCELLED

    def report_progress(self, task_id: str, percent: int) -> None:
        """Raise a running task's progress (0-100); progress never moves backwards."""
        percent = max(0, min(100, int(percent)))
        self._write(
            lambda s: s.execute(
                update(TaskRecord)
                .where(TaskRecord.id == task_id, TaskRecord.progress < percent)
                .values(progress=percent, updated_at=utcnow())
            )
        )

    def _write(self, work: Callable[[Session], object]) -> None:
        try:
            with self.database.transaction() as session:
                work(session)
        except SoftTimeLimitExceeded:
            # The time limit's interrupt can land while progress is being written; swallowing it here
            # would let the task run on past its limit.
            raise
        except Exception:
            log.exception("could not update a task record")

    def _on_prerun(self, task_id: str, task: Any, kwargs: dict[str, Any] | None = None, **_: Any) -> None:
        try:
            queue = queue_for(task.name)
        except UnroutedTaskError:
            return  # Celery's own helpers (chord_unlock...) are not Tasklane tasks
        business_id = _business_id(kwargs)
        try:
            with self.database.transaction() as session:
                self._upsert_processing(
                    session,
                    task_id=task_id,
                    name=task.name,
                    queue=queue,
                    kwargs=kwargs,
                    business_id=business_id,
                )
        except IntegrityError:
            # The message names a business that does not exist: record the task without a tenant, so
            # its failure is still visible.
            self._write(
                lambda s: self._upsert_processing(
                    s, task_id=task_id, name=task.name, queue=queue, kwargs=kwargs, business_id=None
                )
            )
        except Exception:
            log.exception("could not update a task record")

    def _upsert_processing(
        self,
        session: Session,
        *,
        task_id: str,
        name: str,
        queue: str,
        kwargs: dict[str, Any] | None,
        business_id: uuid.UUID | None,
    ) -> None:
        now = utcnow()
        insert = (postgresql.insert if self.database.is_postgresql else sqlite.insert)(TaskRecord).values(
            id=task_id,
            business_id=business_id,
            name=name,
            queue=queue,
            status=TaskStatus.PROCESSING,
            progress=0,
            kwargs=kwargs or None,
            attempts=1,
            created_at=now,
            updated_at=now,
            started_at=now,
            dispatched_at=now,
        )
        # A task published by a worker or beat has no record yet; a redelivered one counts another attempt.
        # A cancelled record stays cancelled.
        session.execute(
            insert.on_conflict_do_update(
                index_elements=[TaskRecord.id],
                set_={
                    "status": TaskStatus.PROCESSING,
                    "attempts": TaskRecord.attempts + 1,
                    "started_at": now,
                    "updated_at": now,
                },
                where=TaskRecord.status != TaskStatus.CANCELLED,
            )
        )

    def _on_retry(self, request: Any, reason: Any = None, **_: Any) -> None:
        self._set(request.id, status=TaskStatus.RETRYING, error=describe_failure(reason) if reason else None)

    def _on_success(self, sender: Any, result: Any = None, **_: Any) -> None:
        self._finish(
            sender.request.id, TaskStatus.COMPLETED, progress=100, result=_json_result(result), error=None
        )

    def _on_failure(self, task_id: str, exception: BaseException, **_: Any) -> None:
        self._finish(task_id, TaskStatus.FAILED, error=describe_failure(exception))

    def _on_revoked(self, request: Any, expired: bool = False, **_: Any) -> None:
        reason = "expired before a worker could run it" if expired else "cancelled"
        self._finish(request.id, TaskStatus.CANCELLED, error=reason)

    def _finish(self, task_id: str | None, status: TaskStatus, **values: Any) -> None:
        self._set(task_id, status=status, finished_at=utcnow(), **values)
        if task_id and self.events is not None:
            self.events.finished(task_id, status)

    def _set(self, task_id: str | None, **values: Any) -> None:
        if not task_id:
            return
        values["updated_at"] = utcnow()
        statement = (
            update(TaskRecord)
            .where(TaskRecord.id == task_id, TaskRecord.status != TaskStatus.CANCELLED)
            .values(**values)
        )
        self._write(lambda s: s.execute(statement))
