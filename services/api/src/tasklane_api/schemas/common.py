from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field


class TaskAccepted(BaseModel):
    """The answer to a request for background work: follow it at ``status_url``."""

    task_id: str
    status: Literal["queued", "processing"]
    status_url: str = Field(description="`GET` this to follow the task.")
    notify_task_id: str | None = Field(
        None, description="The email that follows a successful report, when `notify_email` was asked for."
    )
