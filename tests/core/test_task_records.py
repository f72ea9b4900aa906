"""Task-record bookkeeping never fails a task, but never hides the time limit's interrupt either."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import event

from tasklane.db.engine import Database
from tasklane.task_records import TaskRecords


@contextmanager
def every_statement_raises(database: Database, exc: BaseException) -> Iterator[None]:
    """Make the database fail mid-write the way a signal landing inside a statement does."""

    def interrupt(*_: Any) -> None:
        raise exc

    event.listen(database.engine, "before_cursor_execute", interrupt)
    try:
        yield
    finally:
        event.remove(database.engine, "before_cursor_execute", interrupt)


def test_a_failing_progress_write_is_logged_and_the_task_goes_on(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    records = TaskRecords(database)
    with every_statement_raises(database, RuntimeError("database went away")):
        records.report_progress(str(uuid.uuid4()), 40)
    assert "could not update a task record" in caplog.text


def test_the_soft_time_limit_landing_during_a_progress_write_still_stops_the_task(database: Database) -> None:
    records = TaskRecords(database)
    with every_statement_raises(database, SoftTimeLimitExceeded()), pytest.raises(SoftTimeLimitExceeded):
        records.report_progress(str(uuid.uuid4()), 40)
