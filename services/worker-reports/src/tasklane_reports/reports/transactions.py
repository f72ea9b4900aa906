"""The transactions export: one row per sale in the range, for accounting and other tools."""

from __future__ import annotations

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tasklane.contracts.reports import EXPORT_TRANSACTIONS, ExportTransactions
from tasklane.db.models import Customer, SaleLineItem, SalesTransaction, User
from tasklane_reports.document import Column, Document, Kind
from tasklane_reports.reports import builds
from tasklane_reports.reports.common import generated_note, load_business, range_note
from tasklane_reports.sql import streamed_section, utc_bounds

TX = SalesTransaction


@builds(EXPORT_TRANSACTIONS)
def build(session: Session, payload: ExportTransactions) -> Document:
    business = load_business(session, payload.business_id)
    start, end = utc_bounds(payload.start_date, payload.end_date)
    in_range = and_(TX.business_id == business.id, TX.occurred_at >= start, TX.occurred_at < end)
    items = (
        select(SaleLineItem.transaction_id, func.sum(SaleLineItem.quantity).label("quantity"))
        .join(TX, TX.id == SaleLineItem.transaction_id)
        .where(in_range)
        .group_by(SaleLineItem.transaction_id)
        .subquery()
    )
    rows = (
        select(
            TX.reference,
            TX.occurred_at,
            Customer.name,
            User.name,
            TX.payment_method,
            func.coalesce(items.c.quantity, 0),
            TX.total_amount,
        )
        .outerjoin(Customer, Customer.id == TX.customer_id)
        .outerjoin(User, User.id == TX.user_id)
        .outerjoin(items, items.c.transaction_id == TX.id)
        .where(in_range)
        .order_by(TX.occurred_at, TX.reference)
    )
    return Document(
        title=f"Transactions - {business.name}",
        subtitle=f"{range_note(payload.start_date, payload.end_date)}, {generated_note()}",
        filename_stem=f"transactions_{payload.start_date}_{payload.end_date}",
        export=True,
        sections=[
            streamed_section(
                session,
                "Transactions",
                (
                    Column("Reference", width=12),
                    Column("Occurred at", Kind.DATETIME, width=16),
                    Column("Customer", width=24),
                    Column("Recorded by", width=20),
                    Column("Payment method", width=14),
                    Column("Items", Kind.INT, width=6),
                    Column("Total", Kind.MONEY, width=12),
                ),
                rows,
            )
        ],
    )
