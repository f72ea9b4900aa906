from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from tasklane.db.models import CreditLedgerEntry, CreditPurchase, LedgerKind, PurchaseStatus
from tasklane_api.schemas.text import Text


class CreditUsage(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    amount: Decimal = Field(gt=0, max_digits=12, decimal_places=2, description="Credits to spend.")
    description: Text = Field(min_length=1, max_length=500, description="What the credits were spent on.")


class CreditUsageResult(BaseModel):
    balance: Decimal = Field(description="The balance after this spend.")
    low_credit_alert_task_id: str | None = Field(
        None, description="Set when this spend took the balance below the alert threshold."
    )
    replayed: bool = Field(False, description="True when an `Idempotency-Key` matched an earlier spend.")


class InsufficientCreditsResponse(BaseModel):
    detail: str
    balance: Decimal


class LedgerEntryPublic(BaseModel):
    kind: LedgerKind
    delta: Decimal
    balance_after: Decimal
    reference: str
    description: str | None
    created_at: datetime

    @classmethod
    def from_entry(cls, entry: CreditLedgerEntry) -> LedgerEntryPublic:
        return cls(
            kind=entry.kind,
            delta=entry.delta,
            balance_after=entry.balance_after,
            reference=entry.reference,
            description=entry.description,
            created_at=entry.created_at,
        )


class CreditsPublic(BaseModel):
    balance: Decimal
    low_credit_threshold: Decimal
    entries: list[LedgerEntryPublic] = Field(description="The most recent balance changes, newest first.")


class CreditPurchaseCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    credits: int = Field(ge=1, le=1_000_000, description="How many AI credits to buy.")
    currency: str = Field(min_length=3, max_length=3, description="ISO 4217 code, e.g. `NGN`.")
    provider: Literal["paystack"] = "paystack"


class CreditPurchasePublic(BaseModel):
    purchase_id: uuid.UUID
    reference: str = Field(description="Hand this to the provider's checkout as the transaction reference.")
    credits: Decimal
    amount: int = Field(description="The price in the currency's smallest unit (kobo, cents...).")
    currency: str
    provider: str
    status: PurchaseStatus
    review_reason: str | None
    created_at: datetime
    paid_at: datetime | None

    @classmethod
    def from_purchase(cls, purchase: CreditPurchase) -> CreditPurchasePublic:
        return cls(
            purchase_id=purchase.id,
            reference=purchase.reference,
            credits=purchase.credits,
            amount=purchase.amount_minor,
            currency=purchase.currency,
            provider=purchase.provider,
            status=purchase.status,
            review_reason=purchase.review_reason,
            created_at=purchase.created_at,
            paid_at=purchase.paid_at,
        )
