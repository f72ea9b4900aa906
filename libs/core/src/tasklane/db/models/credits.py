"""AI credits: purchases, the ledger of every balance change, and payment-provider events."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasklane.db.base import BIGINT_PK, Base, CreatedAt, UUIDPrimaryKey, str_enum, utcnow


class PurchaseStatus(enum.StrEnum):
    PENDING = "pending"
    PAID = "paid"
    NEEDS_REVIEW = "needs_review"
    FAILED = "failed"


class CreditPurchase(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "credit_purchases"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    reference: Mapped[str] = mapped_column(String(64), unique=True)
    provider: Mapped[str] = mapped_column(String(20))
    credits: Mapped[Decimal]
    amount_minor: Mapped[int] = mapped_column(
        BigInteger
    )  # price in the currency's smallest unit, as providers count it
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[PurchaseStatus] = mapped_column(
        str_enum(PurchaseStatus, "purchase_status"), default=PurchaseStatus.PENDING
    )
    review_reason: Mapped[str | None] = mapped_column(String(500))
    paid_at: Mapped[datetime | None]


class LedgerKind(enum.StrEnum):
    PURCHASE = "purchase"
    USAGE = "usage"
    ADJUSTMENT = "adjustment"


class CreditLedgerEntry(CreatedAt, Base):
    """One row per balance change. ``reference`` is unique: a payment reference can credit only once."""

    __tablename__ = "credit_ledger"

    id: Mapped[int] = mapped_column(BIGINT_PK, primary_key=True)
    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[LedgerKind] = mapped_column(str_enum(LedgerKind, "ledger_kind"))
    reference: Mapped[str] = mapped_column(String(100), unique=True)
    delta: Mapped[Decimal]
    balance_after: Mapped[Decimal]
    description: Mapped[str | None] = mapped_column(String(500))


class PaymentEventStatus(enum.StrEnum):
    RECEIVED = "received"
    QUEUED = "queued"
    PROCESSED = "processed"
    IGNORED = "ignored"
    FAILED = "failed"


class PaymentEvent(UUIDPrimaryKey, Base):
    """A webhook delivery, stored before it is answered so a broker outage cannot lose it."""

    __tablename__ = "payment_events"
    __table_args__ = (UniqueConstraint("provider", "event_key"),)

    provider: Mapped[str] = mapped_column(String(20))
    event_key: Mapped[str] = mapped_column(String(200))
    event_type: Mapped[str] = mapped_column(String(100))
    reference: Mapped[str | None] = mapped_column(String(64), index=True)
    # What the provider says was paid, normalized at intake so the relay never parses provider JSON.
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)
    currency: Mapped[str | None] = mapped_column(String(3))
    payload: Mapped[dict[str, Any]]
    status: Mapped[PaymentEventStatus] = mapped_column(
        str_enum(PaymentEventStatus, "payment_event_status"), default=PaymentEventStatus.RECEIVED
    )
    task_id: Mapped[str | None] = mapped_column(String(64))
    note: Mapped[str | None] = mapped_column(String(500))  # why it was ignored or failed
    received_at: Mapped[datetime] = mapped_column(default=utcnow)
    dispatched_at: Mapped[datetime | None]
    # The webhook request's trace (W3C traceparent): the relay publishes the event's task within it.
    traceparent: Mapped[str | None] = mapped_column(String(55))
