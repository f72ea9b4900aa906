from __future__ import annotations

from fastapi import Request
from pydantic import BaseModel, Field

from tasklane.db.models import TaskRecord, TaskStatus


class TaskAccepted(BaseModel):
    """The answer to a request for background work (`202 Accepted`): follow it at ``status_url``."""

    task_id: str
    status: TaskStatus = Field(description="The task record's status when the answer was made: `queued`.")
    status_url: str = Field(description="`GET` this to follow the task.")
    notify_task_id: str | None = Field(
        None, description="The email that follows a successful report, when `notify_email` was asked for."
    )


def accepted(request: Request, record: TaskRecord, *, notify_task_id: str | None = None) -> TaskAccepted:
    """Every ``202`` answer is built here, from the task record the request committed."""
    return TaskAccepted(
        task_id=record.id,
        status=record.status,
        status_url=str(request.url_for("get_task", task_id=record.id)),
        notify_task_id=notify_task_id,
    )
