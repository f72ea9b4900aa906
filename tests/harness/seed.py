"""Small, explicit domain data for one tenant, so each test can state exactly what it expects."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import MovementKind, Product, StockMovement, User


def add_user(
    database: Database,
    business_id: uuid.UUID,
    email: str,
    *,
    name: str = "Staff",
    opted_out: bool = False,
    deactivated: bool = False,
) -> User:
    with database.transaction() as session:
        user = User(
            business_id=business_id,
            email=email,
            name=name,
            alerts_opt_out=opted_out,
            deactivated_at=utcnow() if deactivated else None,
        )
        session.add(user)
    return user


def add_product(
    database: Database,
    business_id: uuid.UUID,
    sku: str,
    *,
    stock: int,
    reorder: int,
    name: str | None = None,
    price: str = "9.99",
    expires_in_days: int | None = None,
) -> Product:
    expiry = date.today() + timedelta(days=expires_in_days) if expires_in_days is not None else None
    with database.transaction() as session:
        product = Product(
            business_id=business_id,
            sku=sku,
            name=name or f"Product {sku}",
            price=Decimal(price),
            stock_quantity=stock,
            reorder_level=reorder,
            expiry_date=expiry,
        )
        session.add(product)
    return product


def add_movement(database: Database, product: Product, quantity: int, *, days_ago: float = 1) -> None:
    kind = MovementKind.RESTOCK if quantity > 0 else MovementKind.SALE
    with database.transaction() as session:
        session.add(
            StockMovement(
                business_id=product.business_id,
                product_id=product.id,
                kind=kind,
                quantity=quantity,
                occurred_at=utcnow() - timedelta(days=days_ago),
            )
        )
