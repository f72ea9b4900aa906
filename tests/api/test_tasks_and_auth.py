from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient

from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import ApiKey, TaskRecord, TaskStatus
from tests.conftest import Tenant


def _record(database: Database, tenant: Tenant, status: TaskStatus = TaskStatus.QUEUED) -> str:
    task_id = str(uuid.uuid4())
    with database.transaction() as session:
        session.add(
            TaskRecord(
                id=task_id, business_id=tenant.id, name="reports.example", queue="reports", status=status
            )
        )
    return task_id


def test_missing_key_is_401_with_a_bearer_challenge(api: TestClient) -> None:
    response = api.get("/v1/tasks")

    assert response.status_code == 401
    assert response.headers["WWW-Authenticate"] == "Bearer"
    assert "Authorization: Bearer" in response.json()["detail"]


@pytest.mark.parametrize("header", ["Bearer tl_wrong", "Basic dXNlcjpwYXNz", "tl_no_scheme"])
def test_wrong_key_is_401(api: TestClient, header: str) -> None:
    response = api.get("/v1/tasks", headers={"Authorization": header})

    assert response.status_code == 401


def test_revoked_key_is_401(api: TestClient, tenant: Tenant, database: Database) -> None:
    assert api.get("/v1/tasks", headers=tenant.headers).status_code == 200
    with database.transaction() as session:
        for key in session.query(ApiKey).filter(ApiKey.business_id == tenant.id):
            key.revoked_at = utcnow()

    assert api.get("/v1/tasks", headers=tenant.headers).status_code == 401


def test_a_tenant_reads_its_own_task(api: TestClient, tenant: Tenant, database: Database) -> None:
    task_id = _record(database, tenant)

    response = api.get(f"/v1/tasks/{task_id}", headers=tenant.headers)

    assert response.status_code == 200
    body = response.json()
    assert body["task_id"] == task_id
    assert body["status"] == "queued"
    assert body["progress"] == 0
    assert set(body) >= {"name", "result", "error", "created_at", "updated_at"}


def test_another_tenants_task_is_404_like_a_missing_one(
    api: TestClient, tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    task_id = _record(database, tenant)

    foreign = api.get(f"/v1/tasks/{task_id}", headers=other_tenant.headers)
    missing = api.get(f"/v1/tasks/{uuid.uuid4()}", headers=other_tenant.headers)

    assert foreign.status_code == missing.status_code == 404
    assert foreign.json()["detail"] == f"task {task_id} not found"


def test_listing_filters_by_status_newest_first_and_only_the_tenants_own(
    api: TestClient, tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    older = _record(database, tenant, TaskStatus.COMPLETED)
    _record(database, tenant, TaskStatus.FAILED)
    newer = _record(database, tenant, TaskStatus.COMPLETED)
    _record(database, other_tenant, TaskStatus.COMPLETED)

    response = api.get("/v1/tasks", params={"status": "completed"}, headers=tenant.headers)

    assert response.status_code == 200
    assert [t["task_id"] for t in response.json()["items"]] == [newer, older]
    limited = api.get("/v1/tasks", params={"limit": 1}, headers=tenant.headers).json()["items"]
    assert [t["task_id"] for t in limited] == [newer]


@pytest.mark.parametrize(("params", "field"), [({"status": "done"}, "status"), ({"limit": 101}, "limit")])
def test_bad_list_parameters_are_422_naming_the_parameter(
    api: TestClient, tenant: Tenant, params: dict[str, object], field: str
) -> None:
    response = api.get("/v1/tasks", params=params, headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")


def test_openapi_documents_the_error_shape_and_bearer_auth(api: TestClient) -> None:
    schema = api.get("/openapi.json").json()

    assert schema["components"]["schemas"]["HTTPValidationError"]["required"] == ["detail", "errors"]
    assert schema["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert "/v1/users" in schema["paths"]
    assert "/v1/tasks/{task_id}" in schema["paths"]
    assert api.get("/docs").status_code == 200
