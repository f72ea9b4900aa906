"""Fan-out for many tenants: one small message from beat becomes one task per business that needs it.

Businesses are read in keyset-paginated pages and each page is published as one Celery ``group``, so the
dispatcher holds one page in memory and the per-business work spreads over every worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from celery import Task
from sqlalchemy import ColumnElement, exists, select

from tasklane.contracts import Payload, TaskContract
from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    DISPATCH_EXPIRING_PRODUCTS,
    DISPATCH_LOW_STOCK_ALERTS,
    DISPATCH_STOCK_MOVEMENT_REPORTS,
    SEND_LOW_STOCK_ALERT,
    SEND_STOCK_MOVEMENT_REPORT,
    CheckExpiringProducts,
    Dispatch,
    DispatchStockMovementReports,
    SendLowStockAlert,
    SendStockMovementReport,
)
from tasklane.db.base import utcnow
from tasklane.db.models import Business, Product, StockMovement
from tasklane.publishing import publish_many
from tasklane_notifications.service import runtime, settings


def fan_out(
    contract: TaskContract[Any],
    payload_for: Callable[[uuid.UUID], Payload],
    *,
    only: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """Publish ``contract`` once per active business (matching ``only``), a page per group."""
    queued = pages = 0
    last_id: uuid.UUID | None = None
    while True:
        query = select(Business.id).where(Business.is_active.is_(True)).order_by(Business.id)
        query = query.limit(settings.dispatch_page_size)
        if only is not None:
            query = query.where(only)
        if last_id is not None:
            query = query.where(Business.id > last_id)
        with runtime.database.session() as session:
            ids = session.scalars(query).all()
        if not ids:
            return {"queued": queued, "pages": pages}
        queued += len(
            publish_many(runtime.celery, contract, (payload_for(business_id) for business_id in ids))
        )
        pages += 1
        last_id = ids[-1]


has_low_stock = exists().where(
    Product.business_id == Business.id, Product.stock_quantity <= Product.reorder_level
)
has_expiry_dates = exists().where(Product.business_id == Business.id, Product.expiry_date.is_not(None))


@runtime.task(DISPATCH_LOW_STOCK_ALERTS)
def dispatch_low_stock_alerts(task: Task, payload: Dispatch) -> dict[str, int]:
    """One low-stock alert task per active business that has a product at or below reorder level."""
    return fan_out(SEND_LOW_STOCK_ALERT, lambda b: SendLowStockAlert(business_id=b), only=has_low_stock)


@runtime.task(DISPATCH_EXPIRING_PRODUCTS)
def dispatch_expiring_products(task: Task, payload: Dispatch) -> dict[str, int]:
    """One expiring-products check per active business that tracks expiry dates."""
    return fan_out(
        CHECK_EXPIRING_PRODUCTS, lambda b: CheckExpiringProducts(business_id=b), only=has_expiry_dates
    )


@runtime.task(DISPATCH_STOCK_MOVEMENT_REPORTS)
def dispatch_stock_movement_reports(task: Task, payload: DispatchStockMovementReports) -> dict[str, int]:
    """One stock movement summary per active business whose stock moved in the period."""
    since = utcnow() - timedelta(days=payload.period_days)
    moved = exists().where(StockMovement.business_id == Business.id, StockMovement.occurred_at >= since)
    return fan_out(
        SEND_STOCK_MOVEMENT_REPORT,
        lambda b: SendStockMovementReport(business_id=b, period_days=payload.period_days),
        only=moved,
    )
