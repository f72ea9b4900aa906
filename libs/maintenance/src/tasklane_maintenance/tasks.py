"""The ``maintenance`` queue's tasks: retention clean-ups and the reconciler, run by beat. They register
on the runtime of the worker that hosts them (the reports worker by default, which discovers this module).

Each clean-up works in batches of ``TASKLANE_MAINTENANCE_BATCH_SIZE`` rows, one short transaction per
batch, so a large backlog never holds long locks or one huge transaction; each reports what it touched.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import timedelta
from typing import Any

from celery import Task
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.orm import Session

from tasklane.artifacts import DatabaseArtifactStore
from tasklane.contracts.maintenance import (
    CLEANUP_EXPIRED_ARTIFACTS,
    CLEANUP_OLD_TASK_RECORDS,
    DEACTIVATE_INACTIVE_USERS,
    RECONCILE_TASK_RECORDS,
    CleanupExpiredArtifacts,
    CleanupOldTaskRecords,
    DeactivateInactiveUsers,
    ReconcileTaskRecords,
)
from tasklane.db.base import utcnow
from tasklane.db.models import FINISHED_STATUSES, ReportArtifact, TaskRecord, User
from tasklane.telemetry import metrics
from tasklane.worker import current_runtime
from tasklane_maintenance.backlog import backlog_collectors
from tasklane_maintenance.reconciler import Reconciler
from tasklane_maintenance.settings import MaintenanceSettings

log = logging.getLogger(__name__)

runtime = current_runtime(MaintenanceSettings)
settings = runtime.settings
store = DatabaseArtifactStore(runtime.database)
reconciler = Reconciler(settings, runtime.database, runtime.celery)
if "maintenance" in runtime.queues:  # one worker set reports the backlog: the one that reconciles it
    runtime.collectors.extend(backlog_collectors(runtime.database))


def in_batches(select_batch: Select[Any], apply: Callable[[Session, Sequence[Any]], int]) -> tuple[int, int]:
    """Run ``apply`` on successive batches of the ids ``select_batch`` finds; return (rows, batches).

    Rows are claimed with ``FOR UPDATE SKIP LOCKED``, so a clean-up never waits on (or for) a row that
    something else is using; such a row is left for the next run.
    """
    limit = runtime.settings.maintenance_batch_size
    total = batches = 0
    while True:
        with runtime.database.transaction() as session:
            ids = session.scalars(select_batch.limit(limit).with_for_update(skip_locked=True)).all()
            if not ids:
                return total, batches
            total += apply(session, ids)
        batches += 1
        if len(ids) < limit:
            return total, batches


@runtime.task(CLEANUP_EXPIRED_ARTIFACTS)
def cleanup_expired_artifacts(task: Task, payload: CleanupExpiredArtifacts) -> dict[str, int]:
    """Delete report files whose ``expires_at`` has passed, content first, then the metadata."""
    freed = 0

    def remove(session: Session, ids: Sequence[Any]) -> int:
        nonlocal freed
        artifacts = session.scalars(select(ReportArtifact).where(ReportArtifact.id.in_(ids))).all()
        for artifact in artifacts:
            store.delete(session, artifact)
            freed += artifact.size_bytes
        session.execute(delete(ReportArtifact).where(ReportArtifact.id.in_(ids)))
        return len(artifacts)

    expired = select(ReportArtifact.id).where(ReportArtifact.expires_at < utcnow())
    deleted, batches = in_batches(expired, remove)
    log.info("deleted %d expired artifacts (%d bytes) in %d batches", deleted, freed, batches)
    return {"deleted": deleted, "bytes_freed": freed, "batches": batches}


@runtime.task(CLEANUP_OLD_TASK_RECORDS)
def cleanup_old_task_records(task: Task, payload: CleanupOldTaskRecords) -> dict[str, int]:
    """Delete finished (completed, failed, cancelled) task records older than the retention."""
    days = payload.older_than_days or settings.task_record_retention_days
    old = select(TaskRecord.id).where(
        TaskRecord.status.in_(FINISHED_STATUSES), TaskRecord.finished_at < utcnow() - timedelta(days=days)
    )

    def remove(session: Session, ids: Sequence[Any]) -> int:
        session.execute(delete(TaskRecord).where(TaskRecord.id.in_(ids)))
        return len(ids)

    deleted, batches = in_batches(old, remove)
    log.info("deleted %d task records finished over %d days ago", deleted, days)
    return {"deleted": deleted, "older_than_days": days, "batches": batches}


@runtime.task(DEACTIVATE_INACTIVE_USERS)
def deactivate_inactive_users(task: Task, payload: DeactivateInactiveUsers) -> dict[str, int]:
    """Deactivate users not seen (or, never seen, not created) within the inactivity period."""
    days = payload.inactive_days or settings.user_inactivity_days
    now = utcnow()
    inactive = select(User.id).where(
        User.deactivated_at.is_(None),
        func.coalesce(User.last_active_at, User.created_at) < now - timedelta(days=days),
    )

    def deactivate(session: Session, ids: Sequence[Any]) -> int:
        session.execute(update(User).where(User.id.in_(ids)).values(deactivated_at=now))
        return len(ids)

    deactivated, batches = in_batches(inactive, deactivate)
    log.info("deactivated %d users inactive for over %d days", deactivated, days)
    return {"deactivated": deactivated, "inactive_days": days, "batches": batches}


@runtime.task(RECONCILE_TASK_RECORDS)
def reconcile_task_records(task: Task, payload: ReconcileTaskRecords) -> dict[str, Any]:
    """Publish what the task records say should be in the broker and is not (``tasklane.reconciler``)."""
    outcome = reconciler.run()
    summary = outcome.summary()
    for action in ("published", "retried", "recovered", "failed"):
        metrics.RECONCILED.labels(action=action).inc(summary[action])
    metrics.RECONCILE_BEHIND.inc(outcome.behind_backlog)
    log.info("reconciled task records: %s", summary)
    return summary
