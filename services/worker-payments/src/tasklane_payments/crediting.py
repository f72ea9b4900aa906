"""Applying one provider-confirmed payment to its credit purchase, exactly once.

Everything happens in the caller's transaction, under a row lock on the purchase: a second delivery, a
duplicate webhook or a concurrent worker waits for the lock and then finds the purchase paid. The
ledger's unique reference backs the lock up: a second credit for the same payment cannot be inserted.
"""

from __future__ import annotations

from decimal import Decimal
from enum import StrEnum
from typing import NamedTuple

from sqlalchemy import select
from sqlalchemy.orm import Session

from tasklane.contracts.notifications import SEND_CREDIT_PURCHASE_NOTIFICATION, SendCreditPurchaseNotification
from tasklane.contracts.payments import ProcessPaymentWebhook
from tasklane.credits import add_credits
from tasklane.db.base import utcnow
from tasklane.db.models import CreditPurchase, LedgerKind, PurchaseStatus
from tasklane.errors import PermanentTaskError
from tasklane.money import format_minor_units
from tasklane.publishing import Outbound, record_task


class Outcome(StrEnum):
    CREDITED = "credited"
    ALREADY_CREDITED = "already_credited"
    NEEDS_REVIEW = "needs_review"


class Applied(NamedTuple):
    outcome: Outcome
    receipt: Outbound | None = None  # the receipt email, recorded in the same transaction
    credits: Decimal = Decimal(0)  # credits added


def apply_payment(session: Session, payment: ProcessPaymentWebhook) -> Applied:
    """Credit the purchase ``payment`` pays for; returns the outcome, the receipt task to publish and the
    credits added."""
    purchase = session.scalar(
        select(CreditPurchase)
        .where(
            CreditPurchase.reference == payment.payment_reference,
            CreditPurchase.provider == payment.payment_provider,
        )
        .with_for_update()
    )
    if purchase is None:
        raise PermanentTaskError(
            f"no {payment.payment_provider} credit purchase has reference {payment.payment_reference}"
        )
    if purchase.status == PurchaseStatus.PAID:
        return Applied(Outcome.ALREADY_CREDITED)
    if purchase.status == PurchaseStatus.NEEDS_REVIEW:
        return Applied(Outcome.NEEDS_REVIEW)
    if payment.currency.upper() != purchase.currency or payment.amount_paid != purchase.amount_minor:
        purchase.status = PurchaseStatus.NEEDS_REVIEW
        purchase.review_reason = (
            f"paid {format_minor_units(payment.amount_paid, payment.currency)}, "
            f"expected {format_minor_units(purchase.amount_minor, purchase.currency)}; nothing was credited"
        )
        return Applied(Outcome.NEEDS_REVIEW)
    purchase.status = PurchaseStatus.PAID
    purchase.paid_at = utcnow()
    add_credits(
        session,
        purchase.business_id,
        purchase.credits,
        reference=payment.payment_reference,
        kind=LedgerKind.PURCHASE,
        description=f"{purchase.credits} credits paid through {purchase.provider}",
    )
    receipt = record_task(
        session,
        SEND_CREDIT_PURCHASE_NOTIFICATION,
        SendCreditPurchaseNotification(purchase_id=purchase.id),
        business_id=purchase.business_id,
    )
    return Applied(Outcome.CREDITED, receipt, purchase.credits)
