from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from tasklane.contracts import (
    CHECK_EXPIRING_PRODUCTS,
    SEND_LOW_STOCK_ALERT,
    SEND_STOCK_MOVEMENT_REPORT,
    CheckExpiringProducts,
    SendLowStockAlert,
    SendStockMovementReport,
)
from tasklane.db.models import Product, TaskRecord
from tasklane.publishing import enqueue
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.alerts import (
    ExpiringProductsRequest,
    LowStockAlertRequest,
    StockMovementReportRequest,
)
from tasklane_api.schemas.common import TaskAccepted
from tasklane_api.schemas.errors import BrokerUnavailableResponse, ErrorResponse

router = APIRouter(
    prefix="/v1/alerts",
    tags=["alerts"],
    responses={
        503: {"model": BrokerUnavailableResponse, "description": "The task queue is down; nothing queued."}
    },
)


def accepted(request: Request, record: TaskRecord) -> TaskAccepted:
    return TaskAccepted(
        task_id=record.id, status="queued", status_url=str(request.url_for("get_task", task_id=record.id))
    )


@router.post(
    "/low-stock",
    status_code=status.HTTP_202_ACCEPTED,
    responses={404: {"model": ErrorResponse, "description": "A product id is not one of the tenant's."}},
)
def low_stock(
    body: LowStockAlertRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Email the products at or below their reorder level (all, or only the given ones)."""
    if body.product_ids:
        wanted = set(body.product_ids)
        found = set(
            session.scalars(
                select(Product.id).where(Product.business_id == business.id, Product.id.in_(wanted))
            )
        )
        if missing := sorted(str(i) for i in wanted - found):
            raise HTTPException(
                status.HTTP_404_NOT_FOUND, f"product_ids: products not found: {', '.join(missing)}"
            )
    payload = SendLowStockAlert(business_id=business.id, product_ids=body.product_ids)
    return accepted(request, enqueue(session, celery, SEND_LOW_STOCK_ALERT, payload, business_id=business.id))


@router.post("/stock-movement", status_code=status.HTTP_202_ACCEPTED)
def stock_movement(
    body: StockMovementReportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Email a summary of stock in and out per product over the last ``period_days`` days."""
    payload = SendStockMovementReport(business_id=business.id, period_days=body.period_days)
    return accepted(
        request, enqueue(session, celery, SEND_STOCK_MOVEMENT_REPORT, payload, business_id=business.id)
    )


@router.post("/expiring-products", status_code=status.HTTP_202_ACCEPTED)
def expiring_products(
    body: ExpiringProductsRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    """Email the products in stock that expire within ``days_threshold`` days, by week."""
    payload = CheckExpiringProducts(business_id=business.id, days_threshold=body.days_threshold)
    return accepted(
        request, enqueue(session, celery, CHECK_EXPIRING_PRODUCTS, payload, business_id=business.id)
    )
