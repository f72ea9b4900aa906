"""The inventory report: stock levels, their value at price, and what needs reordering."""

from __future__ import annotations

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from tasklane.contracts.reports import GENERATE_INVENTORY_REPORT, GenerateInventoryReport
from tasklane.db.models import Product
from tasklane_reports.document import Column, Document, Kind, Section, one_batch
from tasklane_reports.reports import builds
from tasklane_reports.reports.common import generated_note, load_business
from tasklane_reports.sql import streamed_section

REORDER = "REORDER"


@builds(GENERATE_INVENTORY_REPORT)
def build(session: Session, payload: GenerateInventoryReport) -> Document:
    business = load_business(session, payload.business_id)
    where = [Product.business_id == business.id]
    if not payload.include_zero_stock:
        where.append(Product.stock_quantity > 0)
    value = Product.price * Product.stock_quantity
    needs_reorder = Product.stock_quantity <= Product.reorder_level
    products, units, total_value, to_reorder = session.execute(
        select(
            func.count(Product.id),
            func.coalesce(func.sum(Product.stock_quantity), 0),
            func.coalesce(func.sum(value), 0),
            func.coalesce(func.sum(case((needs_reorder, 1), else_=0)), 0),
        ).where(*where)
    ).one()
    rows = (
        select(
            Product.sku,
            Product.name,
            Product.stock_quantity,
            Product.reorder_level,
            Product.price,
            value,
            case((needs_reorder, REORDER), else_=""),
        )
        .where(*where)
        .order_by(Product.sku)
    )
    scope = "all products" if payload.include_zero_stock else "products in stock"
    return Document(
        title=f"Inventory report - {business.name}",
        subtitle=f"{scope}, {generated_note()}",
        filename_stem=f"inventory-report_{business.id.hex[:8]}",
        sections=[
            Section(
                "Summary",
                (
                    Column("Products", Kind.INT),
                    Column("Units in stock", Kind.INT),
                    Column("Stock value", Kind.MONEY),
                    Column("At or below reorder level", Kind.INT, width=26),
                ),
                one_batch([(products, units, total_value, to_reorder)]),
            ),
            streamed_section(
                session,
                "Stock",
                (
                    Column("SKU", width=12),
                    Column("Product", width=32),
                    Column("In stock", Kind.INT, width=9),
                    Column("Reorder at", Kind.INT, width=10),
                    Column("Price", Kind.MONEY, width=10),
                    Column("Stock value", Kind.MONEY, width=12),
                    Column("Status", width=8),
                ),
                rows,
            ),
        ],
        meta={"products": products, "to_reorder": to_reorder},
    )
