"""Reading task records the way a client would, by polling."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

from celery import Celery

from tasklane.contracts import Payload, TaskContract
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.publishing import publish_many
from tests.harness.ports import wait_for


def get_record(database: Database, task_id: str) -> TaskRecord | None:
    with database.session() as session:
        return session.get(TaskRecord, task_id)


def wait_for_status(
    database: Database, task_id: str, statuses: Iterable[TaskStatus], timeout: float = 30
) -> TaskRecord:
    wanted = set(statuses)

    def check() -> TaskRecord | None:
        record = get_record(database, task_id)
        return record if record is not None and record.status in wanted else None

    try:
        record: TaskRecord = wait_for(
            check, timeout=timeout, interval=0.1, what=f"task {task_id} in {wanted}"
        )
    except TimeoutError as exc:
        current = get_record(database, task_id)
        state = (
            f"{current.status} attempts={current.attempts} error={current.error}" if current else "no record"
        )
        raise AssertionError(f"{exc} (now: {state})") from None
    return record


def wait_until_finished(database: Database, task_id: str, timeout: float = 30) -> TaskRecord:
    return wait_for_status(
        database, task_id, (TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED), timeout
    )


def wait_for_attempts(database: Database, task_id: str, at_least: int, timeout: float = 30) -> TaskRecord:
    def check() -> TaskRecord | None:
        record = get_record(database, task_id)
        return record if record is not None and record.attempts >= at_least else None

    found: TaskRecord = wait_for(
        check, timeout=timeout, interval=0.1, what=f"task {task_id} attempt {at_least}"
    )
    return found


def run_task(
    celery: Celery, database: Database, contract: TaskContract[Any], payload: Payload, timeout: float = 30
) -> TaskRecord:
    """Publish ``payload`` the way beat or a fan-out would (no record first) and wait for the end."""
    return wait_until_finished(database, publish_bare(celery, contract, payload), timeout)


def publish_bare(
    celery: Celery, contract: TaskContract[Any], payload: Payload, task_id: str | None = None
) -> str:
    """Publish one message with no record (as beat or a fan-out does, or as a broker redelivers)."""
    [published] = publish_many(celery, contract, [payload], task_ids=[task_id or str(uuid.uuid4())])
    return published
