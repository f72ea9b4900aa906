from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field

from tasklane.db.models import ReminderStatus
from tasklane_api.schemas.text import Text


class ReminderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    message: Text = Field(min_length=1, max_length=2000)
    remind_at: AwareDatetime = Field(
        description="When to send it (ISO 8601 with a UTC offset); a time already past is sent at once."
    )
    recipients: list[EmailStr] | None = Field(
        None,
        min_length=1,
        max_length=50,
        description="Who gets it; default the business owner and users who have not opted out.",
    )


class ReminderPublic(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    message: str
    remind_at: datetime
    recipients: list[str] | None
    status: ReminderStatus
    created_at: datetime
    dispatched_at: datetime | None
    task_id: str | None = Field(
        None, description="Once dispatched: follow the email at `GET /v1/tasks/{task_id}`."
    )
