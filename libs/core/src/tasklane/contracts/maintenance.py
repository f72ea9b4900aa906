"""Contracts of the ``maintenance`` queue: retention clean-ups and the reconciler, run by beat."""

from __future__ import annotations

from pydantic import Field

from tasklane.contracts.base import Payload, TaskContract


class CleanupExpiredArtifacts(Payload):
    """Takes no arguments: artifacts past their ``expires_at`` go."""


class CleanupOldTaskRecords(Payload):
    older_than_days: int | None = Field(
        None, ge=1, description="Default: TASKLANE_TASK_RECORD_RETENTION_DAYS."
    )


class DeactivateInactiveUsers(Payload):
    inactive_days: int | None = Field(None, ge=1, description="Default: TASKLANE_USER_INACTIVITY_DAYS.")


class ReconcileTaskRecords(Payload):
    """Takes no arguments: it makes the broker agree with the task records (see
    ``tasklane_maintenance.reconciler``)."""


CLEANUP_EXPIRED_ARTIFACTS = TaskContract("maintenance.cleanup_expired_artifacts", CleanupExpiredArtifacts)
CLEANUP_OLD_TASK_RECORDS = TaskContract("maintenance.cleanup_old_task_records", CleanupOldTaskRecords)
DEACTIVATE_INACTIVE_USERS = TaskContract("maintenance.deactivate_inactive_users", DeactivateInactiveUsers)
RECONCILE_TASK_RECORDS = TaskContract("maintenance.reconcile_task_records", ReconcileTaskRecords)
