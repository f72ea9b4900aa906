"""What one API worker process spends on a request: threads no more than its database connections, and no
connection left checked out once a request has answered."""

from __future__ import annotations

import pytest
from anyio import to_thread
from fastapi.testclient import TestClient

from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness.stack import settings_from_env


@pytest.mark.timeout(60)  # stopping at once after starting once hung in the task-finished subscription
def test_blocking_work_runs_on_as_many_threads_as_the_pool_keeps_connections(env: dict[str, str]) -> None:
    with TestClient(create_app(settings_from_env({**env, "TASKLANE_DATABASE_POOL_SIZE": "3"}))) as client:
        assert client.portal is not None
        assert client.portal.call(lambda: to_thread.current_default_thread_limiter().total_tokens) == 3


def test_a_request_returns_its_connections_to_the_pool(api: TestClient, tenant: Tenant) -> None:
    pool = api.app.state.resources.database.engine.pool  # type: ignore[attr-defined]
    accepted = api.post(
        "/v1/users", json={"email": "pool@example.com", "name": "Pool"}, headers=tenant.headers
    )
    assert accepted.status_code == 201, accepted.text
    missing = api.post("/v1/reports/user-activity", json={"user_id": "00000000-0000-0000-0000-000000000000",
                       "format": "csv"}, headers=tenant.headers)  # fmt: skip
    assert missing.status_code in (404, 422), missing.text  # a route that read, then refused
    assert pool.checkedout() == 0
