"""The reports queue's tasks: each builds its document and hands it to the job."""

from __future__ import annotations

from functools import partial
from typing import Any

from celery import Task
from sqlalchemy.exc import OperationalError

from tasklane.contracts import (
    EXPORT_CUSTOMERS,
    EXPORT_TRANSACTIONS,
    GENERATE_INVENTORY_REPORT,
    GENERATE_SALES_REPORT,
    GENERATE_USER_ACTIVITY_REPORT,
    ExportCustomers,
    ExportTransactions,
    GenerateInventoryReport,
    GenerateSalesReport,
    GenerateUserActivityReport,
)
from tasklane_reports.job import ReportJob
from tasklane_reports.reports import customers, inventory, sales, transactions, user_activity

# A database that drops out mid-report is worth another try; anything else is final.
RETRY = {"autoretry_for": (OperationalError,), "retry_backoff": 5, "retry_jitter": True, "max_retries": 3}


def register_all(job: ReportJob) -> None:
    runtime = job.runtime

    @runtime.task(GENERATE_SALES_REPORT, **RETRY)
    def generate_sales_report(task: Task, payload: GenerateSalesReport) -> dict[str, Any]:
        """Totals, per-day and per-product breakdowns, and the transactions in the range."""
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=partial(sales.build, payload=payload),
        )

    @runtime.task(GENERATE_INVENTORY_REPORT, **RETRY)
    def generate_inventory_report(task: Task, payload: GenerateInventoryReport) -> dict[str, Any]:
        """Stock levels, value at price, and products at or below their reorder level."""
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=lambda s: inventory.build(s, payload),
        )

    @runtime.task(EXPORT_CUSTOMERS, **RETRY)
    def export_customers(task: Task, payload: ExportCustomers) -> dict[str, Any]:
        """Every customer with their purchase totals."""
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=lambda s: customers.build(s, payload),
        )

    @runtime.task(EXPORT_TRANSACTIONS, **RETRY)
    def export_transactions(task: Task, payload: ExportTransactions) -> dict[str, Any]:
        """Every transaction in the range, one row each."""
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=lambda s: transactions.build(s, payload),
        )

    @runtime.task(GENERATE_USER_ACTIVITY_REPORT, **RETRY)
    def generate_user_activity_report(task: Task, payload: GenerateUserActivityReport) -> dict[str, Any]:
        """A user's profile and everything they recorded."""
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=lambda s: user_activity.build(s, payload),
        )
