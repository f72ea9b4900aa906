from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from sqlalchemy import select

from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    SEND_LOW_STOCK_ALERT,
    SEND_STOCK_MOVEMENT_REPORT,
)
from tasklane.db.models import Product
from tasklane.publishing import enqueue
from tasklane_api.deps import CeleryDep, CurrentBusiness, SessionDep
from tasklane_api.schemas.alerts import (
    ExpiringProductsRequest,
    LowStockAlertRequest,
    StockMovementReportRequest,
)
from tasklane_api.schemas.common import TaskAccepted, accepted
from tasklane_api.schemas.errors import BrokerUnavailableResponse, ErrorResponse
from tasklane_api.schemas.requests import described
from tasklane_api.schemas.tasks import ACCEPTED_DESCRIPTION

router = APIRouter(
    prefix="/v1/alerts",
    tags=["alerts"],
    responses={
        202: {"description": ACCEPTED_DESCRIPTION},
        503: {"model": BrokerUnavailableResponse, "description": "The task queue is down; nothing queued."},
    },
)


@router.post(
    "/low-stock",
    status_code=status.HTTP_202_ACCEPTED,
    description=described(SEND_LOW_STOCK_ALERT),
    responses={404: {"model": ErrorResponse, "description": "A product id is not one of the tenant's."}},
)
def low_stock(
    body: LowStockAlertRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
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
    payload = SEND_LOW_STOCK_ALERT.from_params(body, business_id=business.id)
    return accepted(request, enqueue(session, celery, SEND_LOW_STOCK_ALERT, payload, business_id=business.id))


@router.post(
    "/stock-movement",
    status_code=status.HTTP_202_ACCEPTED,
    description=described(SEND_STOCK_MOVEMENT_REPORT),
)
def stock_movement(
    body: StockMovementReportRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    payload = SEND_STOCK_MOVEMENT_REPORT.from_params(body, business_id=business.id)
    return accepted(
        request, enqueue(session, celery, SEND_STOCK_MOVEMENT_REPORT, payload, business_id=business.id)
    )


@router.post(
    "/expiring-products",
    status_code=status.HTTP_202_ACCEPTED,
    description=described(CHECK_EXPIRING_PRODUCTS),
)
def expiring_products(
    body: ExpiringProductsRequest,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    celery: CeleryDep,
) -> TaskAccepted:
    payload = CHECK_EXPIRING_PRODUCTS.from_params(body, business_id=business.id)
    return accepted(
        request, enqueue(session, celery, CHECK_EXPIRING_PRODUCTS, payload, business_id=business.id)
    )
