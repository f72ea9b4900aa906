"""Contracts of the ``notifications`` queue; those a tenant asks the API for carry their parameters."""

from __future__ import annotations

import uuid
from decimal import Decimal

from pydantic import Field

from tasklane.contracts.base import Params, Payload, TaskContract


class SendWelcomeEmail(Payload):
    user_id: uuid.UUID


class LowStockAlert(Params):
    """Email the products at or below their reorder level (all, or only the given ones)."""

    product_ids: list[uuid.UUID] | None = Field(
        None, min_length=1, max_length=1000, description="Only these products; all products when omitted."
    )


class SendLowStockAlert(LowStockAlert):
    business_id: uuid.UUID


class StockMovementReport(Params):
    """Email a summary of stock in and out per product over the last `period_days` days."""

    period_days: int = Field(7, ge=1, le=365, description="Days of movements to summarise.")


class SendStockMovementReport(StockMovementReport):
    business_id: uuid.UUID


class ExpiringProducts(Params):
    """Email the products in stock that expire within `days_threshold` days, by week."""

    days_threshold: int = Field(
        30, ge=1, le=365, description="Report products expiring within this many days."
    )


class CheckExpiringProducts(ExpiringProducts):
    business_id: uuid.UUID


class SendLowCreditAlert(Payload):
    business_id: uuid.UUID
    current_balance: Decimal
    threshold: Decimal = Decimal("10.0")


class SendReportReady(Payload):
    business_id: uuid.UUID
    task_id: str = Field(min_length=1, max_length=64)


class SendCreditPurchaseNotification(Payload):
    purchase_id: uuid.UUID


class SendReminder(Payload):
    reminder_id: uuid.UUID


class Dispatch(Payload):
    """Fan-out tasks take no arguments: they find their targets in the database."""


class DispatchStockMovementReports(Payload):
    period_days: int = Field(7, ge=1, le=365)


SEND_WELCOME_EMAIL = TaskContract("notifications.send_welcome_email", SendWelcomeEmail)
SEND_LOW_STOCK_ALERT = TaskContract("notifications.send_low_stock_alert", SendLowStockAlert, LowStockAlert)
SEND_STOCK_MOVEMENT_REPORT = TaskContract(
    "notifications.send_stock_movement_report", SendStockMovementReport, StockMovementReport
)
CHECK_EXPIRING_PRODUCTS = TaskContract(
    "notifications.check_expiring_products", CheckExpiringProducts, ExpiringProducts
)
SEND_LOW_CREDIT_ALERT = TaskContract("notifications.send_low_credit_alert", SendLowCreditAlert)
SEND_REPORT_READY = TaskContract("notifications.send_report_ready", SendReportReady)
SEND_CREDIT_PURCHASE_NOTIFICATION = TaskContract(
    "notifications.send_credit_purchase_notification", SendCreditPurchaseNotification
)
SEND_REMINDER = TaskContract("notifications.send_reminder", SendReminder)
DISPATCH_LOW_STOCK_ALERTS = TaskContract("notifications.dispatch_low_stock_alerts", Dispatch)
DISPATCH_EXPIRING_PRODUCTS = TaskContract("notifications.dispatch_expiring_products", Dispatch)
DISPATCH_STOCK_MOVEMENT_REPORTS = TaskContract(
    "notifications.dispatch_stock_movement_reports", DispatchStockMovementReports
)
DISPATCH_DUE_REMINDERS = TaskContract("notifications.dispatch_due_reminders", Dispatch)
