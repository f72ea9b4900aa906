"""Spending AI credits: atomic, never negative, and the low-credit alert once per downward crossing."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.models import Business, CreditLedgerEntry, TaskRecord
from tests.conftest import Tenant
from tests.harness.seed import add_user
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import start_api_server
from tests.harness.tasks import wait_until_finished


def _set_balance(database: Database, tenant: Tenant, balance: str, threshold: str = "10") -> None:
    with database.transaction() as session:
        business = session.get_one(Business, tenant.id)
        business.credit_balance = Decimal(balance)
        business.low_credit_threshold = Decimal(threshold)
        business.low_credit_alerted_at = None


def _spend(api: TestClient, tenant: Tenant, amount: str, **headers: str) -> httpx.Response:
    return api.post(
        "/v1/credits/usage",
        json={"amount": amount, "description": "AI product descriptions"},
        headers={**tenant.headers, **headers},
    )


def _alert_tasks(database: Database, tenant: Tenant) -> list[TaskRecord]:
    with database.session() as session:
        return list(
            session.scalars(
                select(TaskRecord).where(
                    TaskRecord.business_id == tenant.id,
                    TaskRecord.name == "notifications.send_low_credit_alert",
                )
            )
        )


def test_spending_returns_the_new_balance_and_writes_the_ledger(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    _set_balance(database, tenant, "100.00")

    response = _spend(api, tenant, "12.50")

    assert response.status_code == 200, response.text
    assert response.json() == {"balance": "87.50", "low_credit_alert_task_id": None, "replayed": False}
    with database.session() as session:
        entry = session.scalars(
            select(CreditLedgerEntry).where(CreditLedgerEntry.business_id == tenant.id)
        ).one()
    assert (entry.delta, entry.balance_after, entry.kind) == (Decimal("-12.50"), Decimal("87.50"), "usage")


def test_an_insufficient_balance_is_409_with_the_balance_and_spends_nothing(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    _set_balance(database, tenant, "3.00")

    response = _spend(api, tenant, "5")

    assert response.status_code == 409
    assert response.json() == {
        "detail": "amount: insufficient credits: the balance is 3.00, the spend was 5",
        "balance": "3.00",
    }
    with database.session() as session:
        assert session.get_one(Business, tenant.id).credit_balance == Decimal("3.00")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": "0", "description": "x"}, "amount"),
        ({"amount": "-1", "description": "x"}, "amount"),
        ({"amount": "1.001", "description": "x"}, "amount"),
        ({"amount": "1"}, "description"),
        ({"amount": "1", "description": ""}, "description"),
    ],
)
def test_bad_spends_are_422_naming_the_field(
    api: TestClient, tenant: Tenant, body: dict[str, str], field: str
) -> None:
    response = api.post("/v1/credits/usage", json=body, headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")


@pytest.mark.usefixtures("notifications_worker")
def test_the_low_credit_alert_fires_on_the_first_crossing_only_and_again_after_rearming(
    api: TestClient, tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    _set_balance(database, tenant, "20.00", threshold="10")

    above = _spend(api, tenant, "5").json()  # 15: still above
    crossing = _spend(api, tenant, "6").json()  # 9: crosses
    below = _spend(api, tenant, "1").json()  # 8: already below, no new alert

    assert above["low_credit_alert_task_id"] is None
    assert crossing["low_credit_alert_task_id"] is not None
    assert below["low_credit_alert_task_id"] is None
    wait_until_finished(database, crossing["low_credit_alert_task_id"])
    message = smtp.wait_for_message_to(tenant.owner_email)
    assert message["Subject"] == "Your AI credit balance is low (9.00 left)"

    # Lowering the threshold under the balance re-arms the alert; the next crossing alerts again.
    settings = api.put(
        "/v1/settings/alerts",
        json={"low_credit_threshold": "5", "opted_out_user_ids": []},
        headers=tenant.headers,
    )
    assert settings.status_code == 200
    second = _spend(api, tenant, "4").json()  # 4 < 5: a new crossing
    assert second["low_credit_alert_task_id"] is not None
    wait_until_finished(database, second["low_credit_alert_task_id"])
    smtp.settle()
    subjects = [m["Subject"] for m in smtp.messages_to(tenant.owner_email)]
    assert subjects == [
        "Your AI credit balance is low (9.00 left)",
        "Your AI credit balance is low (4.00 left)",
    ]
    assert len(_alert_tasks(database, tenant)) == 2


def test_an_idempotency_key_makes_a_retried_spend_count_once(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    _set_balance(database, tenant, "50.00")

    first = _spend(api, tenant, "10", **{"Idempotency-Key": "req-42"})
    retry = _spend(api, tenant, "10", **{"Idempotency-Key": "req-42"})
    other = _spend(api, tenant, "10", **{"Idempotency-Key": "req-43"})

    assert first.json() == {"balance": "40.00", "low_credit_alert_task_id": None, "replayed": False}
    assert retry.json() == {"balance": "40.00", "low_credit_alert_task_id": None, "replayed": True}
    assert other.json()["balance"] == "30.00"

    # Any key up to 255 characters works, however little room the ledger's reference column has.
    long_key = "k" * 255
    first_long = _spend(api, tenant, "5", **{"Idempotency-Key": long_key})
    retry_long = _spend(api, tenant, "5", **{"Idempotency-Key": long_key})
    assert first_long.json()["balance"] == retry_long.json()["balance"] == "25.00"
    assert retry_long.json()["replayed"] is True
    assert _spend(api, tenant, "5", **{"Idempotency-Key": "k" * 256}).status_code == 422


@pytest.mark.usefixtures("notifications_worker")
def test_100_concurrent_spends_never_drive_the_balance_negative_and_alert_once(
    env: dict[str, str], tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    _set_balance(database, tenant, "50.00", threshold="10")
    server, base_url = start_api_server(env, workers=2)
    try:
        with httpx.Client(base_url=base_url, headers=tenant.headers, timeout=30) as client:

            def spend(_: int) -> httpx.Response:
                return client.post("/v1/credits/usage", json={"amount": "1", "description": "burst"})

            with ThreadPoolExecutor(max_workers=25) as pool:
                responses = list(pool.map(spend, range(100)))
    finally:
        server.stop()

    assert Counter(r.status_code for r in responses) == {200: 50, 409: 50}
    balances = sorted(Decimal(r.json()["balance"]) for r in responses if r.status_code == 200)
    assert balances == [Decimal(n) for n in range(50)], "each successful spend saw a distinct balance"
    with database.session() as session:
        assert session.get_one(Business, tenant.id).credit_balance == Decimal("0.00")
        ledger = session.scalar(select(func.count()).where(CreditLedgerEntry.business_id == tenant.id))
    assert ledger == 50
    alerts = [r.json()["low_credit_alert_task_id"] for r in responses if r.status_code == 200]
    assert len([a for a in alerts if a]) == 1, "exactly one spend crossed the threshold"
    smtp.wait_for_message_to(tenant.owner_email)
    smtp.settle()
    assert len(smtp.messages_to(tenant.owner_email)) == 1


def test_alert_settings_round_trip_and_opt_outs_change_who_receives_alerts(
    api: TestClient, tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    quiet = add_user(database, tenant.id, f"quiet-{tenant.id.hex[:6]}@shop.test")
    foreign = add_user(database, other_tenant.id, f"x-{tenant.id.hex[:6]}@shop.test")

    assert api.get("/v1/settings/alerts", headers=tenant.headers).json() == {
        "low_credit_threshold": "10.00",
        "opted_out_user_ids": [],
    }
    updated = api.put(
        "/v1/settings/alerts",
        json={"low_credit_threshold": "25.50", "opted_out_user_ids": [str(quiet.id)]},
        headers=tenant.headers,
    )
    assert updated.status_code == 200
    assert updated.json() == {"low_credit_threshold": "25.50", "opted_out_user_ids": [str(quiet.id)]}

    rejected = api.put(
        "/v1/settings/alerts",
        json={"low_credit_threshold": "5", "opted_out_user_ids": [str(foreign.id)]},
        headers=tenant.headers,
    )
    assert rejected.status_code == 404
    assert rejected.json()["detail"] == f"opted_out_user_ids: users not found: {foreign.id}"
    negative = api.put(
        "/v1/settings/alerts",
        json={"low_credit_threshold": "-1", "opted_out_user_ids": []},
        headers=tenant.headers,
    )
    assert negative.status_code == 422
    assert api.get("/v1/settings/alerts", headers=tenant.headers).json()["low_credit_threshold"] == "25.50"
