"""Stock alerts and reports: low stock, stock movements, expiring products."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from datetime import date, datetime, timedelta
from typing import Any

from celery import Task
from sqlalchemy import case, func, select

from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    SEND_LOW_STOCK_ALERT,
    SEND_STOCK_MOVEMENT_REPORT,
    CheckExpiringProducts,
    SendLowStockAlert,
    SendStockMovementReport,
)
from tasklane.db.base import utcnow
from tasklane.db.models import Product, StockMovement
from tasklane_notifications.notifier import nothing_to_send
from tasklane_notifications.service import EMAIL, notifier, runtime, settings


def alert_window_start(now: datetime, hours: int) -> datetime:
    """The start of the fixed ``hours``-long window (counted from midnight UTC) that ``now`` falls in."""
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    elapsed = int((now - midnight).total_seconds() // 3600)
    return midnight + timedelta(hours=elapsed - elapsed % hours)


def week_start(day: date) -> date:
    return day - timedelta(days=day.weekday())


@runtime.task(SEND_LOW_STOCK_ALERT, **EMAIL)
def send_low_stock_alert(task: Task, payload: SendLowStockAlert) -> dict[str, Any]:
    """Products at or below their reorder level; one alert per window for the same set of products."""
    business = notifier.business(payload.business_id)
    query = select(Product).where(
        Product.business_id == business.id, Product.stock_quantity <= Product.reorder_level
    )
    if payload.product_ids is not None:
        query = query.where(Product.id.in_(payload.product_ids))
    with runtime.database.session() as session:
        products = session.scalars(
            query.order_by(Product.stock_quantity - Product.reorder_level, Product.sku)
        ).all()
    if not products:
        return nothing_to_send("no products at or below their reorder level", products=0)
    window = alert_window_start(utcnow(), settings.low_stock_alert_window_hours)
    product_set = hashlib.sha256(",".join(sorted(str(p.id) for p in products)).encode()).hexdigest()[:16]
    result = notifier.send(
        task,
        business=business,
        template="low_stock",
        dedupe_key=f"low-stock:{business.id}:{window:%Y%m%dT%H}:{product_set}",
        context={"products": products},
    )
    return {**result, "products": len(products)}


@runtime.task(SEND_STOCK_MOVEMENT_REPORT, **EMAIL)
def send_stock_movement_report(task: Task, payload: SendStockMovementReport) -> dict[str, Any]:
    """Stock in and out per product over the last ``period_days`` days."""
    business = notifier.business(payload.business_id)
    end = utcnow()
    start = end - timedelta(days=payload.period_days)
    stock_in = func.coalesce(func.sum(case((StockMovement.quantity > 0, StockMovement.quantity), else_=0)), 0)
    stock_out = func.coalesce(
        func.sum(case((StockMovement.quantity < 0, -StockMovement.quantity), else_=0)), 0
    )
    with runtime.database.session() as session:
        rows = session.execute(
            select(
                Product.sku,
                Product.name,
                Product.stock_quantity,
                stock_in.label("stock_in"),
                stock_out.label("stock_out"),
            )
            .join(StockMovement, StockMovement.product_id == Product.id)
            .where(StockMovement.business_id == business.id, StockMovement.occurred_at >= start)
            .group_by(Product.id, Product.sku, Product.name, Product.stock_quantity)
            .order_by(Product.sku)
        ).all()
    if not rows:
        return nothing_to_send(f"no stock movements in the last {payload.period_days} days", products=0)
    result = notifier.send(
        task,
        business=business,
        template="stock_movement",
        dedupe_key=f"stock-movement:{business.id}:{payload.period_days}d:{end:%Y-%m-%d}",
        context={
            "rows": rows,
            "start": start.date(),
            "end": end.date(),
            "period_days": payload.period_days,
            "total_in": sum(r.stock_in for r in rows),
            "total_out": sum(r.stock_out for r in rows),
        },
    )
    return {**result, "products": len(rows)}


@runtime.task(CHECK_EXPIRING_PRODUCTS, **EMAIL)
def check_expiring_products(task: Task, payload: CheckExpiringProducts) -> dict[str, Any]:
    """Products in stock that expire within ``days_threshold`` days, by week; expired ones flagged."""
    business = notifier.business(payload.business_id)
    today = utcnow().date()
    with runtime.database.session() as session:
        products = session.scalars(
            select(Product)
            .where(
                Product.business_id == business.id,
                Product.stock_quantity > 0,
                Product.expiry_date.is_not(None),
                Product.expiry_date <= today + timedelta(days=payload.days_threshold),
            )
            .order_by(Product.expiry_date, Product.sku)
        ).all()
    if not products:
        return nothing_to_send(f"nothing expires within {payload.days_threshold} days", products=0)
    expired = [p for p in products if p.expiry_date is not None and p.expiry_date < today]
    by_week: dict[date, list[Product]] = defaultdict(list)
    for product in products:
        if product.expiry_date is not None and product.expiry_date >= today:
            by_week[week_start(product.expiry_date)].append(product)
    result = notifier.send(
        task,
        business=business,
        template="expiring_products",
        dedupe_key=f"expiring:{business.id}:{payload.days_threshold}d:{today.isoformat()}",
        context={
            "expired": expired,
            "weeks": sorted(by_week.items()),
            "today": today,
            "days_threshold": payload.days_threshold,
            "count": len(products),
        },
    )
    return {**result, "products": len(products), "expired": len(expired)}
