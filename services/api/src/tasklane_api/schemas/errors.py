from __future__ import annotations

from pydantic import BaseModel, Field


class ErrorResponse(BaseModel):
    detail: str = Field(description="What went wrong, for a person to read.")


class FieldError(BaseModel):
    field: str = Field(description="The offending field, e.g. `email` or `limit`.")
    message: str
    type: str


class ValidationErrorResponse(BaseModel):
    detail: str = Field(description="Every problem, each prefixed with the field it concerns.")
    errors: list[FieldError]


class BrokerUnavailableResponse(BaseModel):
    detail: str
    task_id: str | None = Field(None, description="The task record that says what happened, if one was made.")
