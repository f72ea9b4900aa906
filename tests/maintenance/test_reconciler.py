"""The reconciler against a real broker and database, with no worker: each case puts a task's message where
a worker, a failed note or a lost Redis would leave it, and checks the reconciler publishes it exactly when
the broker holds no message for it."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from celery import Celery
from sqlalchemy import update

from tasklane.celery_app import UNACKED_PREFIX, create_celery_app
from tasklane.contracts.notifications import SEND_WELCOME_EMAIL, SendWelcomeEmail
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.migrate import upgrade
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.publishing import publish_record, record_start, record_task
from tasklane_maintenance.reconciler import Reconciler
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, tasklane_env
from tools.settings_doc import AllSettings

QUEUE = SEND_WELCOME_EMAIL.queue
HELD = f"{UNACKED_PREFIX}{QUEUE}"


@dataclass
class Setup:
    settings: AllSettings
    database: Database
    celery: Celery
    reconciler: Reconciler
    redis: redis.Redis

    def record(self, status: TaskStatus, *, dispatched: bool = True, **values: Any) -> TaskRecord:
        """A welcome-email record in ``status``, created (and, if ``dispatched``, published) an hour ago."""
        with self.database.transaction() as session:
            outbound = record_task(
                session, SEND_WELCOME_EMAIL, SendWelcomeEmail(user_id=uuid.uuid4()), business_id=None
            )
        hour_ago = utcnow() - timedelta(hours=1)
        self.set(
            outbound.id,
            status=status,
            created_at=hour_ago,
            updated_at=hour_ago,
            dispatched_at=hour_ago if dispatched else None,
            **values,
        )
        return self.get(outbound.id)

    def set(self, task_id: str, **values: Any) -> None:
        with self.database.transaction() as session:
            session.execute(update(TaskRecord).where(TaskRecord.id == task_id).values(**values))

    def get(self, task_id: str) -> TaskRecord:
        with self.database.session() as session:
            return session.get_one(TaskRecord, task_id)

    def publish(self, record: TaskRecord) -> None:
        """Its message into the queue, as a publish would leave it (no worker consumes here)."""
        publish_record(self.celery, record)

    def take(self, task_id: str) -> None:
        """Move its message from the queue into the workers' unacknowledged hash, as a worker taking it
        (a retry waiting out its countdown is held the same way)."""
        for raw in self.redis.lrange(QUEUE, 0, -1):
            if json.loads(raw)["headers"]["id"] == task_id:
                self.redis.lrem(QUEUE, 1, raw)
                self.redis.hset(HELD, uuid.uuid4().hex, json.dumps([json.loads(raw), "", QUEUE]))
                return
        raise AssertionError(f"no message for {task_id} in {QUEUE}")

    def messages(self, task_id: str) -> int:
        queued = [json.loads(raw)["headers"]["id"] for raw in self.redis.lrange(QUEUE, 0, -1)]
        held = [json.loads(raw)[0]["headers"]["id"] for raw in self.redis.hvals(HELD)]
        return (queued + held).count(task_id)

    def run(self, now: datetime | None = None) -> dict[str, Any]:
        outcome = self.reconciler.run(now=now or utcnow())
        return {
            "published": outcome.published,
            "retried": outcome.retried,
            "recovered": outcome.recovered,
            "failed": outcome.failed,
        }


@pytest.fixture
def setup(services: Services) -> Iterator[Setup]:
    # A database and broker of its own: the reconciler acts on every record it finds.
    database_url = services.postgres.create_database(f"reconciler_{uuid.uuid4().hex[:8]}")
    env = tasklane_env(services, broker_url=fresh_broker_url(services), TASKLANE_DATABASE_URL=database_url)
    settings = settings_from_env(env)
    upgrade(settings)
    database, celery = Database(settings), create_celery_app(settings)
    broker = redis.Redis.from_url(settings.broker_url)
    yield Setup(settings, database, celery, Reconciler(settings, database, celery), broker)
    broker.close()
    celery.close()
    database.engine.dispose()


def acted_on(outcome: dict[str, Any], task_id: str) -> list[str]:
    return [action for action, ids in outcome.items() if task_id in ids]


def test_a_due_retry_a_worker_still_holds_is_left_alone_and_published_once_its_message_is_gone(
    setup: Setup,
) -> None:
    # A held retry: the worker took the retry's message and has not started it yet, though it is due.
    record = setup.record(TaskStatus.RETRYING, next_attempt_at=utcnow() - timedelta(seconds=5))
    setup.publish(record)
    setup.take(record.id)

    assert acted_on(setup.run(), record.id) == []
    assert setup.messages(record.id) == 1

    setup.redis.delete(HELD)  # the worker died and its Redis went with it
    assert acted_on(setup.run(), record.id) == ["retried"]
    assert setup.messages(record.id) == 1
    assert setup.get(record.id).status == TaskStatus.QUEUED


def test_a_deferred_retry_is_published_when_due_and_not_before(setup: Setup) -> None:
    due = utcnow() + timedelta(minutes=5)
    record = setup.record(TaskStatus.RETRYING, next_attempt_at=due, retries=3)

    assert acted_on(setup.run(), record.id) == []
    assert acted_on(setup.run(due + timedelta(seconds=1)), record.id) == ["retried"]
    assert setup.messages(record.id) == 1
    message = json.loads(setup.redis.lrange(QUEUE, 0, -1)[0])
    assert message["headers"]["retries"] == 3, "published with its retry count"


def test_a_message_whose_publish_could_not_be_noted_is_not_published_again(setup: Setup) -> None:
    # The API published, then the database blinked before the record could say so.
    record = setup.record(TaskStatus.QUEUED, dispatched=False)
    setup.publish(record)
    setup.set(record.id, dispatched_at=None)

    assert acted_on(setup.run(), record.id) == []
    assert setup.messages(record.id) == 1

    setup.redis.delete(QUEUE)  # and then Redis lost it: now it is the outbox's to publish
    assert acted_on(setup.run(), record.id) == ["published"]
    assert setup.messages(record.id) == 1


def test_a_task_a_worker_started_counts_as_dispatched_and_is_recovered_if_its_message_is_lost(
    setup: Setup,
) -> None:
    record = setup.record(TaskStatus.QUEUED, dispatched=False)
    with setup.database.transaction() as session:
        assert record_start(session, record.id, record.name, QUEUE, record.kwargs or {}, business_id=None)
    started = setup.get(record.id)
    assert started.status == TaskStatus.PROCESSING
    assert started.dispatched_at is not None, "a task a worker runs was published"

    # Its worker died and its message went with the Redis that held it.
    later = utcnow() + timedelta(seconds=setup.settings.reconcile_after(QUEUE) + 1)
    assert acted_on(setup.run(later), record.id) == ["recovered"]
    assert setup.messages(record.id) == 1
    assert setup.get(record.id).redeliveries == 1


def test_a_task_lost_more_often_than_the_cap_is_failed_saying_so(setup: Setup) -> None:
    cap = setup.settings.reconcile_max_redeliveries
    record = setup.record(TaskStatus.PROCESSING, redeliveries=cap)

    assert acted_on(setup.run(), record.id) == ["failed"]
    failed = setup.get(record.id)
    assert failed.status == TaskStatus.FAILED
    assert failed.error is not None and f"given up after {cap} re-publishes" in failed.error
    assert setup.messages(record.id) == 0


def test_a_quiet_task_whose_message_waits_in_its_queue_is_left_alone(setup: Setup) -> None:
    record = setup.record(TaskStatus.QUEUED)
    setup.publish(record)
    setup.set(record.id, updated_at=utcnow() - timedelta(hours=1))

    assert acted_on(setup.run(), record.id) == []
    assert setup.messages(record.id) == 1
