from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select

from tasklane.apikeys import hash_api_key
from tasklane.db.engine import Database
from tasklane.db.models import ApiKey, Business, Product, SaleLineItem, SalesTransaction
from tests.harness.stack import REPO

TASKLANE = str(Path(sys.executable).parent / "tasklane")
DEMO_DATA = [sys.executable, "-m", "tools.demo_data"]  # development tooling, not in the core's CLI


def _run(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    command = [*DEMO_DATA, *args[1:]] if args[0] == "demo-data" else [TASKLANE, *args]
    return subprocess.run(
        command, env=env, cwd=REPO, capture_output=True, text=True, check=False, timeout=120
    )


def test_create_business_prints_a_working_key_once_and_refuses_a_duplicate(
    env: dict[str, str], database: Database
) -> None:
    created = _run(env, "admin", "create-business", "--name", "Corner Shop", "--email", "Corner@Shop.test")

    assert created.returncode == 0, created.stderr
    key = created.stdout.split("store it now): ")[1].strip()
    with database.session() as session:
        business = session.scalars(select(Business).where(Business.owner_email == "corner@shop.test")).one()
        stored = session.scalars(select(ApiKey).where(ApiKey.business_id == business.id)).one()
    assert stored.key_hash == hash_api_key(key)
    assert key not in stored.key_hash

    again = _run(env, "admin", "create-business", "--name", "Corner Shop", "--email", "corner@shop.test")
    assert again.returncode == 1
    assert "a business owned by corner@shop.test already exists" in again.stderr

    another = _run(env, "admin", "create-api-key", "--email", "corner@shop.test")
    assert another.returncode == 0
    assert another.stdout.split("store it now): ")[1].strip() != key


def test_bad_configuration_exits_78_naming_the_variable(env: dict[str, str]) -> None:
    broken = {k: v for k, v in env.items() if k != "TASKLANE_DATABASE_URL"}

    result = _run(broken, "db", "current")

    assert result.returncode == 78
    assert "TASKLANE_DATABASE_URL is required outside development" in result.stderr


def test_usage_errors_exit_2(env: dict[str, str]) -> None:
    assert _run(env, "admin", "create-business", "--name", "No Email").returncode == 2


def test_demo_data_fills_a_business_consistently(env: dict[str, str], database: Database) -> None:
    result = _run(env, "demo-data", "--products", "20", "--customers", "10", "--sales", "500", "--seed", "3")

    assert result.returncode == 0, result.stderr
    business_id = result.stdout.split(">")[1].split(":")[0].strip()
    with database.session() as session:
        products = session.scalar(select(func.count()).where(Product.business_id == business_id))
        sales = session.scalar(select(func.count()).where(SalesTransaction.business_id == business_id))
        totals_match = session.scalar(
            select(func.count())
            .select_from(SalesTransaction)
            .where(
                SalesTransaction.business_id == business_id,
                SalesTransaction.total_amount
                == select(func.sum(SaleLineItem.line_total))
                .where(SaleLineItem.transaction_id == SalesTransaction.id)
                .scalar_subquery(),
            )
        )
    assert (products, sales) == (20, 500)
    assert totals_match == 500


def test_demo_data_adds_to_a_business_again_and_beside_others_with_the_same_seed(
    env: dict[str, str], database: Database
) -> None:
    created = _run(env, "admin", "create-business", "--name", "Refill", "--email", "refill@shop.test")
    assert created.returncode == 0, created.stderr
    args = ("demo-data", "--products", "5", "--customers", "3", "--sales", "20", "--seed", "9")

    runs = [_run(env, *args, "--business-email", "refill@shop.test") for _ in range(2)]
    beside = _run(env, *args)

    assert [r.returncode for r in (*runs, beside)] == [0, 0, 0], [r.stderr[-2000:] for r in (*runs, beside)]
    with database.session() as session:
        business = session.scalars(select(Business).where(Business.owner_email == "refill@shop.test")).one()
        skus = session.scalars(select(Product.sku).where(Product.business_id == business.id)).all()
        sales = session.scalar(select(func.count()).where(SalesTransaction.business_id == business.id))
    assert sorted(skus) == [f"SKU-{i:05d}" for i in range(1, 11)]
    assert sales == 40
