"""Durable task records: one row per accepted task, kept current by the workers' Celery signals."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from tasklane.db.base import Base, CreatedAt, str_enum, utcnow


class TaskStatus(enum.StrEnum):
    QUEUED = "queued"
    PROCESSING = "processing"
    RETRYING = "retrying"
    COMPLETED = "completed"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINISHED_STATUSES = frozenset({TaskStatus.COMPLETED, TaskStatus.FAILED, TaskStatus.CANCELLED})


class TaskRecord(CreatedAt, Base):
    __tablename__ = "task_records"
    __table_args__ = (
        CheckConstraint("progress >= 0 AND progress <= 100", name="progress_range"),
        Index("ix_task_records_business_id_created_at", "business_id", "created_at"),
        Index("ix_task_records_status_finished_at", "status", "finished_at"),
        # The reconciler's sweep: unfinished records by how long they have been left alone.
        Index("ix_task_records_status_updated_at", "status", "updated_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)  # the Celery task id
    business_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    queue: Mapped[str] = mapped_column(String(50))
    status: Mapped[TaskStatus] = mapped_column(str_enum(TaskStatus, "task_status"), default=TaskStatus.QUEUED)
    progress: Mapped[int] = mapped_column(default=0)
    kwargs: Mapped[dict[str, Any] | None]
    result: Mapped[dict[str, Any] | None]
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None]
    finished_at: Mapped[datetime | None]
    # When the message was handed to the broker. A queued record without it was committed but not yet
    # published (the broker was down); the reconciler publishes it later.
    dispatched_at: Mapped[datetime | None]
    # Celery's retry count, carried when the record, not a held message, is what waits for the next try.
    retries: Mapped[int] = mapped_column(default=0, server_default="0")
    # A retry too far off for a worker to hold its message: the reconciler publishes it at this time.
    next_attempt_at: Mapped[datetime | None]
    # The task published after this one succeeds (name, kwargs, task_id), so a re-publish keeps it.
    follow_up: Mapped[dict[str, Any] | None]
    # Times the reconciler published this task again because its message was lost; capped.
    redeliveries: Mapped[int] = mapped_column(default=0, server_default="0")
    # The trace this task belongs to (W3C traceparent of the span that recorded it): a later publish from
    # the record continues it, and the task's status shows its trace id.
    traceparent: Mapped[str | None] = mapped_column(String(55))
