"""The user activity report: who the user is, what they recorded, month by month and sale by sale."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from tasklane.contracts.reports import GENERATE_USER_ACTIVITY_REPORT, GenerateUserActivityReport
from tasklane.db.models import Customer, SalesTransaction, User
from tasklane.errors import PermanentTaskError
from tasklane_reports.document import Column, Document, Kind, Section, one_batch
from tasklane_reports.reports import builds
from tasklane_reports.reports.common import generated_note, load_business, slug
from tasklane_reports.sql import month_of, streamed_section

TX = SalesTransaction


@builds(GENERATE_USER_ACTIVITY_REPORT)
def build(session: Session, payload: GenerateUserActivityReport) -> Document:
    business = load_business(session, payload.business_id)
    user = session.get(User, payload.user_id)
    if user is None or user.business_id != business.id:
        raise PermanentTaskError(f"user {payload.user_id} does not exist in this business")
    recorded = TX.user_id == user.id
    transactions, revenue, first_sale, last_sale = session.execute(
        select(
            func.count(TX.id), func.coalesce(func.sum(TX.total_amount), 0), func.min(TX.occurred_at),
            func.max(TX.occurred_at),
        ).where(recorded)
    ).one()  # fmt: skip
    month = month_of(TX.occurred_at)
    per_month = session.execute(
        select(month, func.count(TX.id), func.sum(TX.total_amount))
        .where(recorded)
        .group_by(month)
        .order_by(month)
    ).all()
    rows = (
        select(TX.reference, TX.occurred_at, Customer.name, TX.payment_method, TX.total_amount)
        .outerjoin(Customer, Customer.id == TX.customer_id)
        .where(recorded)
        .order_by(TX.occurred_at, TX.reference)
    )
    status = "deactivated" if user.deactivated_at else "active"
    return Document(
        title=f"User activity - {user.name}",
        subtitle=f"{business.name}, {generated_note()}",
        filename_stem=f"user-activity_{slug(user.name)}",
        sections=[
            Section(
                "User",
                (
                    Column("Name", width=24),
                    Column("Email", width=30),
                    Column("Member since", Kind.DATETIME, width=16),
                    Column("Last active", Kind.DATETIME, width=16),
                    Column("Status", width=12),
                ),
                one_batch([(user.name, user.email, user.created_at, user.last_active_at, status)]),
            ),
            Section(
                "Summary",
                (
                    Column("Transactions recorded", Kind.INT, width=22),
                    Column("Revenue recorded", Kind.MONEY, width=16),
                    Column("First sale", Kind.DATETIME, width=16),
                    Column("Last sale", Kind.DATETIME, width=16),
                ),
                one_batch([(transactions, revenue, first_sale, last_sale)]),
            ),
            Section(
                "Activity by month",
                (Column("Month", width=8), Column("Transactions", Kind.INT), Column("Revenue", Kind.MONEY)),
                one_batch(per_month),
            ),
            streamed_section(
                session,
                "Transactions recorded",
                (
                    Column("Reference", width=12),
                    Column("Occurred at", Kind.DATETIME, width=16),
                    Column("Customer", width=24),
                    Column("Payment method", width=14),
                    Column("Total", Kind.MONEY, width=12),
                ),
                rows,
            ),
        ],
        meta={"user_id": str(user.id), "transactions": transactions},
    )
