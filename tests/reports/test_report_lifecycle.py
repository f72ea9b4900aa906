"""A report's life: queued, processing with progress, completed; or stopped by its time limit or a cancel,
leaving nothing half-written behind."""

from __future__ import annotations

import glob
import os
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from sqlalchemy import func, select, update

from tasklane.db.engine import Database
from tasklane.db.models import ArtifactChunk, ReportArtifact, TaskRecord, TaskStatus, User
from tasklane_api.main import create_app
from tests.conftest import Tenant
from tests.harness.ports import wait_for
from tests.harness.processes import ManagedProcess
from tests.harness.seed import add_user
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import get_record, wait_for_status, wait_until_finished


def whole_year() -> dict[str, str]:
    today = datetime.now(UTC).date()
    return {"start_date": (today - timedelta(days=365)).isoformat(), "end_date": today.isoformat()}


def nothing_left_behind(database: Database, task_id: str) -> None:
    with database.session() as session:
        artifacts = session.scalars(select(ReportArtifact.id).where(ReportArtifact.task_id == task_id)).all()
        orphans = session.scalar(
            select(func.count()).select_from(ArtifactChunk).where(ArtifactChunk.artifact_id.in_(artifacts))
        )
    assert artifacts == []
    assert orphans == 0
    assert glob.glob(os.path.join(tempfile.gettempdir(), f"tasklane-report-{task_id}-*")) == []


@pytest.fixture
def isolated_env(services: Services) -> dict[str, str]:
    return tasklane_env(services, broker_url=fresh_broker_url(services))


@pytest.fixture
def isolated_api(isolated_env: dict[str, str]) -> Iterator[TestClient]:
    with TestClient(create_app(settings_from_env(isolated_env))) as client:
        yield client


def test_a_report_goes_queued_processing_completed_with_progress_from_0_to_100(
    isolated_env: dict[str, str], isolated_api: TestClient, big_shop: Tenant, database: Database
) -> None:
    accepted = isolated_api.post(
        "/v1/reports/sales", json={**whole_year(), "format": "xlsx"}, headers=big_shop.headers
    ).json()
    status_url = accepted["status_url"]
    first = isolated_api.get(status_url, headers=big_shop.headers).json()
    assert (first["status"], first["progress"]) == ("queued", 0), "no worker yet: the task waits, recorded"

    worker = start_worker(isolated_env, "reports", concurrency=1)
    seen: list[tuple[str, int]] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            task = isolated_api.get(status_url, headers=big_shop.headers).json()
            seen.append((task["status"], task["progress"]))
            if task["status"] in ("completed", "failed"):
                break
            time.sleep(0.05)
    finally:
        worker.stop()

    statuses = [s for s, _ in seen]
    assert statuses[-1] == "completed", seen[-1]
    assert "processing" in statuses
    assert statuses.index("processing") < statuses.index("completed")
    progress = [p for _, p in seen]
    assert progress == sorted(progress), "progress never goes backwards"
    assert progress[-1] == 100
    steps = sorted({p for s, p in seen if s == "processing" and 0 < p < 100})
    assert len(steps) >= 5, f"progress should move in visible steps, saw {steps}"
    assert all(b - a <= 5 for a, b in zip([5, *steps], [*steps, 95], strict=True)), steps


def test_the_soft_time_limit_stops_the_report_discards_the_partial_file_and_fails_clearly(
    services: Services, big_shop: Tenant, database: Database
) -> None:
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_REPORTS_SOFT_TIME_LIMIT="1",
        TASKLANE_REPORTS_HARD_TIME_LIMIT="30",
    )
    worker = start_worker(env, "reports", concurrency=1)
    try:
        with TestClient(create_app(settings_from_env(env))) as api:
            accepted = api.post(
                "/v1/reports/sales", json={**whole_year(), "format": "xlsx"}, headers=big_shop.headers
            )
            record = wait_until_finished(database, accepted.json()["task_id"], timeout=60)
    finally:
        worker.stop()

    assert record.status == TaskStatus.FAILED
    assert record.error is not None
    assert record.error.startswith("ran out of time: the report was stopped after its 1s soft time limit")
    assert record.attempts == 1
    assert record.progress < 100
    nothing_left_behind(database, record.id)


def test_cancelling_a_running_report_stops_it_and_keeps_nothing(
    api: TestClient, big_shop: Tenant, database: Database, reports_worker: ManagedProcess
) -> None:
    accepted = api.post(
        "/v1/reports/sales", json={**whole_year(), "format": "xlsx"}, headers=big_shop.headers
    )
    task_id = accepted.json()["task_id"]
    wait_for(
        lambda: (r := get_record(database, task_id)) is not None and r.progress >= 10,
        timeout=60,
        what="the report to be well under way",
    )

    cancelled = api.delete(f"/v1/tasks/{task_id}", headers=big_shop.headers)

    assert cancelled.status_code == 200
    assert cancelled.json()["status"] == "cancelled"
    wait_for(lambda: "TaskCancelled" in reports_worker.log(), timeout=10, what="the report to stop")
    time.sleep(1)  # the worker cleans up
    stopped = reports_worker.log()
    assert "cancelled; the partial file was discarded" in stopped, "stopped as a cancel"
    assert "SoftTimeLimitExceeded" not in stopped, "not as the time limit"
    record = get_record(database, task_id)
    assert record is not None
    assert (record.status, record.error) == (TaskStatus.CANCELLED, "cancelled by the client")
    nothing_left_behind(database, task_id)
    again = api.delete(f"/v1/tasks/{task_id}", headers=big_shop.headers)
    assert again.status_code == 409
    assert again.json()["detail"] == f"task {task_id} has already finished: cancelled"


def test_a_report_run_again_after_storing_its_file_leaves_one_file(
    api: TestClient, shop: Tenant, database: Database, celery: Celery, reports_worker: ManagedProcess
) -> None:
    """A worker killed after storing the file but before the task was recorded complete: the broker
    delivers the message again, the report runs again, and its new file replaces the first."""
    accepted = api.post("/v1/exports/customers", json={"format": "csv"}, headers=shop.headers)
    task_id = accepted.json()["task_id"]
    first = wait_for_status(database, task_id, [TaskStatus.COMPLETED], timeout=60)
    assert first.result is not None
    # What the kill leaves: the file stored, the record still processing; then the redelivery.
    with database.transaction() as session:
        session.execute(
            update(TaskRecord)
            .where(TaskRecord.id == task_id)
            .values(status=TaskStatus.PROCESSING, result=None, finished_at=None)
        )
    celery.send_task(first.name, kwargs=first.kwargs, task_id=task_id, queue=first.queue)
    second = wait_for_status(database, task_id, [TaskStatus.COMPLETED], timeout=60)

    assert second.attempts == first.attempts + 1, "the report ran again"
    assert second.result is not None and second.result["artifact_id"] != first.result["artifact_id"]
    with database.session() as session:
        stored = session.scalars(select(ReportArtifact.id).where(ReportArtifact.task_id == task_id)).all()
        first_chunks = session.scalar(
            select(func.count())
            .select_from(ArtifactChunk)
            .where(ArtifactChunk.artifact_id == uuid.UUID(first.result["artifact_id"]))
        )
    assert [str(a) for a in stored] == [second.result["artifact_id"]]
    assert first_chunks == 0
    link = api.get(f"/v1/tasks/{task_id}", headers=shop.headers).json()["result"]["file_url"]
    download = api.get(link.removeprefix("http://testserver"))
    assert download.status_code == 200
    assert download.content.decode().startswith("Customer ID,Name,Email")


def test_a_report_cancelled_while_queued_never_runs_even_on_a_worker_started_later(
    isolated_env: dict[str, str], isolated_api: TestClient, shop: Tenant, database: Database
) -> None:
    accepted = isolated_api.post("/v1/reports/inventory", json={"format": "csv"}, headers=shop.headers).json()

    cancelled = isolated_api.delete(f"/v1/tasks/{accepted['task_id']}", headers=shop.headers)
    assert cancelled.json()["status"] == "cancelled"
    worker = start_worker(isolated_env, "reports", concurrency=1)
    try:
        wait_for(lambda: "reports.generate_inventory_report" in worker.log(), timeout=20, what="delivery")
        time.sleep(1)
    finally:
        worker.stop()

    record = get_record(database, accepted["task_id"])
    assert record is not None
    assert (record.status, record.attempts) == (TaskStatus.CANCELLED, 0)
    nothing_left_behind(database, record.id)


def test_a_finished_task_cannot_be_cancelled_and_foreign_tasks_are_404(
    api: TestClient, shop: Tenant, other_tenant: Tenant, reports_worker: ManagedProcess
) -> None:
    accepted = api.post("/v1/reports/inventory", json={"format": "csv"}, headers=shop.headers).json()
    task = api.get(f"{accepted['status_url']}?wait=30", headers=shop.headers).json()
    assert task["status"] == "completed"

    assert api.delete(f"/v1/tasks/{task['task_id']}", headers=other_tenant.headers).status_code == 404
    finished = api.delete(f"/v1/tasks/{task['task_id']}", headers=shop.headers)
    assert finished.status_code == 409
    assert "already finished: completed" in finished.json()["detail"]


@pytest.mark.usefixtures("reports_worker", "notifications_worker")
def test_notify_email_chains_a_report_ready_email_with_a_working_link(
    api: TestClient, shop: Tenant, smtp: SmtpServer, database: Database
) -> None:
    accepted = api.post(
        "/v1/exports/customers", json={"format": "csv", "notify_email": True}, headers=shop.headers
    ).json()
    assert accepted["notify_task_id"]

    email_record = wait_for_status(database, accepted["notify_task_id"], [TaskStatus.COMPLETED], timeout=60)
    report = get_record(database, accepted["task_id"])
    assert report is not None
    assert report.status == TaskStatus.COMPLETED
    with database.session() as session:
        artifact_created = session.scalar(
            select(ReportArtifact.created_at).where(ReportArtifact.task_id == accepted["task_id"])
        )
    # Celery publishes the link just before the report's own success is recorded, so the email is
    # compared with the stored file, which the report writes before it returns.
    assert email_record.started_at is not None and artifact_created is not None
    assert email_record.started_at >= artifact_created, "the email follows the finished report"
    message = smtp.wait_for_message_to(shop.owner_email)
    body = message.get_body(preferencelist=("plain",))
    assert body is not None
    link = next(line.strip() for line in body.get_content().splitlines() if "/v1/artifacts/" in line)
    download = api.get(link.removeprefix("http://testserver"))
    assert download.status_code == 200
    assert download.content.decode().startswith("Customer ID,Name,Email")


@pytest.mark.usefixtures("notifications_worker")
def test_no_email_follows_a_failed_report(
    isolated_env: dict[str, str], isolated_api: TestClient, shop: Tenant, database: Database
) -> None:
    user = add_user(database, shop.id, f"leaver-{uuid.uuid4().hex[:6]}@shop.test", name="Leaver")
    accepted = isolated_api.post(
        "/v1/reports/user-activity",
        json={"user_id": str(user.id), "notify_email": True},
        headers=shop.headers,
    ).json()
    with database.transaction() as session:
        session.delete(session.get_one(User, user.id))  # the user leaves before a worker gets to the report

    worker = start_worker(isolated_env, "reports", concurrency=1)
    try:
        record = wait_until_finished(database, accepted["task_id"], timeout=60)
        time.sleep(1)
    finally:
        worker.stop()

    assert record.status == TaskStatus.FAILED
    assert record.error == f"user {user.id} does not exist in this business"
    assert get_record(database, accepted["notify_task_id"]) is None, "the chain stops at a failure"
