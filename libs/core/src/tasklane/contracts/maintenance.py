"""Contracts of the ``maintenance`` queue: retention clean-ups and the outbox relay, run by beat."""

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


class RedispatchUndeliveredTasks(Payload):
    """Takes no arguments: it publishes task records committed while the broker was away."""


CLEANUP_EXPIRED_ARTIFACTS = TaskContract("maintenance.cleanup_expired_artifacts", CleanupExpiredArtifacts)
CLEANUP_OLD_TASK_RECORDS = TaskContract("maintenance.cleanup_old_task_records", CleanupOldTaskRecords)
DEACTIVATE_INACTIVE_USERS = TaskContract("maintenance.deactivate_inactive_users", DeactivateInactiveUsers)
REDISPATCH_UNDELIVERED_TASKS = TaskContract(
    "maintenance.redispatch_undelivered_tasks", RedispatchUndeliveredTasks
)
