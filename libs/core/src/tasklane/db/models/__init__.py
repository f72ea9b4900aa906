"""Every table of Tasklane's domain; importing this module registers them all on ``Base.metadata``."""

from tasklane.db.models.artifacts import ArtifactChunk, ReportArtifact
from tasklane.db.models.credits import (
    CreditLedgerEntry,
    CreditPurchase,
    LedgerKind,
    PaymentEvent,
    PaymentEventStatus,
    PurchaseStatus,
)
from tasklane.db.models.inventory import MovementKind, Product, StockMovement
from tasklane.db.models.notifications import Reminder, ReminderStatus, SentNotification
from tasklane.db.models.sales import Customer, SaleLineItem, SalesTransaction
from tasklane.db.models.tasks import FINISHED_STATUSES, TaskRecord, TaskStatus
from tasklane.db.models.tenancy import ApiKey, Business, User

__all__ = [
    "FINISHED_STATUSES",
    "ApiKey",
    "ArtifactChunk",
    "Business",
    "CreditLedgerEntry",
    "CreditPurchase",
    "Customer",
    "LedgerKind",
    "MovementKind",
    "PaymentEvent",
    "PaymentEventStatus",
    "Product",
    "PurchaseStatus",
    "Reminder",
    "ReminderStatus",
    "ReportArtifact",
    "SaleLineItem",
    "SalesTransaction",
    "SentNotification",
    "StockMovement",
    "TaskRecord",
    "TaskStatus",
    "User",
]
