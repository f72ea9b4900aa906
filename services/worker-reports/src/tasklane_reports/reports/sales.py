"""The sales report: totals, per-day and per-product breakdowns, and every transaction in the range."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import and_, func, select
from sqlalchemy.orm import Session

from tasklane.contracts.reports import GENERATE_SALES_REPORT, GenerateSalesReport
from tasklane.db.models import Customer, Product, SaleLineItem, SalesTransaction
from tasklane_reports.document import Column, Document, Kind, Section, one_batch
from tasklane_reports.reports import builds
from tasklane_reports.reports.common import generated_note, load_business, range_note
from tasklane_reports.sql import day_of, utc_bounds

TX, ITEM = SalesTransaction, SaleLineItem

TRANSACTION_COLUMNS = (
    Column("Reference", width=12),
    Column("Occurred at", Kind.DATETIME, width=16),
    Column("Customer", width=24),
    Column("Payment method", width=14),
    Column("Total", Kind.MONEY, width=12),
)


@builds(GENERATE_SALES_REPORT)
def build(session: Session, payload: GenerateSalesReport) -> Document:
    business = load_business(session, payload.business_id)
    start, end = utc_bounds(payload.start_date, payload.end_date)
    in_range = and_(TX.business_id == business.id, TX.occurred_at >= start, TX.occurred_at < end)

    day = day_of(TX.occurred_at)
    per_day = session.execute(
        select(day, func.count(TX.id), func.sum(TX.total_amount)).where(in_range).group_by(day).order_by(day)
    ).all()
    per_product = session.execute(
        select(Product.sku, Product.name, func.sum(ITEM.quantity), func.sum(ITEM.line_total))
        .select_from(ITEM)
        .join(TX, TX.id == ITEM.transaction_id)
        .join(Product, Product.id == ITEM.product_id)
        .where(in_range)
        .group_by(Product.id, Product.sku, Product.name)
        .order_by(func.sum(ITEM.line_total).desc(), Product.sku)
    ).all()
    customers = session.scalar(select(func.count(func.distinct(TX.customer_id))).where(in_range))
    # Every total follows from these two passes: a line item has one product, a sale one day.
    transactions = sum(n for _, n, _ in per_day)
    revenue = sum((Decimal(total) for _, _, total in per_day), Decimal(0))
    items = sum(quantity for _, _, quantity, _ in per_product)
    average = (revenue / transactions).quantize(Decimal("0.01")) if transactions else Decimal(0)

    rows = (
        select(TX.reference, TX.occurred_at, Customer.name, TX.payment_method, TX.total_amount)
        .outerjoin(Customer, Customer.id == TX.customer_id)
        .where(in_range)
        .order_by(TX.occurred_at, TX.reference)
    )

    sections = [
        Section(
            "Summary",
            (
                Column("Transactions", Kind.INT),
                Column("Items sold", Kind.INT),
                Column("Revenue", Kind.MONEY),
                Column("Average sale", Kind.MONEY),
                Column("Customers", Kind.INT),
            ),
            one_batch([(transactions, items, revenue, average, customers)]),
        ),
        Section(
            "Sales by day",
            (
                Column("Date", Kind.DATE, width=10),
                Column("Transactions", Kind.INT),
                Column("Revenue", Kind.MONEY),
                Column("Average sale", Kind.MONEY),
            ),
            one_batch(
                (d, n, total, (Decimal(total) / n).quantize(Decimal("0.01"))) for d, n, total in per_day
            ),
        ),
        Section(
            "Sales by product",
            (
                Column("SKU", width=12),
                Column("Product", width=32),
                Column("Quantity", Kind.INT),
                Column("Revenue", Kind.MONEY),
                Column("Share", Kind.PERCENT, width=8),
            ),
            one_batch(
                (sku, name, quantity, total, float(total / revenue) if revenue else 0.0)
                for sku, name, quantity, total in per_product
            ),
        ),
        Section("Transactions", TRANSACTION_COLUMNS, expected_rows=transactions, statement=rows),
    ]
    return Document(
        title=f"Sales report - {business.name}",
        subtitle=f"{range_note(payload.start_date, payload.end_date)}, {generated_note()}",
        filename_stem=f"sales-report_{payload.start_date}_{payload.end_date}",
        sections=sections,
        meta={"transactions": transactions, "revenue": str(revenue)},
    )
