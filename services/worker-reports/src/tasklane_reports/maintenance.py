"""The ``maintenance`` queue's tasks: retention clean-ups and the outbox relay, run by beat.

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

from tasklane.artifacts import ArtifactStore
from tasklane.contracts import (
    CLEANUP_EXPIRED_ARTIFACTS,
    CLEANUP_OLD_TASK_RECORDS,
    DEACTIVATE_INACTIVE_USERS,
    REDISPATCH_UNDELIVERED_TASKS,
    CleanupExpiredArtifacts,
    CleanupOldTaskRecords,
    DeactivateInactiveUsers,
    RedispatchUndeliveredTasks,
)
from tasklane.db.base import utcnow
from tasklane.db.models import FINISHED_STATUSES, ReportArtifact, TaskRecord, User
from tasklane.publishing import redispatch_pending
from tasklane.worker import WorkerRuntime

log = logging.getLogger(__name__)


def in_batches(
    runtime: WorkerRuntime, select_batch: Select[Any], apply: Callable[[Session, Sequence[Any]], int]
) -> tuple[int, int]:
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


def register(runtime: WorkerRuntime, store: ArtifactStore) -> None:
    settings = runtime.settings

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
        deleted, batches = in_batches(runtime, expired, remove)
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

        deleted, batches = in_batches(runtime, old, remove)
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

        deactivated, batches = in_batches(runtime, inactive, deactivate)
        log.info("deactivated %d users inactive for over %d days", deactivated, days)
        return {"deactivated": deactivated, "inactive_days": days, "batches": batches}

    @runtime.task(REDISPATCH_UNDELIVERED_TASKS)
    def redispatch_undelivered_tasks(task: Task, payload: RedispatchUndeliveredTasks) -> dict[str, int]:
        """Publish task records committed while the broker was away (payments has its own relay)."""
        published = refused = 0
        while True:
            with runtime.database.session() as session:
                batch = redispatch_pending(
                    session,
                    runtime.celery,
                    older_than=timedelta(seconds=settings.undelivered_task_grace),
                    exclude_prefix="payments.",
                    limit=settings.maintenance_batch_size,
                )
            published += len(batch.published)
            refused += len(batch.refused)
            if batch.claimed < settings.maintenance_batch_size:
                return {"published": published, "refused": refused}
