from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from pydantic import BaseModel, Field

from tasklane.db.base import utcnow
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.signing import artifact_url
from tasklane.telemetry.tracing import trace_id
from tasklane_api.settings import ApiSettings

ACCEPTED_DESCRIPTION = (
    "Accepted and queued: follow the task at `status_url` (`?wait=N` waits up to N seconds for it). A "
    "completed report's `result.file_url` is a signed download link that works without the API key."
)


class TaskPublic(BaseModel):
    task_id: str
    name: str
    status: TaskStatus
    progress: int = Field(ge=0, le=100)
    result: dict[str, Any] | None = Field(
        description="What the task produced. For reports: `file_url` (signed, short-lived), `filename`, "
        "`content_type`, `size_bytes`, `sha256`, `rows`, `expires_at`."
    )
    error: str | None
    attempts: int = Field(description="How many times a worker has started this task.")
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    trace_id: str | None = Field(
        description="The OpenTelemetry trace this task belongs to (32 hex digits), when tracing is on: "
        "look it up in your tracing backend to see the request, the task and what followed."
    )

    @classmethod
    def from_record(cls, record: TaskRecord, settings: ApiSettings, base_url: str) -> TaskPublic:
        return cls(
            task_id=record.id,
            name=record.name,
            status=record.status,
            progress=record.progress,
            result=with_download_link(record.result, settings, base_url),
            error=record.error,
            attempts=record.attempts,
            created_at=record.created_at,
            updated_at=record.updated_at,
            started_at=record.started_at,
            finished_at=record.finished_at,
            trace_id=trace_id(record.traceparent),
        )


def with_download_link(
    result: dict[str, Any] | None, settings: ApiSettings, base_url: str
) -> dict[str, Any] | None:
    """A report's result gets a freshly signed ``file_url`` each time it is read, valid for
    ``TASKLANE_DOWNLOAD_URL_TTL`` seconds and never past the file's own expiry."""
    if not result or "artifact_id" not in result:
        return result
    now = utcnow()
    file_expires = datetime.fromisoformat(result["expires_at"])
    if file_expires <= now:
        return {**result, "file_url": None, "file_expired": True}
    link_expires = min(now + timedelta(seconds=settings.download_url_ttl), file_expires)
    return {
        **result,
        "file_url": artifact_url(
            settings, uuid.UUID(result["artifact_id"]), expires_at=link_expires, base_url=base_url
        ),
    }


class TaskList(BaseModel):
    items: list[TaskPublic]
