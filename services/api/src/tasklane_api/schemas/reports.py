from __future__ import annotations

import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tasklane.contracts.reports import ExportFormat, ReportFormat, check_date_range


class ReportRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notify_email: bool = Field(
        False, description="Email the business a download link when the file is ready."
    )


class DateRangeRequest(ReportRequest):
    start_date: date = Field(description="First day (UTC), inclusive.")
    end_date: date = Field(description="Last day (UTC), inclusive; at most 366 days after start_date.")

    _check_range = field_validator("end_date")(check_date_range)


class SalesReportRequest(DateRangeRequest):
    format: ReportFormat


class InventoryReportRequest(ReportRequest):
    format: ReportFormat
    include_zero_stock: bool = False


class CustomerExportRequest(ReportRequest):
    format: ExportFormat


class TransactionExportRequest(DateRangeRequest):
    format: ExportFormat


class UserActivityReportRequest(ReportRequest):
    user_id: uuid.UUID
    format: ReportFormat = "pdf"
