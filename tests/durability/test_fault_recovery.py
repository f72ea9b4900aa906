"""No accepted task is ever lost: not when PostgreSQL blinks, not when a worker is killed, not when Redis
forgets. Each scenario runs the real stack (gunicorn, workers, beat, a private PostgreSQL and Redis) and
checks every task's effect: arrived, and exactly once. Figures, side by side with the revision before this
work, come from `make bench-durability`."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from datetime import datetime, timedelta

import httpx
import pytest

from tasklane.celery_app import create_celery_app
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane_beat.schedule import SCHEDULE
from tasklane_maintenance.reconciler import Reconciler
from tests.harness.faults import (
    RECONCILE_EVERY,
    Installation,
    installation,
    notifications_killed,
    postgres_blink,
    redis_forgets,
    register_users,
    reports_killed,
    start_reconciler,
)
from tests.harness.ports import wait_for
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import Services, settings_from_env

RESTORE_SWEEP = 5  # kombu looks for abandoned messages this often (celery_app)
RESTART = 15  # a new worker starting, and the redelivered task itself running


def _bound(setup: Installation, queue: str) -> float:
    """A killed worker's messages are back after the queue's visibility timeout (kombu's sweep, or the
    reconciler for one taken in the instant before it was noted as held), then run."""
    timeout = settings_from_env(setup.env).visibility_timeout([queue])
    return timeout + max(RESTORE_SWEEP, RECONCILE_EVERY) + RESTART


def _reconciler(setup: Installation, *, worker: bool = True) -> Callable[[], None]:
    return functools.partial(
        start_reconciler, setup, entry="reconcile-task-records", entries=SCHEDULE, worker=worker
    )


def test_postgresql_down_for_10s_while_100_emails_drain_loses_none_and_sends_none_twice(
    services: Services, smtp: SmtpServer
) -> None:
    with installation(services.smtp) as setup:
        outcome = postgres_blink(setup, reconciler=_reconciler(setup))

    print(outcome)
    assert (outcome.delivered, outcome.duplicated) == (100, 0), outcome
    assert outcome.notes == [], "every record ends completed"


def test_kill_9_of_the_notifications_worker_5_times_redelivers_within_its_queues_bound(
    services: Services, smtp: SmtpServer
) -> None:
    with installation(services.smtp) as setup:
        outcome = notifications_killed(setup, reconciler=_reconciler(setup))
        bound = _bound(setup, "notifications")

    print(outcome, f"bound {bound}s")
    assert (outcome.delivered, outcome.duplicated) == (200, 0), outcome
    assert outcome.notes == []
    assert outcome.worst_delay is not None and outcome.worst_delay <= bound, outcome


def test_kill_9_of_the_reports_worker_completes_every_report_within_its_queues_bound(
    services: Services,
) -> None:
    with installation(services.smtp) as setup:
        outcome = reports_killed(setup, reconciler=_reconciler(setup, worker=False))
        bound = _bound(setup, "reports")

    print(outcome, f"bound {bound}s")
    assert (outcome.delivered, outcome.duplicated) == (10, 0), outcome
    assert outcome.worst_delay is not None and outcome.worst_delay <= bound, outcome


def test_redis_restarted_empty_with_100_emails_queued_delivers_each_once_after_the_reconcilers_bound(
    services: Services, smtp: SmtpServer
) -> None:
    with installation(services.smtp) as setup:
        outcome = redis_forgets(setup, reconciler=_reconciler(setup))
        bound = settings_from_env(setup.env).reconcile_after("notifications")

    print(outcome, f"reconciler bound {bound}s")
    assert (outcome.delivered, outcome.duplicated) == (100, 0), outcome
    assert outcome.notes == []
    assert outcome.worst_delay is not None
    assert bound <= outcome.worst_delay <= bound + RECONCILE_EVERY + RESTART, "the bound, then one run"


@pytest.fixture
def quiet_setup(services: Services) -> Iterator[Installation]:
    # A small scan limit, so a backlog of a few messages is already "too long to look through".
    # Email retries back off for minutes, far longer than the 1 s a worker may hold a message.
    limits = {"TASKLANE_RECONCILE_SCAN_LIMIT": "4", "TASKLANE_WORKER_RETRY_HOLD": "1"}
    backoff = {"TASKLANE_EMAIL_RETRY_BACKOFF": "600", "TASKLANE_EMAIL_RETRY_BACKOFF_MAX": "600"}
    with installation(services.smtp, **limits, **backoff) as setup:
        yield setup


def test_the_reconciler_never_republishes_a_task_that_is_legitimately_waiting(
    quiet_setup: Installation, smtp: SmtpServer
) -> None:
    setup = quiet_setup
    settings = settings_from_env(setup.env)
    database, celery = Database(settings), create_celery_app(settings)
    reconciler = Reconciler(settings, database, celery)
    api = setup.start_api()
    key, owner = setup.tenant()
    later = utcnow() + timedelta(hours=1)  # every record looks long untouched
    try:
        # Behind a backlog: five emails in a queue longer than the scan limit, no worker yet.
        backlog = register_users(api, key, 5, "backlog")
        assert reconciler.run(now=later).behind_backlog == 5

        # Waiting in its queue: one email, once the queue is short enough to look through. (The backlog's
        # messages are deleted meanwhile: those are lost, and come back.)
        with celery.connection_for_write() as connection:
            connection.default_channel.client.delete("notifications")
        waiting = register_users(api, key, 1, "waiting")
        outcome = reconciler.run(now=later)
        assert set(waiting.values()).isdisjoint(outcome.recovered)
        assert set(outcome.recovered) == set(backlog.values())

        # A reminder scheduled for after that: it waits in its own table for beat's dispatcher, and nothing
        # about it is the reconciler's to publish, however late the reconciler thinks it is.
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            remind_at = (later + timedelta(hours=1)).isoformat()
            reminder = client.post(
                "/v1/reminders", json={"message": "Count the till", "remind_at": remind_at}
            )
            assert reminder.status_code == 201, reminder.text
            outcome = reconciler.run(now=later + timedelta(hours=2))
            assert outcome.published + outcome.retried + outcome.recovered + outcome.failed == []
            pending = client.get(f"/v1/reminders/{reminder.json()['id']}").json()
            assert (pending["status"], pending["task_id"]) == ("pending", None)

        # A long report, running (held by its worker), however long it has looked quiet.
        setup.demo_data(
            "--products", "100", "--customers", "300", "--sales", "40000", "--business-email", owner
        )
        setup.start_worker("reports", concurrency=1)
        with httpx.Client(base_url=api, headers={"Authorization": f"Bearer {key}"}, timeout=30) as client:
            year = {"start_date": "2025-11-25", "end_date": "2026-11-24", "format": "pdf"}
            report = client.post("/v1/reports/sales", json=year).json()["task_id"]
            wait_for(lambda: client.get(f"/v1/tasks/{report}").json()["progress"] > 0, timeout=60)
            assert report not in reconciler.run(now=later).recovered
            wait_for(lambda: client.get(f"/v1/tasks/{report}").json()["status"] == "completed", timeout=120)
            assert client.get(f"/v1/tasks/{report}").json()["attempts"] == 1

        # A retry whose countdown is longer than a worker may hold its message: it waits on its record.
        setup.start_worker("notifications", concurrency=1)
        earlier = [*backlog.values(), *waiting.values()]
        wait_for(lambda: {r["status"] for r in setup.records(earlier).values()} == {"completed"}, timeout=60)
        smtp.reply_next("421 try again later", times=10)
        retried = register_users(api, key, 1, "retried")
        email, task_id = next(iter(retried.items()))

        def deferred() -> datetime | None:
            with database.session() as session:
                record = session.get_one(TaskRecord, task_id)
            waits = record.status == TaskStatus.RETRYING and record.next_attempt_at is not None
            return record.next_attempt_at if waits and task_id not in setup.held() else None

        due: datetime = wait_for(deferred, timeout=60, what="the retry to wait on its record, not a worker")
        smtp.reset()  # the relay takes mail again
        assert due > utcnow() + timedelta(seconds=1)
        early = reconciler.run(now=utcnow())
        assert task_id not in early.retried + early.recovered, "not due yet: left alone"
        assert task_id in reconciler.run(now=due + timedelta(seconds=1)).retried
        wait_for(lambda: setup.records([task_id])[task_id]["status"] == "completed", timeout=30)
        smtp.settle(1)
        assert len(smtp.messages_to(email)) == 1
    finally:
        celery.close()
        database.engine.dispose()
