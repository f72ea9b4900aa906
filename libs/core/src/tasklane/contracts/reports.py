"""Contracts of the ``reports`` queue. The date rules live here so the API and the worker agree."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from tasklane.contracts.base import Payload, TaskContract

MAX_RANGE_DAYS = 366

ReportFormat = Literal["pdf", "xlsx", "csv"]
ExportFormat = Literal["csv", "xlsx"]


def check_date_range(end_date: date, info: ValidationInfo) -> date:
    start_date = info.data.get("start_date")
    if start_date is None:
        return end_date
    if end_date < start_date:
        raise ValueError(f"must not be before start_date ({start_date})")
    if (end_date - start_date).days + 1 > MAX_RANGE_DAYS:
        raise ValueError(f"the range may cover at most {MAX_RANGE_DAYS} days")
    return end_date


class DateRange(Payload):
    start_date: date
    end_date: date

    _check_range = field_validator("end_date")(check_date_range)


class GenerateSalesReport(DateRange):
    business_id: uuid.UUID
    format: ReportFormat


class GenerateInventoryReport(Payload):
    business_id: uuid.UUID
    format: ReportFormat
    include_zero_stock: bool = False


class ExportCustomers(Payload):
    business_id: uuid.UUID
    format: ExportFormat


class ExportTransactions(DateRange):
    business_id: uuid.UUID
    format: ExportFormat


class GenerateUserActivityReport(Payload):
    business_id: uuid.UUID
    user_id: uuid.UUID
    format: ReportFormat = Field("pdf")


GENERATE_SALES_REPORT = TaskContract("reports.generate_sales_report", GenerateSalesReport)
GENERATE_INVENTORY_REPORT = TaskContract("reports.generate_inventory_report", GenerateInventoryReport)
EXPORT_CUSTOMERS = TaskContract("reports.export_customers", ExportCustomers)
EXPORT_TRANSACTIONS = TaskContract("reports.export_transactions", ExportTransactions)
GENERATE_USER_ACTIVITY_REPORT = TaskContract(
    "reports.generate_user_activity_report", GenerateUserActivityReport
)
