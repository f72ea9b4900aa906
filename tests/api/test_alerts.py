from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tests.conftest import Tenant
from tests.harness.seed import add_movement, add_product
from tests.harness.smtp_server import SmtpServer
from tests.harness.tasks import wait_until_finished


def _task_count(database: Database, tenant: Tenant) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).where(TaskRecord.business_id == tenant.id)) or 0)


@pytest.mark.usefixtures("notifications_worker")
@pytest.mark.parametrize(
    ("path", "body", "name"),
    [
        ("/v1/alerts/low-stock", {}, "notifications.send_low_stock_alert"),
        ("/v1/alerts/stock-movement", {"period_days": 30}, "notifications.send_stock_movement_report"),
        ("/v1/alerts/expiring-products", {"days_threshold": 14}, "notifications.check_expiring_products"),
    ],
)
def test_alert_requests_are_accepted_with_a_task_to_follow(
    api: TestClient,
    tenant: Tenant,
    database: Database,
    smtp: SmtpServer,
    path: str,
    body: dict[str, int],
    name: str,
) -> None:
    product = add_product(database, tenant.id, "P1", stock=1, reorder=5, expires_in_days=7)
    add_movement(database, product, -4)

    response = api.post(path, json=body, headers=tenant.headers)

    assert response.status_code == 202, response.text
    accepted = response.json()
    assert accepted["status"] == "queued"
    assert accepted["status_url"].endswith(f"/v1/tasks/{accepted['task_id']}")
    record = wait_until_finished(database, accepted["task_id"])
    assert (record.name, record.status) == (name, TaskStatus.COMPLETED)
    assert record.kwargs is not None and record.kwargs["business_id"] == str(tenant.id)
    smtp.wait_for_message_to(tenant.owner_email)
    followed = api.get(accepted["status_url"], headers=tenant.headers).json()
    assert followed["status"] == "completed"


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/v1/alerts/stock-movement", {"period_days": 0}, "period_days"),
        ("/v1/alerts/stock-movement", {"period_days": 366}, "period_days"),
        ("/v1/alerts/stock-movement", {"period_days": "week"}, "period_days"),
        ("/v1/alerts/expiring-products", {"days_threshold": 0}, "days_threshold"),
        ("/v1/alerts/expiring-products", {"days_threshold": 400}, "days_threshold"),
        ("/v1/alerts/low-stock", {"product_ids": ["nope"]}, "product_ids.0"),
        ("/v1/alerts/low-stock", {"product_ids": []}, "product_ids"),
    ],
)
def test_out_of_bounds_requests_are_422_naming_the_field_and_queue_nothing(
    api: TestClient, tenant: Tenant, database: Database, path: str, body: dict[str, object], field: str
) -> None:
    response = api.post(path, json=body, headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["errors"][0]["field"] == field
    assert response.json()["detail"].startswith(f"{field}: ")
    assert _task_count(database, tenant) == 0


def test_unknown_or_foreign_product_ids_are_404_and_queue_nothing(
    api: TestClient, tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    own = add_product(database, tenant.id, "MINE", stock=1, reorder=5)
    foreign = add_product(database, other_tenant.id, "THEIRS", stock=1, reorder=5)
    missing = uuid.uuid4()

    response = api.post(
        "/v1/alerts/low-stock",
        json={"product_ids": [str(own.id), str(foreign.id), str(missing)]},
        headers=tenant.headers,
    )

    assert response.status_code == 404
    detail = response.json()["detail"]
    assert detail.startswith("product_ids: products not found: ")
    assert str(foreign.id) in detail and str(missing) in detail
    assert str(own.id) not in detail
    assert _task_count(database, tenant) == 0


def test_alerts_require_an_api_key(api: TestClient) -> None:
    assert api.post("/v1/alerts/low-stock", json={}).status_code == 401
