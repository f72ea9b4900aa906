from __future__ import annotations

from pydantic import BaseModel, Field


class ReportDelivery(BaseModel):
    """What every report request may add to its parameters: how the tenant hears it is ready."""

    notify_email: bool = Field(
        False, description="Email the business a download link when the file is ready."
    )
