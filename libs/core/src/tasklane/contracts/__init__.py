"""Task contracts: the name, queue and payload of every task, shared by publishers and workers.

The API and beat publish by name through these contracts and never import worker code; workers validate
the same payload model again on receipt.
"""

from tasklane.contracts import maintenance, notifications, payments, reports
from tasklane.contracts.base import Payload, TaskContract
from tasklane.contracts.maintenance import (
    CLEANUP_EXPIRED_ARTIFACTS,
    CLEANUP_OLD_TASK_RECORDS,
    DEACTIVATE_INACTIVE_USERS,
    REDISPATCH_UNDELIVERED_TASKS,
    CleanupExpiredArtifacts,
    CleanupOldTaskRecords,
    DeactivateInactiveUsers,
    RedispatchUndeliveredTasks,
)
from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    DISPATCH_DUE_REMINDERS,
    DISPATCH_EXPIRING_PRODUCTS,
    DISPATCH_LOW_STOCK_ALERTS,
    DISPATCH_STOCK_MOVEMENT_REPORTS,
    SEND_CREDIT_PURCHASE_NOTIFICATION,
    SEND_LOW_CREDIT_ALERT,
    SEND_LOW_STOCK_ALERT,
    SEND_REMINDER,
    SEND_REPORT_READY,
    SEND_STOCK_MOVEMENT_REPORT,
    SEND_WELCOME_EMAIL,
    CheckExpiringProducts,
    Dispatch,
    DispatchStockMovementReports,
    SendCreditPurchaseNotification,
    SendLowCreditAlert,
    SendLowStockAlert,
    SendReminder,
    SendReportReady,
    SendStockMovementReport,
    SendWelcomeEmail,
)
from tasklane.contracts.payments import (
    PROCESS_PAYMENT_WEBHOOK,
    REDISPATCH_PAYMENT_EVENTS,
    ProcessPaymentWebhook,
    RedispatchPaymentEvents,
)
from tasklane.contracts.reports import (
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

CONTRACTS: dict[str, TaskContract[Payload]] = {
    contract.name: contract
    for module in (maintenance, notifications, payments, reports)
    for contract in vars(module).values()
    if isinstance(contract, TaskContract)
}

__all__ = [
    "CHECK_EXPIRING_PRODUCTS",
    "CLEANUP_EXPIRED_ARTIFACTS",
    "CLEANUP_OLD_TASK_RECORDS",
    "CONTRACTS",
    "DEACTIVATE_INACTIVE_USERS",
    "DISPATCH_DUE_REMINDERS",
    "DISPATCH_EXPIRING_PRODUCTS",
    "DISPATCH_LOW_STOCK_ALERTS",
    "DISPATCH_STOCK_MOVEMENT_REPORTS",
    "EXPORT_CUSTOMERS",
    "EXPORT_TRANSACTIONS",
    "GENERATE_INVENTORY_REPORT",
    "GENERATE_SALES_REPORT",
    "GENERATE_USER_ACTIVITY_REPORT",
    "PROCESS_PAYMENT_WEBHOOK",
    "REDISPATCH_PAYMENT_EVENTS",
    "REDISPATCH_UNDELIVERED_TASKS",
    "SEND_CREDIT_PURCHASE_NOTIFICATION",
    "SEND_LOW_CREDIT_ALERT",
    "SEND_LOW_STOCK_ALERT",
    "SEND_REMINDER",
    "SEND_REPORT_READY",
    "SEND_STOCK_MOVEMENT_REPORT",
    "SEND_WELCOME_EMAIL",
    "CheckExpiringProducts",
    "CleanupExpiredArtifacts",
    "CleanupOldTaskRecords",
    "DeactivateInactiveUsers",
    "Dispatch",
    "DispatchStockMovementReports",
    "ExportCustomers",
    "ExportTransactions",
    "GenerateInventoryReport",
    "GenerateSalesReport",
    "GenerateUserActivityReport",
    "Payload",
    "ProcessPaymentWebhook",
    "RedispatchPaymentEvents",
    "RedispatchUndeliveredTasks",
    "SendCreditPurchaseNotification",
    "SendLowCreditAlert",
    "SendLowStockAlert",
    "SendReminder",
    "SendReportReady",
    "SendStockMovementReport",
    "SendWelcomeEmail",
    "TaskContract",
]
