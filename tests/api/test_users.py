from __future__ import annotations

import uuid

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.db.engine import Database
from tasklane.db.models import SentNotification, TaskStatus, User
from tests.conftest import Tenant
from tests.harness.processes import ManagedProcess
from tests.harness.smtp_server import SmtpServer
from tests.harness.tasks import wait_for_attempts, wait_until_finished

pytestmark = pytest.mark.usefixtures("notifications_worker")


def test_registering_a_user_sends_exactly_one_welcome_email(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    response = api.post(
        "/v1/users", json={"email": "Ada@Example.com", "name": "Ada Lovelace"}, headers=tenant.headers
    )

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["email"] == "ada@example.com"
    assert body["name"] == "Ada Lovelace"
    record = wait_until_finished(database, body["welcome_email_task_id"])
    assert record.status == TaskStatus.COMPLETED, record.error
    assert record.attempts == 1
    assert record.business_id == tenant.id

    message = smtp.wait_for_message_to("ada@example.com")
    assert message["Subject"] == f"Welcome to {tenant.name}, Ada Lovelace"
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    assert tenant.name in text
    assert "ada@example.com" in text
    assert "<strong>ada@example.com</strong>" in html
    smtp.settle()
    assert len(smtp.messages_to("ada@example.com")) == 1

    task = api.get(f"/v1/tasks/{record.id}", headers=tenant.headers).json()
    assert task["status"] == "completed"
    assert task["progress"] == 100
    assert task["result"] == {"sent": True, "recipients": ["ada@example.com"]}


def test_html_body_escapes_user_supplied_names(api: TestClient, tenant: Tenant, smtp: SmtpServer) -> None:
    api.post(
        "/v1/users",
        json={"email": "x@example.com", "name": "<script>alert(1)</script>"},
        headers=tenant.headers,
    )

    message = smtp.wait_for_message_to("x@example.com")
    html = message.get_body(preferencelist=("html",)).get_content()
    assert "<script>" not in html
    assert "&lt;script&gt;" in html


def test_duplicate_email_in_the_same_tenant_is_409_and_sends_nothing_more(
    api: TestClient, tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    first = api.post("/v1/users", json={"email": "dup@example.com", "name": "First"}, headers=tenant.headers)
    assert first.status_code == 201
    wait_until_finished(database, first.json()["welcome_email_task_id"])

    second = api.post(
        "/v1/users", json={"email": "DUP@example.com", "name": "Second"}, headers=tenant.headers
    )

    assert second.status_code == 409
    assert "email" in second.json()["detail"]
    smtp.settle()
    assert len(smtp.messages_to("dup@example.com")) == 1


def test_the_same_email_may_register_in_two_tenants(
    api: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    for t in (tenant, other_tenant):
        response = api.post(
            "/v1/users", json={"email": "shared@example.com", "name": "Shared"}, headers=t.headers
        )
        assert response.status_code == 201


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "not-an-email", "name": "X"}, "email"),
        ({"name": "X"}, "email"),
        ({"email": "a@example.com"}, "name"),
        ({"email": "a@example.com", "name": ""}, "name"),
        ({"email": "a@example.com", "name": "X", "role": "admin"}, "role"),
    ],
)
def test_invalid_user_body_is_422_naming_the_field(
    api: TestClient, tenant: Tenant, database: Database, body: dict[str, str], field: str
) -> None:
    response = api.post("/v1/users", json=body, headers=tenant.headers)

    assert response.status_code == 422
    payload = response.json()
    assert payload["detail"].startswith(f"{field}: ")
    assert payload["errors"][0]["field"] == field
    with database.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(User).where(User.business_id == tenant.id)) == 0
        )


@pytest.mark.parametrize(
    ("body", "detail"),
    [
        (b'{"email": ', "body: not valid JSON (Expecting value)"),
        (b'{"email": "\xff"}', "body: not valid UTF-8 (invalid start byte at byte 11)"),
    ],
)
def test_a_body_that_is_not_json_is_400_saying_so_and_creates_nothing(
    api: TestClient, tenant: Tenant, database: Database, body: bytes, detail: str
) -> None:
    response = api.post(
        "/v1/users", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 400
    assert response.json() == {"detail": detail}
    with database.session() as session:
        assert (
            session.scalar(select(func.count()).select_from(User).where(User.business_id == tenant.id)) == 0
        )


@pytest.mark.parametrize(
    ("name", "message"), [(r"Nul\u0000", "NUL"), (r"Half \ud800", "should be a valid string")]
)
def test_text_the_database_cannot_store_is_422_naming_the_field(
    api: TestClient, tenant: Tenant, name: str, message: str
) -> None:
    body = f'{{"email": "text@example.com", "name": "{name}"}}'.encode()

    response = api.post(
        "/v1/users", content=body, headers={**tenant.headers, "Content-Type": "application/json"}
    )

    assert response.status_code == 422
    assert response.json()["detail"].startswith("name: ")
    assert message in response.json()["detail"]


def test_redelivered_welcome_message_sends_one_email(
    api: TestClient,
    tenant: Tenant,
    smtp: SmtpServer,
    database: Database,
    notifications_worker: ManagedProcess,
) -> None:
    response = api.post(
        "/v1/users", json={"email": "twice@example.com", "name": "Twice"}, headers=tenant.headers
    )
    task_id = response.json()["welcome_email_task_id"]
    wait_until_finished(database, task_id)
    celery = api.app.state.resources.celery  # type: ignore[attr-defined]

    # The broker delivers the very same message again (same id, same arguments).
    celery.send_task(
        "notifications.send_welcome_email", kwargs={"user_id": response.json()["id"]}, task_id=task_id
    )

    wait_for_attempts(database, task_id, at_least=2)
    record = wait_until_finished(database, task_id)
    assert record.status == TaskStatus.COMPLETED
    assert record.result == {"sent": False, "recipients": ["twice@example.com"]}
    smtp.settle()
    assert len(smtp.messages_to("twice@example.com")) == 1
    with database.session() as session:
        keys = session.scalars(
            select(SentNotification.dedupe_key).where(SentNotification.business_id == tenant.id)
        ).all()
    assert keys == [f"welcome:{uuid.UUID(response.json()['id'])}"]
