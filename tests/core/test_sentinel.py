"""A Redis Sentinel set as broker, result backend and beat's store: every Redis client Tasklane holds
(Celery's broker and backend, RedBeat, the task-finished notices, readiness) finds the master through it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from tasklane.settings import ConfigurationError, Settings, load_settings
from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness.beat import holds_lock, start_beat
from tests.harness.ports import wait_for
from tests.harness.redis_server import RedisSentinel
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, settings_from_env, start_worker, tasklane_env


@pytest.fixture
def sentinel() -> Iterator[RedisSentinel]:
    server = RedisSentinel()
    server.start()
    yield server
    server.stop()


def test_a_sentinel_url_needs_the_master_name(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TASKLANE_ENVIRONMENT", "development")
    monkeypatch.setenv("TASKLANE_BROKER_URL", "sentinel://10.0.0.1:26379;sentinel://10.0.0.2:26379/0")

    with pytest.raises(ConfigurationError, match="TASKLANE_REDIS_SENTINEL_MASTER is required"):
        load_settings(Settings)


def test_the_api_workers_and_beat_run_on_a_sentinel_set(
    services: Services, sentinel: RedisSentinel, tenant: Tenant, smtp: SmtpServer
) -> None:
    env = tasklane_env(
        services,
        broker_url=sentinel.url,
        TASKLANE_REDIS_SENTINEL_MASTER=RedisSentinel.MASTER,
        TASKLANE_BEAT_MAX_LOOP_INTERVAL="0.5",
        TASKLANE_BEAT_LOCK_TIMEOUT="3",
    )
    worker = start_worker(env, "notifications")  # started once it answered a ping through the sentinel set
    beat = start_beat(env)
    try:
        with TestClient(create_app(settings_from_env(env))) as api:
            assert api.get("/readyz").json()["checks"]["broker"] == "ok"
            created = api.post(
                "/v1/users", json={"email": "sentinel@example.com", "name": "Sen"}, headers=tenant.headers
            )
            assert created.status_code == 201, created.text
            # Answered early by the task-finished notice, which also goes through the sentinel set.
            task = api.get(
                f"/v1/tasks/{created.json()['welcome_email_task_id']}?wait=20", headers=tenant.headers
            ).json()
        assert task["status"] == "completed", task
        smtp.wait_for_message_to("sentinel@example.com")
        wait_for(lambda: holds_lock(beat), timeout=30, what="beat to take its lock through the sentinel set")
        # Everything went to the master the sentinel named.
        assert sentinel.master_client().exists("tasklane:beat::lock")
    finally:
        beat.stop()
        worker.stop()
