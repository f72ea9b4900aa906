"""The reconciler: task records are the source of truth, and this makes the broker agree with them.

Run by beat (``maintenance.reconcile_task_records``), in batches with ``FOR UPDATE SKIP LOCKED`` so two
runs never take the same record. Each pass publishes, from the record itself:
- records committed but never noted as handed to the broker (an outbox whose publish failed), once they are
  ``TASKLANE_UNDELIVERED_TASK_GRACE`` old;
- retries that are due: those left to the record because they wait longer than a worker may hold a
  message, and any whose held message a worker has not started by then;
- records still unfinished and left alone longer than their queue's bound (``Settings.reconcile_after``:
  by then a message a dead worker held is back in its queue): lost by a worker, by the broker, or by a
  Redis that lost its data. A task lost more than ``TASKLANE_RECONCILE_MAX_REDELIVERIES`` times is failed,
  saying so.
Whatever the kind, a record is published only if the broker holds no message for it, neither in its queue
nor taken by a worker (a retry's countdown included), so a long report, a retry waiting out its countdown,
a message whose publish could not be noted, or a task behind a backlog too long to look through
(``TASKLANE_RECONCILE_SCAN_LIMIT``) is never published twice. Tasks are idempotent (dedupe keys, the
ledger's unique references), so the rare race where a worker takes a message while it is being looked for
costs a second, harmless run.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Callable, Sequence
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
        """One full pass over every kind of record, page after page."""
        now = now or utcnow()
        outcome = Reconciliation()
        grace = timedelta(seconds=self.settings.undelivered_task_grace)
        quiet = or_(
            *(
                and_(TaskRecord.queue == queue, TaskRecord.updated_at < now - timedelta(seconds=bound))
                for queue in QUEUES
                if (bound := self.settings.reconcile_after(queue))
            )
        )
        sweeps: list[tuple[list[Any], Callable[[TaskRecord], None]]] = [
            (
                [
                    TaskRecord.status == TaskStatus.QUEUED,
                    TaskRecord.dispatched_at.is_(None),
                    TaskRecord.created_at < now - grace,
                    TaskRecord.name.not_like("payments.%"),  # stored payment events have their own relay
                ],
                lambda record: self._publish(record, now, outcome, outcome.published),
            ),
            (
                [TaskRecord.status == TaskStatus.RETRYING, TaskRecord.next_attempt_at <= now],
                lambda record: self._publish(record, now, outcome, outcome.retried),
            ),
            (
                [
                    TaskRecord.status.in_(UNFINISHED),
                    TaskRecord.dispatched_at.is_not(None),
                    TaskRecord.next_attempt_at.is_(None) | (TaskRecord.next_attempt_at < now),
                    quiet,
                ],
                lambda record: self._recover(record, now, outcome),
            ),
        ]
        try:
            for conditions, act in sweeps:
                self._sweep(conditions, act, outcome)
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

    def _sweep(
        self, conditions: list[Any], act: Callable[[TaskRecord], None], outcome: Reconciliation
    ) -> None:
        """Claim the records matching ``conditions`` a page at a time (keyset, so the ones left alone at the
        front never hide the rest) and ``act`` on those the broker holds no message for. A record acted on
        no longer matches, so no page brings it back."""
        after: tuple[datetime, str] | None = None
        while True:
            with self.database.transaction() as session:
                page = self._claim(
                    session,
                    *conditions,
                    *([tuple_(TaskRecord.updated_at, TaskRecord.id) > after] if after else []),
                )
                if not page:
                    return
                after = (page[-1].updated_at, page[-1].id)
                for record in self._absent(page, outcome):
                    act(record)

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

    def _absent(self, records: Sequence[TaskRecord], outcome: Reconciliation) -> list[TaskRecord]:
        """The records whose task the broker holds no message for: not in its queue, not taken by a worker.
        Records of a queue too long to look through are counted as behind the backlog, not returned."""
        by_queue: dict[str, list[TaskRecord]] = defaultdict(list)
        for record in records:
            by_queue[record.queue].append(record)
        absent: list[TaskRecord] = []
        with BrokerInventory(self.celery, scan_limit=self.settings.reconcile_scan_limit) as broker:
            held = broker.held()
            for queue, queue_records in by_queue.items():
                waiting = broker.waiting(queue)
                if waiting is None:
                    outcome.behind_backlog += len(queue_records)
                    continue
                # Read the workers' hashes again after the queue: a message taken meanwhile moved there.
                present = held | waiting | broker.held()
                absent += [record for record in queue_records if record.id not in present]
        return absent

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
