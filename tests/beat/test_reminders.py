"""Reminders: the API, and the every-minute dispatcher sending each due one once (and deleted ones never)."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from celery import Celery
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from tasklane.celery_app import create_celery_app
from tasklane.contracts.notifications import DISPATCH_DUE_REMINDERS, Dispatch
from tasklane.db.engine import Database
from tasklane.db.models import Reminder, ReminderStatus, SentNotification, TaskStatus
from tasklane_beat.schedule import SCHEDULE
from tests.conftest import Tenant
from tests.harness.beat import start_beat
from tests.harness.ports import wait_for
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import run_task


def iso(moment: datetime) -> str:
    return moment.isoformat()


def remind(api: TestClient, tenant: Tenant, **body: object) -> dict[str, object]:
    response = api.post("/v1/reminders", json=body, headers=tenant.headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


def test_reminders_are_created_listed_read_and_deleted_per_tenant(
    api: TestClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    later = datetime.now(UTC) + timedelta(days=2)
    created = remind(api, tenant, message="Stocktake", remind_at=iso(later), recipients=["ops@example.com"])
    assert created["status"] == "pending"
    assert created["recipients"] == ["ops@example.com"]
    assert created["dispatched_at"] is None

    url = f"/v1/reminders/{created['id']}"
    assert api.get(url, headers=tenant.headers).json()["message"] == "Stocktake"
    assert api.get(url, headers=other_tenant.headers).status_code == 404
    assert [r["id"] for r in api.get("/v1/reminders?status=pending", headers=tenant.headers).json()] == [
        created["id"]
    ]
    assert api.get("/v1/reminders", headers=other_tenant.headers).json() == []

    assert api.delete(url, headers=other_tenant.headers).status_code == 404
    assert api.delete(url, headers=tenant.headers).status_code == 204
    assert api.delete(url, headers=tenant.headers).status_code == 204, "deleting twice is harmless"
    assert api.get(url, headers=tenant.headers).json()["status"] == "cancelled"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"message": "", "remind_at": "2030-01-01T09:00:00Z"}, "message"),
        ({"message": "x", "remind_at": "2030-01-01T09:00:00"}, "remind_at"),
        ({"message": "x", "remind_at": "tomorrow"}, "remind_at"),
        ({"message": "x", "remind_at": "2030-01-01T09:00:00Z", "recipients": ["not-an-email"]}, "recipients"),
        ({"message": "x", "remind_at": "2030-01-01T09:00:00Z", "recipients": []}, "recipients"),
        ({"message": "x", "remind_at": "2030-01-01T09:00:00Z", "when": "soon"}, "when"),
    ],
)
def test_a_bad_reminder_is_refused_naming_the_field(
    api: TestClient, tenant: Tenant, body: dict[str, object], field: str
) -> None:
    response = api.post("/v1/reminders", json=body, headers=tenant.headers)
    assert response.status_code == 422
    assert field in json.dumps(response.json())


def test_a_dispatched_reminder_can_no_longer_be_deleted(
    api: TestClient, tenant: Tenant, database: Database
) -> None:
    created = remind(api, tenant, message="Too late", remind_at=iso(datetime.now(UTC) + timedelta(days=1)))
    with database.transaction() as session:
        session.get_one(Reminder, uuid.UUID(str(created["id"]))).status = ReminderStatus.DISPATCHED
    response = api.delete(f"/v1/reminders/{created['id']}", headers=tenant.headers)
    assert response.status_code == 409
    assert "already dispatched" in response.json()["detail"]


@pytest.fixture
def isolated_stack(services: Services) -> Iterator[tuple[dict[str, str], Celery]]:
    """A notifications worker on a broker of its own, so only this test's dispatchers reach it."""
    overrides = {name: {"enabled": False} for name in SCHEDULE}
    overrides["dispatch-due-reminders"] = {"every": 2}
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_BEAT_MAX_LOOP_INTERVAL="0.5",
        TASKLANE_BEAT_LOCK_TIMEOUT="3",
        TASKLANE_BEAT_SCHEDULE_OVERRIDES=json.dumps(overrides),
    )
    worker = start_worker(env, "notifications", concurrency=2)
    app = create_celery_app(settings_from_env(env))
    yield env, app
    app.close()
    worker.stop()


def test_a_due_reminder_is_sent_once_within_a_minute_and_a_deleted_one_never(
    isolated_stack: tuple[dict[str, str], Celery],
    tenant: Tenant,
    smtp: SmtpServer,
    database: Database,
) -> None:
    env, _ = isolated_stack
    with TestClient(
        __import__("tasklane_api.main", fromlist=["create_app"]).create_app(settings_from_env(env))
    ) as api:
        past = datetime.now(UTC) - timedelta(minutes=5)
        due = remind(
            api,
            tenant,
            message=f"Count the till {uuid.uuid4()}",
            remind_at=iso(past),
            recipients=["till@example.com"],
        )
        deleted = remind(
            api, tenant, message="Never mind", remind_at=iso(past), recipients=["never@example.com"]
        )
        future = remind(
            api, tenant, message="Next week", remind_at=iso(datetime.now(UTC) + timedelta(days=7))
        )
        assert api.delete(f"/v1/reminders/{deleted['id']}", headers=tenant.headers).status_code == 204

        beat = start_beat(env, "beat-reminders")
        try:
            message = smtp.wait_for_message_to("till@example.com", timeout=60)
            smtp.settle(5)  # two more dispatcher ticks
        finally:
            beat.stop()
        sent = api.get(f"/v1/reminders/{due['id']}", headers=tenant.headers).json()
        assert api.get(f"/v1/reminders/{future['id']}", headers=tenant.headers).json()["status"] == "pending"
        assert (
            api.get(f"/v1/reminders/{deleted['id']}", headers=tenant.headers).json()["status"] == "cancelled"
        )

    assert str(due["message"]) in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert len(smtp.messages_to("till@example.com")) == 1
    assert smtp.messages_to("never@example.com") == []
    assert sent["status"] == "dispatched"
    assert datetime.fromisoformat(sent["dispatched_at"]) - past < timedelta(minutes=6)


def test_dispatchers_racing_over_the_same_due_reminders_hand_each_out_once(
    isolated_stack: tuple[dict[str, str], Celery], tenant: Tenant, database: Database, smtp: SmtpServer
) -> None:
    _, app = isolated_stack
    past = datetime.now(UTC) - timedelta(minutes=1)
    with database.transaction() as session:
        reminders = [
            Reminder(
                business_id=tenant.id,
                message=f"race {i}",
                remind_at=past,
                recipients=[f"race{i}@example.org"],
            )
            for i in range(30)
        ]
        session.add_all(reminders)
    ids = [r.id for r in reminders]

    results: list[object] = []
    racers = [
        threading.Thread(
            target=lambda: results.append(
                run_task(app, database, DISPATCH_DUE_REMINDERS, Dispatch(), timeout=60)
            )
        )
        for _ in range(3)
    ]
    for racer in racers:
        racer.start()
    for racer in racers:
        racer.join()

    assert all(getattr(r, "status", None) == TaskStatus.COMPLETED for r in results), results
    claimed = sum(getattr(r, "result", {})["claimed"] for r in results)
    assert claimed >= len(ids)  # other tests may have left due reminders of their own
    with database.session() as session:
        handed_out = session.execute(
            select(Reminder.status, Reminder.task_id).where(Reminder.id.in_(ids))
        ).all()
    assert {status for status, _ in handed_out} == {ReminderStatus.DISPATCHED}
    assert len({task_id for _, task_id in handed_out}) == len(ids), "one send task per reminder"
    wait_for(
        lambda: all(smtp.messages_to(f"race{i}@example.org") for i in range(30)),
        timeout=60,
        what="30 reminders",
    )
    smtp.settle(2)
    assert all(len(smtp.messages_to(f"race{i}@example.org")) == 1 for i in range(30))
    with database.session() as session:
        sent = session.scalar(
            select(func.count())
            .select_from(SentNotification)
            .where(SentNotification.dedupe_key.in_([f"reminder:{i}" for i in ids]))
        )
    assert sent == len(ids)
