"""The API as deployed: gunicorn with uvicorn workers, configured from TASKLANE_API_* settings."""

from __future__ import annotations

import httpx
import pytest

from tasklane.db.engine import Database
from tasklane.db.models import TaskStatus
from tests.conftest import Tenant
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import start_api_server
from tests.harness.tasks import wait_until_finished


@pytest.mark.usefixtures("notifications_worker")
def test_gunicorn_serves_the_api_end_to_end_and_shuts_down_gracefully(
    env: dict[str, str], tenant: Tenant, smtp: SmtpServer, database: Database
) -> None:
    server, base_url = start_api_server(env, workers=2)
    try:
        with httpx.Client(base_url=base_url, timeout=10) as client:
            assert client.get("/docs").status_code == 200
            assert client.get("/openapi.json").json()["info"]["title"] == "Tasklane API"
            assert client.get("/readyz").json()["status"] == "ready"

            created = client.post(
                "/v1/users", json={"email": "gunicorn@example.com", "name": "Green"}, headers=tenant.headers
            )
            assert created.status_code == 201, created.text
            record = wait_until_finished(database, created.json()["welcome_email_task_id"])
            assert record.status == TaskStatus.COMPLETED
            smtp.wait_for_message_to("gunicorn@example.com")
        assert server.log().count("Booting worker") == 2  # TASKLANE_API_WORKERS reached gunicorn
    finally:
        server.stop(timeout=30)
    assert server.process is not None
    assert server.process.returncode == 0
    assert "Shutting down: Master" in server.log()
