"""Contracts of the ``reports`` queue: each report's request parameters (the API's request body) and its
payload (the parameters and the tenant). The date rules live here so the API and the worker agree."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field, ValidationInfo, field_validator

from tasklane.contracts.base import Params, TaskContract

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


class DateRange(Params):
    start_date: date = Field(description="First day (UTC), inclusive.")
    end_date: date = Field(description="Last day (UTC), inclusive; at most 366 days after start_date.")

    _check_range = field_validator("end_date")(check_date_range)


class SalesReport(DateRange):
    """Sales report (PDF, XLSX or CSV): totals, per-day and per-product breakdowns, every transaction.
    Dates are whole UTC days, the end not before the start, at most 366 days."""

    format: ReportFormat


class GenerateSalesReport(SalesReport):
    business_id: uuid.UUID


class InventoryReport(Params):
    """Inventory report (PDF, XLSX or CSV): stock levels, value at price, what needs reordering."""

    format: ReportFormat
    include_zero_stock: bool = False


class GenerateInventoryReport(InventoryReport):
    business_id: uuid.UUID


class CustomerExport(Params):
    """Every customer with their purchase totals (CSV or XLSX)."""

    format: ExportFormat


class ExportCustomers(CustomerExport):
    business_id: uuid.UUID


class TransactionExport(DateRange):
    """Every transaction in the range, one row each (CSV or XLSX); the same date rules as the sales report."""

    format: ExportFormat


class ExportTransactions(TransactionExport):
    business_id: uuid.UUID


class UserActivityReport(Params):
    """A user's profile and everything they recorded (PDF by default)."""

    user_id: uuid.UUID
    format: ReportFormat = "pdf"


class GenerateUserActivityReport(UserActivityReport):
    business_id: uuid.UUID


GENERATE_SALES_REPORT = TaskContract("reports.generate_sales_report", GenerateSalesReport, SalesReport)
GENERATE_INVENTORY_REPORT = TaskContract(
    "reports.generate_inventory_report", GenerateInventoryReport, InventoryReport
)
EXPORT_CUSTOMERS = TaskContract("reports.export_customers", ExportCustomers, CustomerExport)
EXPORT_TRANSACTIONS = TaskContract("reports.export_transactions", ExportTransactions, TransactionExport)
GENERATE_USER_ACTIVITY_REPORT = TaskContract(
    "reports.generate_user_activity_report", GenerateUserActivityReport, UserActivityReport
)
