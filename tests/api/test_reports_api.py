"""Report requests are validated before anything is queued; files download by signed link or API key."""

from __future__ import annotations

import hashlib
import time
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tasklane.db.engine import Database
from tasklane.db.models import ReportArtifact, TaskRecord
from tasklane.settings import Settings
from tasklane.signing import artifact_url
from tests.conftest import Tenant
from tests.harness.reports import request_report
from tests.harness.seed import add_user

TODAY = datetime.now(UTC).date()


def _queued(database: Database, tenant: Tenant) -> int:
    with database.session() as session:
        return int(session.scalar(select(func.count()).where(TaskRecord.business_id == tenant.id)) or 0)


@pytest.mark.parametrize(
    ("path", "body", "field", "message"),
    [
        ("/v1/reports/sales", {"start_date": "2026-02-30", "end_date": "2026-03-01", "format": "csv"},
         "start_date", "Input should be a valid date"),
        ("/v1/reports/sales", {"start_date": "2026-03-02", "end_date": "2026-03-01", "format": "csv"},
         "end_date", "must not be before start_date (2026-03-02)"),
        ("/v1/reports/sales", {"start_date": "2025-01-01", "end_date": "2026-01-02", "format": "csv"},
         "end_date", "the range may cover at most 366 days"),
        ("/v1/reports/sales", {"start_date": "2026-01-01", "end_date": "2026-01-02", "format": "docx"},
         "format", "Input should be 'pdf', 'xlsx' or 'csv'"),
        ("/v1/reports/sales", {"end_date": "2026-01-02", "format": "csv"}, "start_date", "Field required"),
        ("/v1/reports/inventory", {"format": "html"}, "format", "Input should be 'pdf', 'xlsx' or 'csv'"),
        ("/v1/exports/customers", {"format": "pdf"}, "format", "Input should be 'csv' or 'xlsx'"),
        ("/v1/exports/transactions", {"start_date": "2026-01-01", "end_date": "2026-01-31", "format": "pdf"},
         "format", "Input should be 'csv' or 'xlsx'"),
        ("/v1/reports/user-activity", {"user_id": "someone"}, "user_id", "Input should be a valid UUID"),
        ("/v1/reports/inventory", {"format": "csv", "colour": "red"},
         "colour", "Extra inputs are not permitted"),
    ],
)  # fmt: skip
def test_invalid_report_requests_are_422_naming_the_field_and_queue_nothing(
    api: TestClient,
    tenant: Tenant,
    database: Database,
    path: str,
    body: dict[str, Any],
    field: str,
    message: str,
) -> None:
    response = api.post(path, json=body, headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["detail"].startswith(f"{field}: ")
    assert message in response.json()["detail"]
    assert _queued(database, tenant) == 0


def test_a_user_activity_report_for_another_tenants_user_is_404(
    api: TestClient, tenant: Tenant, other_tenant: Tenant, database: Database
) -> None:
    foreign = add_user(database, other_tenant.id, f"theirs-{uuid.uuid4().hex[:6]}@shop.test")

    response = api.post(
        "/v1/reports/user-activity", json={"user_id": str(foreign.id)}, headers=tenant.headers
    )

    assert response.status_code == 404
    assert response.json()["detail"] == f"user_id: user {foreign.id} not found"
    assert _queued(database, tenant) == 0


def test_a_valid_request_is_accepted_with_the_records_status_and_a_status_url(
    api: TestClient, tenant: Tenant
) -> None:
    response = api.post("/v1/reports/inventory", json={"format": "csv"}, headers=tenant.headers)

    assert response.status_code == 202
    body = response.json()
    # The one 202 shape every accepted task has (alerts answer the same way): the record's own status.
    assert set(body) == {"task_id", "status", "status_url", "notify_task_id"}
    assert body["status"] == "queued"
    assert body["status_url"] == f"http://testserver/v1/tasks/{body['task_id']}"
    assert body["notify_task_id"] is None


@pytest.fixture(scope="module")
def report(api: TestClient, shop: Tenant, reports_worker: object) -> dict[str, Any]:
    return request_report(api, shop, "/v1/exports/customers", {"format": "csv"})


def test_the_signed_link_downloads_without_the_key_with_the_right_headers(
    api: TestClient, report: dict[str, Any]
) -> None:
    result = report["result"]

    response = api.get(result["file_url"])

    assert response.status_code == 200
    assert response.headers["content-type"] == "text/csv; charset=utf-8"
    assert int(response.headers["content-length"]) == result["size_bytes"] == len(response.content)
    assert response.headers["content-disposition"] == (
        f"attachment; filename=\"{result['filename']}\"; filename*=UTF-8''{result['filename']}"
    )
    assert hashlib.sha256(response.content).hexdigest() == result["sha256"]


def test_the_signed_link_is_short_lived_and_never_outlives_the_file(
    report: dict[str, Any], settings: Settings
) -> None:
    expires = int(parse_qs(urlparse(report["result"]["file_url"]).query)["expires"][0])

    assert expires - time.time() == pytest.approx(settings.download_url_ttl, abs=60)


def _with_query(url: str, **changes: str) -> str:
    parts = urlparse(url)
    query = {k: v[0] for k, v in parse_qs(parts.query).items()} | changes
    return f"{parts.path}?{urlencode(query)}"


def test_an_altered_signed_link_is_403(api: TestClient, report: dict[str, Any]) -> None:
    url = report["result"]["file_url"]
    signature = parse_qs(urlparse(url).query)["signature"][0]
    later = str(int(time.time()) + 86400)

    tampered = api.get(_with_query(url, signature=signature[:-1] + ("0" if signature[-1] != "0" else "1")))
    extended = api.get(_with_query(url, expires=later))
    other_file = api.get(url.replace(report["result"]["artifact_id"], str(uuid.uuid4())))
    half = api.get(urlparse(url).path + "?signature=" + signature)

    # Non-ASCII: once a 500, as compare_digest refuses non-ASCII text.
    foreign = api.get(_with_query(url, signature="\u00e9" * len(signature)))

    assert tampered.status_code == extended.status_code == other_file.status_code == half.status_code == 403
    assert foreign.status_code == 403
    assert tampered.json()["detail"] == foreign.json()["detail"] == "signature: this link is not valid"


def test_an_expired_signed_link_is_403(api: TestClient, report: dict[str, Any], settings: Settings) -> None:
    artifact_id = uuid.UUID(report["result"]["artifact_id"])
    expired = artifact_url(settings, artifact_id, expires_at=datetime.now(UTC) - timedelta(seconds=1))

    response = api.get(expired.removeprefix(str(settings.public_base_url).rstrip("/")))

    assert response.status_code == 403
    assert response.json()["detail"] == "expires: this link has expired; ask for a new one"


def test_the_owner_downloads_with_the_key_and_others_get_404_or_401(
    api: TestClient, report: dict[str, Any], shop: Tenant, other_tenant: Tenant
) -> None:
    path = f"/v1/artifacts/{report['result']['artifact_id']}"

    assert api.get(path, headers=shop.headers).status_code == 200
    foreign = api.get(path, headers=other_tenant.headers)
    assert foreign.status_code == 404
    assert foreign.json()["detail"] == f"artifact {report['result']['artifact_id']} not found"
    assert api.get(path).status_code == 401


def test_an_expired_file_is_410_and_its_task_no_longer_offers_a_link(
    api: TestClient, shop: Tenant, database: Database, reports_worker: object
) -> None:
    task = request_report(api, shop, "/v1/reports/inventory", {"format": "csv"})
    artifact_id = uuid.UUID(task["result"]["artifact_id"])
    past = datetime.now(UTC) - timedelta(minutes=1)
    with database.transaction() as session:
        session.execute(
            update(ReportArtifact).where(ReportArtifact.id == artifact_id).values(expires_at=past)
        )
        record = session.get_one(TaskRecord, task["task_id"])
        record.result = {**(record.result or {}), "expires_at": past.isoformat()}

    response = api.get(f"/v1/artifacts/{artifact_id}", headers=shop.headers)
    again = api.get(f"/v1/tasks/{task['task_id']}", headers=shop.headers).json()

    assert response.status_code == 410
    assert again["result"]["file_url"] is None
    assert again["result"]["file_expired"] is True


def test_wait_answers_as_soon_as_the_task_finishes(
    api: TestClient, shop: Tenant, reports_worker: object
) -> None:
    accepted = api.post("/v1/reports/inventory", json={"format": "xlsx"}, headers=shop.headers).json()

    started = time.monotonic()
    task = api.get(f"{accepted['status_url']}?wait=30", headers=shop.headers).json()
    waited = time.monotonic() - started

    assert task["status"] == "completed"
    assert task["result"]["file_url"]
    assert waited < 25, "it must answer when the task ends, not at the deadline"


def test_wait_returns_the_current_status_at_the_deadline(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    task_id = str(uuid.uuid4())
    with database.transaction() as session:
        session.add(TaskRecord(id=task_id, business_id=tenant.id, name="reports.x", queue="reports"))

    response = api.get(f"/v1/tasks/{task_id}?wait=1", headers=tenant.headers)

    assert response.status_code == 200
    assert response.json()["status"] == "queued"


@pytest.mark.parametrize("wait", ["31", "-1", "soon"])
def test_wait_is_bounded(api: TestClient, tenant: Tenant, wait: str) -> None:
    response = api.get(f"/v1/tasks/{uuid.uuid4()}?wait={wait}", headers=tenant.headers)

    assert response.status_code == 422
    assert response.json()["detail"].startswith("wait: ")
