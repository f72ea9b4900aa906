"""The reconciler: task records are the source of truth, and this makes the broker agree with them.

Run by beat (``maintenance.reconcile_task_records``), in batches with ``FOR UPDATE SKIP LOCKED`` so two
runs never take the same record. Each pass publishes, from the record itself:
- records committed but never handed to the broker (an outbox whose publish failed), once they are
  ``TASKLANE_UNDELIVERED_TASK_GRACE`` old;
- retries left to the record because they wait longer than a worker may hold a message, once they are due;
- records still unfinished whose message is gone: lost by a worker, by the broker, or by a Redis that
  lost its data. Such a record is looked at only once it has been left alone longer than its queue's
  bound (``Settings.reconcile_after``: by then a message a dead worker held is back in its queue), and is
  published again only if the broker holds no message for it, neither in the queue nor taken by a worker.
  A long report, a retry waiting out its countdown, or a task behind a backlog is never published twice;
  a task lost more than ``TASKLANE_RECONCILE_MAX_REDELIVERIES`` times is failed, saying so.
Tasks are idempotent (dedupe keys, the ledger's unique references), so the rare race where a worker takes a
message while it is being looked for costs a second, harmless run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from celery import Celery
from pydantic import ValidationError
from sqlalchemy import and_, func, or_, select, tuple_
from sqlalchemy.orm import Session

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.errors import BrokerUnavailable
from tasklane.publishing import publish_record
from tasklane.routing import QUEUES
from tasklane_maintenance.broker_inventory import BrokerInventory
from tasklane_maintenance.settings import MaintenanceSettings

log = logging.getLogger(__name__)

UNFINISHED = (TaskStatus.QUEUED, TaskStatus.PROCESSING, TaskStatus.RETRYING)


@dataclass
class Reconciliation:
    """What one run did, by record id, and how old the oldest task still waiting for a worker is."""

    published: list[str] = field(default_factory=list)  # never handed to the broker until now
    retried: list[str] = field(default_factory=list)  # deferred retries, now due
    recovered: list[str] = field(default_factory=list)  # their message was lost: published again
    failed: list[str] = field(default_factory=list)  # lost too often, or no contract accepts them any more
    behind_backlog: int = 0  # unfinished and quiet, but behind a queue too long to look through
    oldest_queued_seconds: float | None = None

    def summary(self) -> dict[str, Any]:
        return {
            "published": len(self.published),
            "retried": len(self.retried),
            "recovered": len(self.recovered),
            "failed": len(self.failed),
            "behind_backlog": self.behind_backlog,
            "oldest_queued_seconds": self.oldest_queued_seconds,
        }


class Reconciler:
    def __init__(self, settings: MaintenanceSettings, database: Database, celery: Celery) -> None:
        self.settings = settings
        self.database = database
        self.celery = celery

    def run(self, *, now: datetime | None = None) -> Reconciliation:
        """One full pass: every kind of record, batch after batch, until none is left to act on."""
        now = now or utcnow()
        outcome = Reconciliation()
        try:
            for step in (self._undispatched, self._due_retries, self._lost):
                while step(now, outcome) == self.settings.maintenance_batch_size:
                    pass
        except BrokerUnavailable as exc:
            log.warning("reconciler stopped early, the broker is unavailable: %s", exc)
        with self.database.session() as session:
            oldest = session.scalar(
                select(func.min(func.coalesce(TaskRecord.dispatched_at, TaskRecord.created_at))).where(
                    TaskRecord.status == TaskStatus.QUEUED
                )
            )
        outcome.oldest_queued_seconds = round((now - oldest).total_seconds(), 1) if oldest else None
        return outcome

    def _claim(self, session: Session, *conditions: Any) -> Sequence[TaskRecord]:
        query = (
            select(TaskRecord)
            .where(*conditions)
            .order_by(TaskRecord.updated_at, TaskRecord.id)
            .limit(self.settings.maintenance_batch_size)
            .with_for_update(skip_locked=True)
        )
        return session.scalars(query).all()

    def _publish(self, record: TaskRecord, now: datetime, outcome: Reconciliation, bucket: list[str]) -> None:
        try:
            publish_record(self.celery, record)
        except (KeyError, ValidationError) as exc:
            # A record no contract accepts any more (renamed task, changed payload) would be retried for
            # ever; it fails visibly instead.
            self._fail(record, now, f"not queued: the stored message is no longer valid ({exc!r})")
            outcome.failed.append(record.id)
            return
        record.status = TaskStatus.QUEUED
        record.next_attempt_at = None
        record.updated_at = now
        bucket.append(record.id)

    def _fail(self, record: TaskRecord, now: datetime, error: str) -> None:
        record.status, record.error, record.finished_at, record.updated_at = (
            TaskStatus.FAILED,
            error,
            now,
            now,
        )

    def _undispatched(self, now: datetime, outcome: Reconciliation) -> int:
        with self.database.transaction() as session:
            records = self._claim(
                session,
                TaskRecord.status == TaskStatus.QUEUED,
                TaskRecord.dispatched_at.is_(None),
                TaskRecord.created_at < now - timedelta(seconds=self.settings.undelivered_task_grace),
                TaskRecord.name.not_like("payments.%"),  # stored payment events have their own relay
            )
            for record in records:
                self._publish(record, now, outcome, outcome.published)
        return len(records)

    def _due_retries(self, now: datetime, outcome: Reconciliation) -> int:
        with self.database.transaction() as session:
            records = self._claim(
                session, TaskRecord.status == TaskStatus.RETRYING, TaskRecord.next_attempt_at <= now
            )
            for record in records:
                self._publish(record, now, outcome, outcome.retried)
        return len(records)

    def _lost(self, now: datetime, outcome: Reconciliation) -> int:
        """Look through every quiet unfinished record, a page at a time (keyset, so the ones legitimately
        waiting at the front never hide the rest); returns 0, as one call covers them all."""
        quiet = or_(
            *(
                and_(TaskRecord.queue == queue, TaskRecord.updated_at < now - timedelta(seconds=bound))
                for queue in QUEUES
                if (bound := self.settings.reconcile_after(queue))
            )
        )
        after: tuple[datetime, str] | None = None
        while True:
            with self.database.transaction() as session:
                page = self._claim(
                    session,
                    TaskRecord.status.in_(UNFINISHED),
                    TaskRecord.dispatched_at.is_not(None),
                    TaskRecord.next_attempt_at.is_(None) | (TaskRecord.next_attempt_at < now),
                    quiet,
                    *([tuple_(TaskRecord.updated_at, TaskRecord.id) > after] if after else []),
                )
                if not page:
                    return 0
                after = (page[-1].updated_at, page[-1].id)
                self._recover_absent(page, now, outcome)

    def _recover_absent(self, records: Sequence[TaskRecord], now: datetime, outcome: Reconciliation) -> None:
        by_queue: dict[str, list[TaskRecord]] = defaultdict(list)
        for record in records:
            by_queue[record.queue].append(record)
        with BrokerInventory(self.celery, scan_limit=self.settings.reconcile_scan_limit) as broker:
            held = broker.held()
            for queue, quiet_records in by_queue.items():
                waiting = broker.waiting(queue)
                if waiting is None:
                    outcome.behind_backlog += len(quiet_records)
                    continue
                # Read the workers' hashes again after the queue: a message taken meanwhile moved there.
                present = held | waiting | broker.held()
                for record in quiet_records:
                    if record.id not in present:
                        self._recover(record, now, outcome)

    def _recover(self, record: TaskRecord, now: datetime, outcome: Reconciliation) -> None:
        cap = self.settings.reconcile_max_redeliveries
        if record.redeliveries >= cap:
            self._fail(
                record,
                now,
                f"its message was lost {record.redeliveries + 1} times (a worker, the broker or Redis lost "
                f"it); given up after {cap} re-publishes",
            )
            outcome.failed.append(record.id)
            log.error("task %s (%s) lost again; failed after %d re-publishes", record.id, record.name, cap)
            return
        record.redeliveries += 1
        log.warning("task %s (%s) had no message left anywhere; publishing it again", record.id, record.name)
        self._publish(record, now, outcome, outcome.recovered)
