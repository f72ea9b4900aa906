"""Realistic demo data, fast, for development, tests and benchmarks (never shipped in an image):
``python -m tools.demo_data --help``.

Rows are generated in chunks and never held all at once. On PostgreSQL the bulk tables are loaded with
COPY, which is several times faster than INSERT for a million sales; SQLite gets batched INSERTs.
"""

from __future__ import annotations

import random
import sys
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import click
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from tasklane.admin import AdminError, create_business, find_business
from tasklane.cli import EX_CONFIG
from tasklane.db.base import Base
from tasklane.db.engine import Database
from tasklane.db.models import (
    Business,
    Customer,
    MovementKind,
    Product,
    SaleLineItem,
    SalesTransaction,
    StockMovement,
    User,
)
from tasklane.settings import ConfigurationError, Settings, load_settings

CHUNK = 10_000

_ADJECTIVES = [
    "Organic",
    "Fresh",
    "Premium",
    "Classic",
    "Family",
    "Golden",
    "Crunchy",
    "Lite",
    "Spicy",
    "Pure",
]
_NOUNS = [
    "Rice", "Beans", "Tomato Paste", "Groundnut Oil", "Sugar", "Flour", "Milk", "Tea", "Coffee", "Sardines",
    "Spaghetti", "Noodles", "Soap", "Detergent", "Yoghurt", "Bread", "Biscuits", "Juice", "Water", "Honey",
]  # fmt: skip
_SIZES = ["250g", "500g", "1kg", "2kg", "5kg", "1L", "2L", "6-pack", "12-pack"]
_FIRST = ["Ada", "Kemi", "Tunde", "Chidi", "Amara", "Bayo", "Ngozi", "Femi", "Zainab", "Ife", "Obi", "Lara"]
_LAST = ["Okafor", "Adeyemi", "Balogun", "Eze", "Mensah", "Ibrahim", "Nwosu", "Bello", "Owusu", "Danjuma"]
_PAYMENT_METHODS = ["cash", "card", "transfer", "mobile_money"]


@dataclass(frozen=True)
class DemoSpec:
    businesses: int = 1
    products: int = 50
    customers: int = 100
    sales: int = 1_000
    users: int = 3
    days: int = 365
    seed: int = 7


@dataclass
class DemoSummary:
    business_id: uuid.UUID
    business_name: str
    owner_email: str
    api_key: str | None
    counts: dict[str, int] = field(default_factory=dict)


class _Loader:
    """Bulk-writes rows of one table: COPY on PostgreSQL, executemany elsewhere."""

    def __init__(self, session: Session, postgresql: bool) -> None:
        self.session = session
        self.postgresql = postgresql

    def load(self, model: type[Base], columns: Sequence[str], rows: Iterator[tuple[Any, ...]]) -> int:
        count = 0
        if self.postgresql:
            raw = self.session.connection().connection.driver_connection
            assert raw is not None
            statement = f"COPY {model.__tablename__} ({', '.join(columns)}) FROM STDIN"
            with raw.cursor() as cursor, cursor.copy(statement) as copy:
                for row in rows:
                    copy.write_row(row)
                    count += 1
            return count
        batch: list[dict[str, Any]] = []
        for row in rows:
            batch.append(dict(zip(columns, row, strict=True)))
            if len(batch) >= CHUNK:
                self.session.execute(insert(model), batch)
                count += len(batch)
                batch.clear()
        if batch:
            self.session.execute(insert(model), batch)
            count += len(batch)
        return count


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"


def _products(rng: random.Random, business_id: uuid.UUID, numbers: range, today: date) -> list[Product]:
    products = []
    for i in numbers:
        reorder = rng.randint(5, 40)
        # About one product in eight sits at or below its reorder level, so alerts have something to say.
        stock = rng.randint(0, reorder) if rng.random() < 0.125 else rng.randint(reorder + 1, 500)
        perishable = rng.random() < 0.3
        products.append(
            Product(
                id=uuid.uuid4(),
                business_id=business_id,
                sku=f"SKU-{i + 1:05d}",
                name=f"{rng.choice(_ADJECTIVES)} {rng.choice(_NOUNS)} {rng.choice(_SIZES)}",
                price=Decimal(rng.randint(50, 20_000)) / 100,
                stock_quantity=stock,
                reorder_level=reorder,
                expiry_date=today + timedelta(days=rng.randint(-10, 120)) if perishable else None,
            )
        )
    return products


def _sales_rows(
    rng: random.Random,
    *,
    business_id: uuid.UUID,
    spec: DemoSpec,
    products: Sequence[Product],
    customer_ids: Sequence[uuid.UUID],
    user_ids: Sequence[uuid.UUID],
    now: datetime,
    line_items: list[tuple[Any, ...]],
    first: int,
) -> Iterator[tuple[Any, ...]]:
    """Yield transactions; their line items are appended to ``line_items`` as a side channel."""
    span = spec.days * 86_400
    for i in range(first, first + spec.sales):
        tx_id = uuid.uuid4()
        total = Decimal(0)
        for product in rng.sample(products, k=min(len(products), rng.choice((1, 1, 2, 2, 3)))):
            quantity = rng.randint(1, 5)
            line_total = product.price * quantity
            total += line_total
            line_items.append((tx_id, product.id, quantity, product.price, line_total))
        yield (
            tx_id,
            business_id,
            rng.choice(customer_ids) if customer_ids and rng.random() < 0.7 else None,
            rng.choice(user_ids) if user_ids else None,
            f"TX-{i + 1:08d}",
            now - timedelta(seconds=rng.randint(0, span)),
            total,
            rng.choice(_PAYMENT_METHODS),
        )


def _fill_business(
    session: Session, loader: _Loader, rng: random.Random, business: Business, spec: DemoSpec
) -> dict[str, int]:
    now = datetime.now(UTC)
    # Numbered keys (SKUs, staff emails, transaction references) continue after what the business already
    # has, so filling it again adds to it; ids are random, so no two fills, whatever their seed, collide.
    had = {
        model: session.scalar(select(func.count()).select_from(model).where(model.business_id == business.id))
        or 0
        for model in (User, Product, SalesTransaction)
    }
    users = [
        User(
            business_id=business.id,
            email=f"staff{i + 1}.{business.id.hex[:8]}@example.com",
            name=_person(rng),
            last_active_at=now - timedelta(days=rng.randint(0, 400)),
        )
        for i in range(had[User], had[User] + spec.users)
    ]
    products = _products(rng, business.id, range(had[Product], had[Product] + spec.products), now.date())
    customers = [
        Customer(
            id=uuid.uuid4(),
            business_id=business.id,
            name=_person(rng),
            email=f"customer{i + 1}@example.com",
            phone=f"+234{rng.randint(700_000_0000, 909_999_9999)}",
        )
        for i in range(spec.customers)
    ]
    session.add_all([*users, *products, *customers])
    session.flush()

    movements = [
        (business.id, p.id, MovementKind.RESTOCK.value, rng.randint(10, 200), "demo restock",
         now - timedelta(days=rng.randint(0, 30)))
        for p in products for _ in range(rng.randint(1, 3))
    ]  # fmt: skip
    loader.load(
        StockMovement,
        ("business_id", "product_id", "kind", "quantity", "note", "occurred_at"),
        iter(movements),
    )

    sales = 0
    line_item_count = 0
    customer_ids = [c.id for c in customers]
    user_ids = [u.id for u in users]
    line_items: list[tuple[Any, ...]] = []
    transactions = _sales_rows(
        rng,
        business_id=business.id,
        spec=spec,
        products=products,
        customer_ids=customer_ids,
        user_ids=user_ids,
        now=now,
        line_items=line_items,
        first=had[SalesTransaction],
    )
    tx_columns = (
        "id", "business_id", "customer_id", "user_id", "reference", "occurred_at", "total_amount",
        "payment_method",
    )  # fmt: skip
    while True:
        chunk = [row for _, row in zip(range(CHUNK), transactions, strict=False)]
        if not chunk:
            break
        sales += loader.load(SalesTransaction, tx_columns, iter(chunk))
        line_item_count += loader.load(
            SaleLineItem,
            ("transaction_id", "product_id", "quantity", "unit_price", "line_total"),
            iter(line_items),
        )
        line_items.clear()
    return {
        "users": len(users),
        "products": len(products),
        "customers": len(customers),
        "stock_movements": len(movements),
        "sales": sales,
        "line_items": line_item_count,
    }


def generate(database: Database, spec: DemoSpec, *, business: Business | None = None) -> list[DemoSummary]:
    """Fill ``business`` (or ``spec.businesses`` new ones) with demo data; one transaction per business."""
    rng = random.Random(spec.seed)  # noqa: S311  (demo data wants reproducibility, not secrecy)
    summaries = []
    targets: list[Business | None] = [business] if business is not None else [None] * spec.businesses
    for index, existing in enumerate(targets):
        with database.transaction() as session:
            api_key = None
            if existing is None:
                suffix = uuid.uuid4().hex[:8]
                filled, api_key = create_business(
                    session,
                    name=f"Demo Shop {index + 1} ({suffix})",
                    owner_email=f"owner-{suffix}@example.com",
                    credits=Decimal(rng.randint(0, 500)),
                )
            else:
                filled = session.merge(existing)
            counts = _fill_business(session, _Loader(session, database.is_postgresql), rng, filled, spec)
            summaries.append(DemoSummary(filled.id, filled.name, filled.owner_email, api_key, counts))
    _analyze(database)
    return summaries


def _analyze(database: Database) -> None:
    """Refresh the planner's statistics: after a bulk load they still describe the tables before it, and
    reports over fresh data would get plans meant for a few rows."""
    with database.engine.connect() as connection:
        connection.execute(text("ANALYZE" if database.is_postgresql else "ANALYZE main"))
        connection.commit()


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--businesses", type=click.IntRange(min=1), default=1, show_default=True)
@click.option("--products", type=click.IntRange(min=1), default=50, show_default=True)
@click.option("--customers", type=click.IntRange(min=0), default=100, show_default=True)
@click.option("--sales", type=click.IntRange(min=0), default=1000, show_default=True)
@click.option("--users", type=click.IntRange(min=0), default=3, show_default=True)
@click.option("--seed", type=int, default=7, show_default=True, help="Same seed, same data (ids aside).")
@click.option("--business-email", help="Fill this existing business instead of creating new ones.")
def main(
    *,
    businesses: int,
    products: int,
    customers: int,
    sales: int,
    users: int,
    seed: int,
    business_email: str | None,
) -> None:
    """Fill the database (TASKLANE_DATABASE_URL) with realistic demo businesses, products, customers and
    sales. Exit codes as `tasklane`'s: 1 the action failed, 2 bad usage, 78 bad configuration."""
    try:
        database = Database(load_settings(Settings))
    except ConfigurationError as exc:
        click.echo(f"demo-data: {exc}", err=True)
        sys.exit(EX_CONFIG)
    spec = DemoSpec(
        businesses=businesses, products=products, customers=customers, sales=sales, users=users, seed=seed
    )
    target = None
    if business_email:
        try:
            with database.session() as session:
                target = find_business(session, business_email)
        except AdminError as exc:
            raise click.ClickException(str(exc)) from None
    for summary in generate(database, spec, business=target):
        counts = ", ".join(f"{count} {what}" for what, count in summary.counts.items())
        click.echo(f"{summary.business_name} <{summary.owner_email}> {summary.business_id}: {counts}")
        if summary.api_key:
            click.echo(f"  API key (shown once): {summary.api_key}")


if __name__ == "__main__":
    main()
