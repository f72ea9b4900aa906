"""Tenants (businesses), their API keys and their users."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import CheckConstraint, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from tasklane.db.base import Base, CreatedAt, UUIDPrimaryKey


class Business(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "businesses"
    __table_args__ = (CheckConstraint("credit_balance >= 0", name="credit_balance_not_negative"),)

    name: Mapped[str] = mapped_column(String(200))
    owner_email: Mapped[str] = mapped_column(String(320), unique=True)
    is_active: Mapped[bool] = mapped_column(default=True)
    credit_balance: Mapped[Decimal] = mapped_column(default=Decimal("0"))
    low_credit_threshold: Mapped[Decimal] = mapped_column(default=Decimal("10"))
    # Set when the low-credit alert fires; cleared once the balance is back above the threshold, so the
    # alert goes out once per downward crossing.
    low_credit_alerted_at: Mapped[datetime | None]


class ApiKey(UUIDPrimaryKey, CreatedAt, Base):
    """An API key is shown once; only its SHA-256 is kept (keys are random, so a slow hash adds nothing)."""

    __tablename__ = "api_keys"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    prefix: Mapped[str] = mapped_column(String(16))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    revoked_at: Mapped[datetime | None]


class User(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "users"
    __table_args__ = (UniqueConstraint("business_id", "email"),)

    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(320))
    name: Mapped[str] = mapped_column(String(200))
    last_active_at: Mapped[datetime | None]
    deactivated_at: Mapped[datetime | None]
    alerts_opt_out: Mapped[bool] = mapped_column(default=False)
