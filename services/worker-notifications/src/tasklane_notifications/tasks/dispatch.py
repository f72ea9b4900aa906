"""Fan-out for many tenants: one small message from beat becomes one task per business that needs it.

Businesses are read in keyset-paginated pages and each page is published as one Celery ``group``, so the
dispatcher holds one page in memory and the per-business work spreads over every worker.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from celery import Task, group
from sqlalchemy import ColumnElement, exists, select

from tasklane.contracts import (
    CHECK_EXPIRING_PRODUCTS,
    DISPATCH_EXPIRING_PRODUCTS,
    DISPATCH_LOW_STOCK_ALERTS,
    SEND_LOW_STOCK_ALERT,
    CheckExpiringProducts,
    Dispatch,
    Payload,
    SendLowStockAlert,
    TaskContract,
)
from tasklane.db.models import Business, Product
from tasklane.worker import WorkerRuntime


def fan_out(
    runtime: WorkerRuntime,
    contract: TaskContract[Any],
    payload_for: Callable[[uuid.UUID], Payload],
    *,
    only: ColumnElement[bool] | None = None,
) -> dict[str, int]:
    """Publish ``contract`` once per active business (matching ``only``), a page per group."""
    page_size = runtime.settings.dispatch_page_size
    queued = pages = 0
    last_id: uuid.UUID | None = None
    while True:
        query = select(Business.id).where(Business.is_active.is_(True)).order_by(Business.id).limit(page_size)
        if only is not None:
            query = query.where(only)
        if last_id is not None:
            query = query.where(Business.id > last_id)
        with runtime.database.session() as session:
            ids = session.scalars(query).all()
        if not ids:
            return {"queued": queued, "pages": pages}
        group(
            runtime.celery.signature(contract.name, kwargs=contract.message_kwargs(payload_for(business_id)))
            for business_id in ids
        ).apply_async()
        queued += len(ids)
        pages += 1
        last_id = ids[-1]


def register(runtime: WorkerRuntime) -> None:
    has_low_stock = exists().where(
        Product.business_id == Business.id, Product.stock_quantity <= Product.reorder_level
    )
    has_expiry_dates = exists().where(Product.business_id == Business.id, Product.expiry_date.is_not(None))

    @runtime.task(DISPATCH_LOW_STOCK_ALERTS)
    def dispatch_low_stock_alerts(task: Task, payload: Dispatch) -> dict[str, int]:
        """One low-stock alert task per active business that has a product at or below reorder level."""
        return fan_out(
            runtime, SEND_LOW_STOCK_ALERT, lambda b: SendLowStockAlert(business_id=b), only=has_low_stock
        )

    @runtime.task(DISPATCH_EXPIRING_PRODUCTS)
    def dispatch_expiring_products(task: Task, payload: Dispatch) -> dict[str, int]:
        """One expiring-products check per active business that tracks expiry dates."""
        return fan_out(
            runtime,
            CHECK_EXPIRING_PRODUCTS,
            lambda b: CheckExpiringProducts(business_id=b),
            only=has_expiry_dates,
        )
