"""Customers and the sales recorded against them."""

from __future__ import annotations

import uuid
from datetime import datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from tasklane.db.base import BIGINT_PK, Base, CreatedAt, UUIDPrimaryKey, utcnow


class Customer(UUIDPrimaryKey, CreatedAt, Base):
    __tablename__ = "customers"

    business_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("businesses.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    phone: Mapped[str | None] = mapped_column(String(40))


class SalesTransaction(UUIDPrimaryKey, Base):
    __tablename__ = "sales_transactions"
    __table_args__ = (Index("ix_sales_transactions_business_id_occurred_at", "business_id", "occurred_at"),)

    business_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("businesses.id", ondelete="CASCADE"))
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customers.id", ondelete="SET NULL"))
    # The user who recorded the sale (for the user activity report).
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), index=True)
    reference: Mapped[str] = mapped_column(String(40))
    occurred_at: Mapped[datetime] = mapped_column(default=utcnow)
    total_amount: Mapped[Decimal]
    payment_method: Mapped[str] = mapped_column(String(20))


class SaleLineItem(Base):
    __tablename__ = "sale_line_items"

    id: Mapped[int] = mapped_column(BIGINT_PK, primary_key=True)
    transaction_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("sales_transactions.id", ondelete="CASCADE"), index=True
    )
    product_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("products.id", ondelete="CASCADE"), index=True)
    quantity: Mapped[int]
    unit_price: Mapped[Decimal]
    line_total: Mapped[Decimal]
