"""Maintenance's own settings: retention, batches, and the reconciler."""

from __future__ import annotations

from pydantic import Field

from tasklane.settings import Settings


class MaintenanceSettings(Settings):
    task_record_retention_days: int = Field(
        90, ge=1, description="Finished task records older than this many days are deleted by maintenance."
    )
    user_inactivity_days: int = Field(
        365, ge=1, description="Users inactive for longer than this many days are deactivated by maintenance."
    )
    maintenance_batch_size: int = Field(
        1000, ge=1, le=100_000, description="Rows each maintenance batch deletes or updates per transaction."
    )
    undelivered_task_grace: int = Field(
        30,
        ge=1,
        description="Seconds a committed task record may wait for its first publish before the "
        "reconciler publishes it.",
    )
    reconcile_max_redeliveries: int = Field(
        3,
        ge=0,
        description="Times the reconciler publishes a task again whose message was lost (by a worker, the "
        "broker, or a Redis that lost its data) before it fails the record saying so.",
    )
    reconcile_scan_limit: int = Field(
        10000,
        ge=1,
        description="Queue length up to which the reconciler looks for a task's message in the broker "
        "before calling it lost; a task behind a longer backlog is checked once the backlog drains.",
    )

    def reconcile_after(self, queue: str) -> int:
        """Seconds a task of ``queue`` may sit unfinished and untouched before the reconciler looks for its
        message in the broker: a message taken by a worker that died is back in its queue by then."""
        return self.visibility_timeout([queue])
