"""Reports and exports: validated here, queued by name, produced by the reports worker."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from tasklane.contracts import (
    EXPORT_CUSTOMERS,
    EXPORT_TRANSACTIONS,
    GENERATE_INVENTORY_REPORT,
    GENERATE_SALES_REPORT,
    GENERATE_USER_ACTIVITY_REPORT,
    SEND_REPORT_READY,
    ExportCustomers,
    ExportTransactions,
    GenerateInventoryReport,
    GenerateSalesReport,
    GenerateUserActivityReport,
    Payload,
    SendReportReady,
    TaskContract,
)
from tasklane.db.models import Business, User
from tasklane.publishing import enqueue, follow_up
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.common import TaskAccepted
from tasklane_api.schemas.errors import BrokerUnavailableResponse, ErrorResponse
from tasklane_api.schemas.reports import (
    CustomerExportRequest,
    InventoryReportRequest,
    ReportRequest,
    SalesReportRequest,
    TransactionExportRequest,
    UserActivityReportRequest,
)
from tasklane_api.schemas.tasks import ACCEPTED_DESCRIPTION

router = APIRouter(
    tags=["reports"],
    responses={
        503: {"model": BrokerUnavailableResponse, "description": "The task queue is down; nothing queued."}
    },
)


def _queue(
    request: Request,
    body: ReportRequest,
    business: Business,
    session: SessionDep,
    celery: CeleryDep,
    *,
    contract: TaskContract[Any],
    payload: Payload,
) -> TaskAccepted:
    task_id = str(uuid.uuid4())
    then = None
    if body.notify_email:
        then = follow_up(SEND_REPORT_READY, SendReportReady(business_id=business.id, task_id=task_id))
    record = enqueue(session, celery, contract, payload, business_id=business.id, task_id=task_id, then=then)
    return TaskAccepted(
        task_id=record.id,
        status="processing",
        status_url=str(request.url_for("get_task", task_id=record.id)),
        notify_task_id=then.task_id if then else None,
    )


@router.post("/v1/reports/sales", status_code=status.HTTP_202_ACCEPTED, description=ACCEPTED_DESCRIPTION)
def sales_report(
    body: SalesReportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Sales report (PDF, XLSX or CSV): totals, per-day and per-product breakdowns, every transaction."""
    payload = GenerateSalesReport(
        business_id=business.id, start_date=body.start_date, end_date=body.end_date, format=body.format
    )
    return _queue(request, body, business, session, celery, contract=GENERATE_SALES_REPORT, payload=payload)


@router.post("/v1/reports/inventory", status_code=status.HTTP_202_ACCEPTED, description=ACCEPTED_DESCRIPTION)
def inventory_report(
    body: InventoryReportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Inventory report (PDF, XLSX or CSV): stock levels, value at price, what needs reordering."""
    payload = GenerateInventoryReport(
        business_id=business.id, format=body.format, include_zero_stock=body.include_zero_stock
    )
    return _queue(
        request, body, business, session, celery, contract=GENERATE_INVENTORY_REPORT, payload=payload
    )


@router.post("/v1/exports/customers", status_code=status.HTTP_202_ACCEPTED, description=ACCEPTED_DESCRIPTION)
def customers_export(
    body: CustomerExportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Every customer with their purchase totals (CSV or XLSX)."""
    payload = ExportCustomers(business_id=business.id, format=body.format)
    return _queue(request, body, business, session, celery, contract=EXPORT_CUSTOMERS, payload=payload)


@router.post(
    "/v1/exports/transactions", status_code=status.HTTP_202_ACCEPTED, description=ACCEPTED_DESCRIPTION
)
def transactions_export(
    body: TransactionExportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Every transaction in the range, one row each (CSV or XLSX)."""
    payload = ExportTransactions(
        business_id=business.id, start_date=body.start_date, end_date=body.end_date, format=body.format
    )
    return _queue(request, body, business, session, celery, contract=EXPORT_TRANSACTIONS, payload=payload)


@router.post(
    "/v1/reports/user-activity",
    status_code=status.HTTP_202_ACCEPTED,
    description=ACCEPTED_DESCRIPTION,
    responses={404: {"model": ErrorResponse, "description": "The user is not one of the tenant's."}},
)
def user_activity_report(
    body: UserActivityReportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """A user's profile and everything they recorded (PDF by default)."""
    exists = session.scalar(select(User.id).where(User.id == body.user_id, User.business_id == business.id))
    if exists is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user_id: user {body.user_id} not found")
    payload = GenerateUserActivityReport(business_id=business.id, user_id=body.user_id, format=body.format)
    return _queue(
        request, body, business, session, celery, contract=GENERATE_USER_ACTIVITY_REPORT, payload=payload
    )
