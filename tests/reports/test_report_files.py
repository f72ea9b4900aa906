"""Each report and format, produced by a real reports worker and checked against the shop's own rows.

The expected figures are computed here in plain Python from the rows themselves, not with the SQL the
reports use, so a wrong join or grouping in a report shows up as a mismatch.
"""

from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import openpyxl
import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader
from sqlalchemy import select

from tasklane.db.engine import Database
from tasklane.db.models import Customer, Product, SaleLineItem, SalesTransaction, User
from tests.conftest import Tenant
from tests.harness.reports import download, request_report

pytestmark = pytest.mark.usefixtures("reports_worker")


@dataclass
class Oracle:
    start: date
    end: date
    transactions: list[SalesTransaction]
    items: dict[object, list[SaleLineItem]]
    products: dict[object, Product]
    customers: dict[object, Customer]
    users: list[User]

    @property
    def revenue(self) -> Decimal:
        return sum((t.total_amount for t in self.transactions), Decimal(0))

    def by_day(self) -> dict[date, tuple[int, Decimal]]:
        days: dict[date, list[SalesTransaction]] = defaultdict(list)
        for t in self.transactions:
            days[t.occurred_at.astimezone(UTC).date()].append(t)
        return {day: (len(txs), sum((t.total_amount for t in txs), Decimal(0))) for day, txs in days.items()}

    def by_product(self) -> dict[str, tuple[int, Decimal]]:
        totals: dict[str, list[int | Decimal]] = defaultdict(lambda: [0, Decimal(0)])
        for t in self.transactions:
            for item in self.items[t.id]:
                entry = totals[self.products[item.product_id].sku]
                entry[0] += item.quantity
                entry[1] += item.line_total
        return {sku: (int(q), Decimal(v)) for sku, (q, v) in totals.items()}


@pytest.fixture(scope="module")
def oracle(database: Database, shop: Tenant) -> Oracle:
    today = datetime.now(UTC).date()
    start, end = today - timedelta(days=30), today
    with database.session() as session:
        all_tx = session.scalars(
            select(SalesTransaction).where(SalesTransaction.business_id == shop.id)
        ).all()
        in_range = [t for t in all_tx if start <= t.occurred_at.astimezone(UTC).date() <= end]
        items: dict[object, list[SaleLineItem]] = defaultdict(list)
        for item in session.scalars(
            select(SaleLineItem).where(SaleLineItem.transaction_id.in_([t.id for t in in_range]))
        ):
            items[item.transaction_id].append(item)
        products = {p.id: p for p in session.scalars(select(Product).where(Product.business_id == shop.id))}
        customers = {
            c.id: c for c in session.scalars(select(Customer).where(Customer.business_id == shop.id))
        }
        users = list(session.scalars(select(User).where(User.business_id == shop.id)))
    assert 100 < len(in_range) < len(all_tx), "the range must cut the history to mean anything"
    return Oracle(start, end, in_range, items, products, customers, users)


def csv_sections(text: str) -> dict[str, list[list[str]]]:
    """A report CSV: a title row, then blocks of (blank row, section title, header, rows)."""
    rows = list(csv.reader(io.StringIO(text)))
    sections: dict[str, list[list[str]]] = {}
    index = 1
    while index < len(rows):
        assert rows[index] == [], f"expected a blank row before a section, got {rows[index]}"
        title, header = rows[index + 1][0], rows[index + 2]
        end = index + 3
        while end < len(rows) and rows[end] != []:
            end += 1
        sections[title] = [header, *rows[index + 3 : end]]
        index = end
    return sections


def sales_body(oracle: Oracle, fmt: str) -> dict[str, str]:
    return {"start_date": oracle.start.isoformat(), "end_date": oracle.end.isoformat(), "format": fmt}


def test_sales_report_csv_matches_the_shops_sales(api: TestClient, shop: Tenant, oracle: Oracle) -> None:
    task = request_report(api, shop, "/v1/reports/sales", sales_body(oracle, "csv"))

    result = task["result"]
    assert result["content_type"] == "text/csv; charset=utf-8"
    assert result["filename"] == f"sales-report_{oracle.start}_{oracle.end}.csv"
    assert result["rows"] > len(oracle.transactions)
    sections = csv_sections(download(api, task).decode())
    assert list(sections) == ["Summary", "Sales by day", "Sales by product", "Transactions"]

    summary = dict(zip(*sections["Summary"], strict=True))
    assert int(summary["Transactions"]) == len(oracle.transactions)
    assert Decimal(summary["Revenue"]) == oracle.revenue
    assert int(summary["Items sold"]) == sum(i.quantity for items in oracle.items.values() for i in items)

    expected_days = oracle.by_day()
    assert sections["Sales by day"][0] == ["Date", "Transactions", "Revenue", "Average sale"]
    days = {date.fromisoformat(r[0]): (int(r[1]), Decimal(r[2])) for r in sections["Sales by day"][1:]}
    assert days == expected_days
    for r in sections["Sales by day"][1:]:
        assert Decimal(r[3]) == (Decimal(r[2]) / int(r[1])).quantize(Decimal("0.01"))

    expected_products = oracle.by_product()
    products = {r[0]: (int(r[2]), Decimal(r[3])) for r in sections["Sales by product"][1:]}
    assert products == expected_products
    revenues = [Decimal(r[3]) for r in sections["Sales by product"][1:]]
    assert revenues == sorted(revenues, reverse=True), "best sellers first"

    header, *transactions = sections["Transactions"]
    assert header == ["Reference", "Occurred at", "Customer", "Payment method", "Total"]
    assert sorted(r[0] for r in transactions) == sorted(t.reference for t in oracle.transactions)
    assert sum(Decimal(r[4]) for r in transactions) == oracle.revenue
    times = [datetime.fromisoformat(r[1]) for r in transactions]
    assert times == sorted(times)
    by_reference = {t.reference: t for t in oracle.transactions}
    for reference, _, customer, method, total in transactions[:50]:
        tx = by_reference[reference]
        assert customer == (oracle.customers[tx.customer_id].name if tx.customer_id else "")
        assert (method, Decimal(total)) == (tx.payment_method, tx.total_amount)


def test_sales_report_xlsx_has_typed_sheets(api: TestClient, shop: Tenant, oracle: Oracle) -> None:
    task = request_report(api, shop, "/v1/reports/sales", sales_body(oracle, "xlsx"))

    book = openpyxl.load_workbook(io.BytesIO(download(api, task)), read_only=True)
    assert book.sheetnames == ["Summary", "Sales by day", "Sales by product", "Transactions"]
    summary = list(book["Summary"].iter_rows(values_only=True))
    assert summary[0] == ("Transactions", "Items sold", "Revenue", "Average sale", "Customers")
    assert summary[1][0] == len(oracle.transactions)
    assert summary[1][2] == pytest.approx(float(oracle.revenue))
    rows = list(book["Transactions"].iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(oracle.transactions)
    assert all(isinstance(r[1], datetime) for r in rows), "dates are real dates, not text"
    assert sum(r[4] for r in rows) == pytest.approx(float(oracle.revenue))
    days = list(book["Sales by day"].iter_rows(min_row=2, values_only=True))
    assert {d[0].date(): d[1] for d in days} == {k: v[0] for k, v in oracle.by_day().items()}


def test_sales_report_pdf_text(api: TestClient, shop: Tenant, oracle: Oracle) -> None:
    task = request_report(api, shop, "/v1/reports/sales", sales_body(oracle, "pdf"))

    pdf = PdfReader(io.BytesIO(download(api, task)))
    text = "\n".join(page.extract_text() for page in pdf.pages)
    assert f"Sales report - {shop.name}" in text
    assert f"{oracle.start} to {oracle.end} (UTC)" in text
    assert f"{oracle.revenue:,.2f}" in text
    assert all(t.reference in text for t in oracle.transactions), "every transaction is listed"
    assert len(pdf.pages) > 2
    assert "Transactions (continued)" in text


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "pdf"])
def test_inventory_report_flags_what_needs_reordering(
    api: TestClient, shop: Tenant, oracle: Oracle, fmt: str
) -> None:
    task = request_report(api, shop, "/v1/reports/inventory", {"format": fmt, "include_zero_stock": True})

    content = download(api, task)
    products = list(oracle.products.values())
    expected_flags = {p.sku for p in products if p.stock_quantity <= p.reorder_level}
    assert expected_flags, "the demo data has products to reorder"
    if fmt == "csv":
        rows = csv_sections(content.decode())["Stock"][1:]
        assert {r[0] for r in rows if r[6] == "REORDER"} == expected_flags
        assert {r[0]: Decimal(r[5]) for r in rows} == {p.sku: p.price * p.stock_quantity for p in products}
    elif fmt == "xlsx":
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Stock"]
        rows = list(sheet.iter_rows(min_row=2, values_only=True))
        assert {r[0] for r in rows if r[6] == "REORDER"} == expected_flags
        assert len(rows) == len(products)
    else:
        text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)
        flagged = {line.split()[0] for line in text.splitlines() if line.rstrip().endswith("REORDER")}
        assert flagged == expected_flags


def test_inventory_report_leaves_out_zero_stock_unless_asked(
    api: TestClient, shop: Tenant, oracle: Oracle
) -> None:
    task = request_report(api, shop, "/v1/reports/inventory", {"format": "csv"})

    rows = csv_sections(download(api, task).decode())["Stock"][1:]
    in_stock = {p.sku for p in oracle.products.values() if p.stock_quantity > 0}
    assert {r[0] for r in rows} == in_stock
    assert len(in_stock) < len(oracle.products), "the demo data has products with no stock"


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_customers_export(
    api: TestClient, shop: Tenant, oracle: Oracle, database: Database, fmt: str
) -> None:
    task = request_report(api, shop, "/v1/exports/customers", {"format": fmt})

    content = download(api, task)
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(content.decode())))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Customers"]
        header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header[:3] == ["Customer ID", "Name", "Email"]
    assert {str(r[0]) for r in rows} == {str(c) for c in oracle.customers}
    with database.session() as session:
        spent = Counter()
        for t in session.scalars(select(SalesTransaction).where(SalesTransaction.business_id == shop.id)):
            if t.customer_id:
                spent[str(t.customer_id)] += t.total_amount
    for row in rows:
        assert Decimal(str(row[6])).quantize(Decimal("0.01")) == spent.get(str(row[0]), Decimal(0))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_transactions_export(api: TestClient, shop: Tenant, oracle: Oracle, fmt: str) -> None:
    body = {"start_date": oracle.start.isoformat(), "end_date": oracle.end.isoformat(), "format": fmt}
    task = request_report(api, shop, "/v1/exports/transactions", body)

    content = download(api, task)
    if fmt == "csv":
        header, *rows = list(csv.reader(io.StringIO(content.decode())))
    else:
        sheet = openpyxl.load_workbook(io.BytesIO(content), read_only=True)["Transactions"]
        header, *rows = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert header == [
        "Reference",
        "Occurred at",
        "Customer",
        "Recorded by",
        "Payment method",
        "Items",
        "Total",
    ]
    expected = {t.reference: t for t in oracle.transactions}
    assert {r[0] for r in rows} == set(expected)
    users = {u.id: u.name for u in oracle.users}
    for reference, _, _, recorded_by, _, items, _ in rows:
        tx = expected[reference]
        assert int(items) == sum(i.quantity for i in oracle.items[tx.id])
        assert (recorded_by or "") == (users[tx.user_id] if tx.user_id else "")
    assert task["result"]["rows"] == len(oracle.transactions)


def test_user_activity_report(api: TestClient, shop: Tenant, oracle: Oracle, database: Database) -> None:
    user = oracle.users[0]
    with database.session() as session:
        recorded = session.scalars(select(SalesTransaction).where(SalesTransaction.user_id == user.id)).all()

    pdf_task = request_report(api, shop, "/v1/reports/user-activity", {"user_id": str(user.id)})
    csv_task = request_report(
        api, shop, "/v1/reports/user-activity", {"user_id": str(user.id), "format": "csv"}
    )

    text = "\n".join(p.extract_text() for p in PdfReader(io.BytesIO(download(api, pdf_task))).pages)
    assert f"User activity - {user.name}" in text
    assert user.email in text
    sections = csv_sections(download(api, csv_task).decode())
    assert list(sections) == ["User", "Summary", "Activity by month", "Transactions recorded"]
    assert int(sections["Summary"][1][0]) == len(recorded)
    assert {r[0] for r in sections["Transactions recorded"][1:]} == {t.reference for t in recorded}
    assert sum(int(r[1]) for r in sections["Activity by month"][1:]) == len(recorded)
