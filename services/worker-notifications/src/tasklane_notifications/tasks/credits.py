"""Credit notifications: the low-balance alert and the purchase receipt."""

from __future__ import annotations

from typing import Any

from celery import Task

from tasklane.contracts.notifications import (
    SEND_CREDIT_PURCHASE_NOTIFICATION,
    SEND_LOW_CREDIT_ALERT,
    SendCreditPurchaseNotification,
    SendLowCreditAlert,
)
from tasklane.db.models import CreditPurchase, PurchaseStatus
from tasklane.errors import PermanentTaskError
from tasklane.money import format_minor_units
from tasklane_notifications.notifier import nothing_to_send
from tasklane_notifications.service import EMAIL, notifier, runtime


@runtime.task(SEND_LOW_CREDIT_ALERT, **EMAIL)
def send_low_credit_alert(task: Task, payload: SendLowCreditAlert) -> dict[str, Any]:
    """Once per downward crossing of the threshold: the crossing's timestamp is the dedupe key."""
    business = notifier.business(payload.business_id)
    if business.low_credit_alerted_at is None:
        return nothing_to_send("the balance is back above the threshold")
    return notifier.send(
        task,
        business=business,
        template="low_credit",
        dedupe_key=f"low-credit:{business.id}:{business.low_credit_alerted_at.isoformat()}",
        context={"balance": payload.current_balance, "threshold": payload.threshold},
    )


@runtime.task(SEND_CREDIT_PURCHASE_NOTIFICATION, **EMAIL)
def send_credit_purchase_notification(task: Task, payload: SendCreditPurchaseNotification) -> dict[str, Any]:
    """The receipt for a paid credit purchase, once."""
    with runtime.database.session() as session:
        purchase = session.get(CreditPurchase, payload.purchase_id)
    if purchase is None:
        raise PermanentTaskError(f"credit purchase {payload.purchase_id} does not exist")
    if purchase.status != PurchaseStatus.PAID:
        raise PermanentTaskError(f"credit purchase {purchase.reference} is {purchase.status}, not paid")
    business = notifier.business(purchase.business_id)
    return notifier.send(
        task,
        business=business,
        template="credit_receipt",
        dedupe_key=f"credit-receipt:{purchase.id}",
        context={
            "purchase": purchase,
            "amount": format_minor_units(purchase.amount_minor, purchase.currency),
            "balance": business.credit_balance,
        },
    )
