"""Gauges of work the records say is waiting, read at each scrape by the worker that hosts maintenance:
the outbox (records committed but never handed to the broker) and the oldest queued task per queue."""

from __future__ import annotations

from prometheus_client.registry import Collector
from sqlalchemy import func, select

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.telemetry.metrics import Scraped


def backlog_collectors(database: Database) -> list[Collector]:
    undispatched = (TaskRecord.status == TaskStatus.QUEUED) & TaskRecord.dispatched_at.is_(None)

    def outbox() -> tuple[int, float]:
        with database.session() as session:
            count, oldest = session.execute(
                select(func.count(), func.min(TaskRecord.created_at)).where(undispatched)
            ).one()
        return count, (utcnow() - oldest).total_seconds() if oldest else 0.0

    def oldest_queued() -> dict[tuple[str, ...], float]:
        now = utcnow()
        with database.session() as session:
            # Since it was last handed to the broker, as the reconciler counts it.
            rows = session.execute(
                select(
                    TaskRecord.queue, func.min(func.coalesce(TaskRecord.dispatched_at, TaskRecord.created_at))
                )
                .where(TaskRecord.status == TaskStatus.QUEUED)
                .group_by(TaskRecord.queue)
            ).all()
        return {(queue,): (now - oldest).total_seconds() for queue, oldest in rows}

    return [
        Scraped("tasklane_outbox_backlog", "Task records committed but not yet handed to the broker.", (),
                lambda: {(): float(outbox()[0])}),
        Scraped("tasklane_outbox_oldest_age_seconds", "Age of the oldest record not handed to the broker.",
                (), lambda: {(): outbox()[1]}),
        Scraped("tasklane_oldest_queued_task_age_seconds", "Age of the oldest queued task, by queue.",
                ("queue",), oldest_queued),
    ]  # fmt: skip
