from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, EmailStr, Field

from tasklane_api.schemas.text import Text


class UserBase(BaseModel):
    email: EmailStr
    name: Text = Field(min_length=1, max_length=200)


class UserCreate(UserBase):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class UserPublic(UserBase):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    created_at: datetime
    last_active_at: datetime | None
    deactivated_at: datetime | None
    welcome_email_task_id: str | None = Field(
        None, description="Poll `GET /v1/tasks/{id}` to follow the welcome email."
    )
