"""The customers export: one row per customer with what they bought."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasklane.contracts.reports import EXPORT_CUSTOMERS, ExportCustomers
from tasklane.db.models import Customer, SalesTransaction
from tasklane_reports.document import Column, Document, Kind
from tasklane_reports.reports import builds
from tasklane_reports.reports.common import generated_note, load_business
from tasklane_reports.sql import streamed_section


@builds(EXPORT_CUSTOMERS)
def build(session: Session, payload: ExportCustomers) -> Document:
    business = load_business(session, payload.business_id)
    purchases = (
        select(
            SalesTransaction.customer_id,
            func.count(SalesTransaction.id).label("transactions"),
            func.sum(SalesTransaction.total_amount).label("spent"),
            func.max(SalesTransaction.occurred_at).label("last_purchase"),
        )
        .where(SalesTransaction.business_id == business.id, SalesTransaction.customer_id.is_not(None))
        .group_by(SalesTransaction.customer_id)
        .subquery()
    )
    rows = (
        select(
            Customer.id,
            Customer.name,
            Customer.email,
            Customer.phone,
            Customer.created_at,
            func.coalesce(purchases.c.transactions, 0),
            func.coalesce(purchases.c.spent, 0),
            purchases.c.last_purchase,
        )
        .outerjoin(purchases, purchases.c.customer_id == Customer.id)
        .where(Customer.business_id == business.id)
        .order_by(Customer.name, Customer.id)
    )
    return Document(
        title=f"Customers - {business.name}",
        subtitle=generated_note(),
        filename_stem=f"customers_{business.id.hex[:8]}",
        export=True,
        sections=[
            streamed_section(
                session,
                "Customers",
                (
                    Column("Customer ID", width=36),
                    Column("Name", width=24),
                    Column("Email", width=28),
                    Column("Phone", width=16),
                    Column("Customer since", Kind.DATETIME, width=16),
                    Column("Transactions", Kind.INT),
                    Column("Total spent", Kind.MONEY),
                    Column("Last purchase", Kind.DATETIME, width=16),
                ),
                rows,
            )
        ],
    )
