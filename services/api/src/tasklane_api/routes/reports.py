"""Reports and exports: one route per row of ``REPORTS``, its body the contract's parameters (validated
here), queued by name, produced by the reports worker."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from tasklane.contracts import TaskContract
from tasklane.contracts.notifications import SEND_REPORT_READY, SendReportReady
from tasklane.contracts.reports import (
    EXPORT_CUSTOMERS,
    EXPORT_TRANSACTIONS,
    GENERATE_INVENTORY_REPORT,
    GENERATE_SALES_REPORT,
    GENERATE_USER_ACTIVITY_REPORT,
    UserActivityReport,
)
from tasklane.db.models import Business, User
from tasklane.publishing import enqueue, follow_up
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.common import TaskAccepted, accepted
from tasklane_api.schemas.errors import BrokerUnavailableResponse, ErrorResponse
from tasklane_api.schemas.reports import ReportDelivery
from tasklane_api.schemas.requests import described, request_model
from tasklane_api.schemas.tasks import ACCEPTED_DESCRIPTION

router = APIRouter(
    tags=["reports"],
    responses={
        202: {"description": ACCEPTED_DESCRIPTION},
        503: {"model": BrokerUnavailableResponse, "description": "The task queue is down; nothing queued."},
    },
)


def user_is_the_tenants(session: Session, business: Business, params: Any) -> None:
    assert isinstance(params, UserActivityReport)
    found = session.scalar(select(User.id).where(User.id == params.user_id, User.business_id == business.id))
    if found is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"user_id: user {params.user_id} not found")


@dataclass(frozen=True)
class Report:
    path: str
    name: str  # the route's name, and so its OpenAPI operation
    contract: TaskContract[Any]
    check: Callable[[Session, Business, Any], None] | None = None  # refuses what the body cannot say
    responses: dict[int | str, dict[str, Any]] = field(default_factory=dict)


REPORTS = (
    Report("/v1/reports/sales", "sales_report", GENERATE_SALES_REPORT),
    Report("/v1/reports/inventory", "inventory_report", GENERATE_INVENTORY_REPORT),
    Report("/v1/exports/customers", "customers_export", EXPORT_CUSTOMERS),
    Report("/v1/exports/transactions", "transactions_export", EXPORT_TRANSACTIONS),
    Report(
        "/v1/reports/user-activity",
        "user_activity_report",
        GENERATE_USER_ACTIVITY_REPORT,
        check=user_is_the_tenants,
        responses={404: {"model": ErrorResponse, "description": "The user is not one of the tenant's."}},
    ),
)


def _add_route(report: Report) -> None:
    def queue_report(
        body: Any, request: Request, business: CurrentBusiness, session: SessionDep, celery: CeleryDep
    ) -> TaskAccepted:
        if report.check is not None:
            report.check(session, business, body)
        task_id = str(uuid.uuid4())
        then = None
        if body.notify_email:
            then = follow_up(SEND_REPORT_READY, SendReportReady(business_id=business.id, task_id=task_id))
        payload = report.contract.from_params(body, business_id=business.id)
        record = enqueue(
            session, celery, report.contract, payload, business_id=business.id, task_id=task_id, then=then
        )
        return accepted(request, record, notify_task_id=then.task_id if then else None)

    # The body's model is made at run time, from the contract; FastAPI reads it from the annotation.
    queue_report.__annotations__["body"] = request_model(report.contract, ReportDelivery)
    router.add_api_route(
        report.path,
        queue_report,
        methods=["POST"],
        name=report.name,
        status_code=status.HTTP_202_ACCEPTED,
        description=described(report.contract),
        responses=report.responses,
    )


for report in REPORTS:
    _add_route(report)
