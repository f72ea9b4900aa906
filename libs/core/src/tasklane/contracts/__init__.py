"""Task contracts: the name, queue and payload of every task, shared by publishers and workers.

The API and beat publish by name through these contracts and never import worker code; workers validate
the same payload model again on receipt.
"""

from tasklane.contracts import notifications, payments, reports
from tasklane.contracts.base import Payload, TaskContract
from tasklane.contracts.notifications import (
    CHECK_EXPIRING_PRODUCTS,
    DISPATCH_EXPIRING_PRODUCTS,
    DISPATCH_LOW_STOCK_ALERTS,
    SEND_CREDIT_PURCHASE_NOTIFICATION,
    SEND_LOW_CREDIT_ALERT,
    SEND_LOW_STOCK_ALERT,
    SEND_REMINDER,
    SEND_REPORT_READY,
    SEND_STOCK_MOVEMENT_REPORT,
    SEND_WELCOME_EMAIL,
    CheckExpiringProducts,
    Dispatch,
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
    for module in (notifications, payments, reports)
    for contract in vars(module).values()
    if isinstance(contract, TaskContract)
}

__all__ = [
    "CHECK_EXPIRING_PRODUCTS",
    "CONTRACTS",
    "DISPATCH_EXPIRING_PRODUCTS",
    "DISPATCH_LOW_STOCK_ALERTS",
    "EXPORT_CUSTOMERS",
    "EXPORT_TRANSACTIONS",
    "GENERATE_INVENTORY_REPORT",
    "GENERATE_SALES_REPORT",
    "GENERATE_USER_ACTIVITY_REPORT",
    "PROCESS_PAYMENT_WEBHOOK",
    "REDISPATCH_PAYMENT_EVENTS",
    "SEND_CREDIT_PURCHASE_NOTIFICATION",
    "SEND_LOW_CREDIT_ALERT",
    "SEND_LOW_STOCK_ALERT",
    "SEND_REMINDER",
    "SEND_REPORT_READY",
    "SEND_STOCK_MOVEMENT_REPORT",
    "SEND_WELCOME_EMAIL",
    "CheckExpiringProducts",
    "Dispatch",
    "ExportCustomers",
    "ExportTransactions",
    "GenerateInventoryReport",
    "GenerateSalesReport",
    "GenerateUserActivityReport",
    "Payload",
    "ProcessPaymentWebhook",
    "RedispatchPaymentEvents",
    "SendCreditPurchaseNotification",
    "SendLowCreditAlert",
    "SendLowStockAlert",
    "SendReminder",
    "SendReportReady",
    "SendStockMovementReport",
    "SendWelcomeEmail",
    "TaskContract",
]
