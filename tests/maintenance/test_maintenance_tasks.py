"""Maintenance tasks on seeded data: each removes (or changes) exactly what it should, in batches."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from celery import Celery
from sqlalchemy import func, select

from tasklane.artifacts import DatabaseArtifactStore, save_artifact
from tasklane.celery_app import create_celery_app
from tasklane.contracts.maintenance import (
    CLEANUP_EXPIRED_ARTIFACTS,
    CLEANUP_OLD_TASK_RECORDS,
    DEACTIVATE_INACTIVE_USERS,
    RECONCILE_TASK_RECORDS,
    CleanupExpiredArtifacts,
    CleanupOldTaskRecords,
    DeactivateInactiveUsers,
    ReconcileTaskRecords,
)
from tasklane.contracts.payments import PROCESS_PAYMENT_WEBHOOK, ProcessPaymentWebhook
from tasklane.db.base import utcnow
from tasklane.db.engine import Database
from tasklane.db.models import ArtifactChunk, ReportArtifact, TaskRecord, TaskStatus, User
from tasklane.publishing import record_task
from tests.conftest import Tenant
from tests.harness.stack import Services, fresh_broker_url, settings_from_env, start_worker, tasklane_env
from tests.harness.tasks import run_task, wait_for_status

BATCH = 2


@pytest.fixture(scope="module")
def maintenance_celery(services: Services) -> Iterator[Celery]:
    """A reports worker (which consumes ``maintenance`` by default) with tiny batches, and a publisher."""
    env = tasklane_env(
        services,
        broker_url=fresh_broker_url(services),
        TASKLANE_MAINTENANCE_BATCH_SIZE=str(BATCH),
        TASKLANE_UNDELIVERED_TASK_GRACE="1",
    )
    worker = start_worker(env, "reports", concurrency=1)
    app = create_celery_app(settings_from_env(env))
    yield app
    app.close()
    worker.stop()


def make_artifact(database: Database, tmp_path: Path, tenant: Tenant, expires_in: timedelta) -> uuid.UUID:
    source = tmp_path / f"{uuid.uuid4()}.csv"
    source.write_bytes(os.urandom(3000))
    artifact = save_artifact(
        database,
        DatabaseArtifactStore(database, chunk_size=1024),
        source,
        business_id=tenant.id,
        task_id=None,
        filename=source.name,
        content_type="text/csv",
        expires_at=utcnow() + expires_in,
    )
    return artifact.id


def test_cleanup_expired_artifacts_deletes_expired_files_and_their_content_only(
    maintenance_celery: Celery, database: Database, tenant: Tenant, tmp_path: Path
) -> None:
    expired = [make_artifact(database, tmp_path, tenant, -timedelta(hours=h)) for h in (1, 2, 30, 200, 1)]
    fresh = [make_artifact(database, tmp_path, tenant, timedelta(hours=h)) for h in (1, 24, 300)]
    with database.session() as session:
        kept_before = set(
            session.scalars(select(ReportArtifact.id).where(ReportArtifact.expires_at > utcnow()))
        )

    record = run_task(maintenance_celery, database, CLEANUP_EXPIRED_ARTIFACTS, CleanupExpiredArtifacts())

    assert record.status == TaskStatus.COMPLETED, record.error
    assert record.result is not None
    assert record.result["deleted"] >= len(expired)
    assert record.result["bytes_freed"] >= 3000 * len(expired)
    assert record.result["batches"] >= len(expired) // BATCH
    with database.session() as session:
        remaining = set(session.scalars(select(ReportArtifact.id)))
        chunks_left = session.scalar(
            select(func.count()).select_from(ArtifactChunk).where(ArtifactChunk.artifact_id.in_(expired))
        )
        still_expired = session.scalar(
            select(func.count())
            .select_from(ReportArtifact)
            .where(ReportArtifact.expires_at < record.started_at)
        )
    assert remaining.isdisjoint(expired)
    assert chunks_left == 0
    assert still_expired == 0
    assert kept_before <= remaining, "nothing unexpired is touched"
    assert set(fresh) <= remaining


def add_record(
    database: Database, status: TaskStatus, *, finished_days_ago: float | None, created_days_ago: float = 0
) -> str:
    now = utcnow()
    with database.transaction() as session:
        record = TaskRecord(
            id=str(uuid.uuid4()),
            name="reports.export_customers",
            queue="reports",
            status=status,
            created_at=now - timedelta(days=created_days_ago),
            finished_at=None if finished_days_ago is None else now - timedelta(days=finished_days_ago),
        )
        session.add(record)
    return record.id


def existing(database: Database, ids: list[str]) -> set[str]:
    with database.session() as session:
        return set(session.scalars(select(TaskRecord.id).where(TaskRecord.id.in_(ids))))


def test_cleanup_old_task_records_deletes_finished_records_past_retention_and_nothing_else(
    maintenance_celery: Celery, database: Database
) -> None:
    old_finished = [
        add_record(database, TaskStatus.COMPLETED, finished_days_ago=91, created_days_ago=91),
        add_record(database, TaskStatus.COMPLETED, finished_days_ago=400, created_days_ago=400),
        add_record(database, TaskStatus.FAILED, finished_days_ago=120, created_days_ago=120),
        add_record(database, TaskStatus.CANCELLED, finished_days_ago=95, created_days_ago=95),
        add_record(database, TaskStatus.FAILED, finished_days_ago=100, created_days_ago=100),
    ]
    recent = [
        add_record(database, TaskStatus.COMPLETED, finished_days_ago=89, created_days_ago=100),
        add_record(database, TaskStatus.FAILED, finished_days_ago=10, created_days_ago=10),
    ]
    unfinished = [
        add_record(database, TaskStatus.QUEUED, finished_days_ago=None, created_days_ago=200),
        add_record(database, TaskStatus.PROCESSING, finished_days_ago=None, created_days_ago=200),
        add_record(database, TaskStatus.RETRYING, finished_days_ago=None, created_days_ago=200),
    ]

    record = run_task(maintenance_celery, database, CLEANUP_OLD_TASK_RECORDS, CleanupOldTaskRecords())

    assert record.status == TaskStatus.COMPLETED, record.error
    assert record.result == {"deleted": len(old_finished), "older_than_days": 90, "batches": 3}
    assert existing(database, old_finished) == set()
    assert existing(database, recent + unfinished) == set(recent + unfinished)

    shorter = run_task(
        maintenance_celery, database, CLEANUP_OLD_TASK_RECORDS, CleanupOldTaskRecords(older_than_days=30)
    )
    assert shorter.result is not None and shorter.result["older_than_days"] == 30
    assert existing(database, recent + unfinished) == {recent[1], *unfinished}


def test_deactivate_inactive_users_touches_only_users_inactive_past_the_period(
    maintenance_celery: Celery, database: Database, tenant: Tenant
) -> None:
    now = utcnow()
    long_ago, lately = now - timedelta(days=400), now - timedelta(days=30)

    def user(label: str, *, last_active: object, created: object, deactivated: object = None) -> uuid.UUID:
        with database.transaction() as session:
            row = User(
                business_id=tenant.id,
                email=f"{label}-{uuid.uuid4().hex[:6]}@shop.test",
                name=label,
                last_active_at=last_active,
                created_at=created,
                deactivated_at=deactivated,
            )
            session.add(row)
        return row.id

    gone_quiet = user("gone-quiet", last_active=long_ago, created=long_ago)
    never_came = user("never-came", last_active=None, created=long_ago)
    active = user("active", last_active=lately, created=long_ago)
    new = user("new", last_active=None, created=lately)
    already = user("already", last_active=long_ago, created=long_ago, deactivated=long_ago)

    record = run_task(maintenance_celery, database, DEACTIVATE_INACTIVE_USERS, DeactivateInactiveUsers())

    assert record.status == TaskStatus.COMPLETED, record.error
    assert record.result is not None and record.result["deactivated"] >= 2
    with database.session() as session:
        state = {
            u.id: u.deactivated_at for u in session.scalars(select(User).where(User.business_id == tenant.id))
        }
        still_inactive = session.scalar(
            select(func.count())
            .select_from(User)
            .where(
                User.deactivated_at.is_(None),
                func.coalesce(User.last_active_at, User.created_at) < now - timedelta(days=365),
            )
        )
    assert state[gone_quiet] is not None and state[never_came] is not None
    assert state[active] is None and state[new] is None
    assert state[already] == long_ago, "an earlier deactivation keeps its date"
    assert still_inactive == 0


def test_the_relay_publishes_committed_records_the_broker_never_took_except_payments(
    maintenance_celery: Celery, database: Database
) -> None:
    # Older records no contract accepts fill the first batch; the relay must go on past them.
    broken = [
        add_record(database, TaskStatus.QUEUED, finished_days_ago=None, created_days_ago=1)
        for _ in range(BATCH)
    ]
    with database.transaction() as session:
        stranded = record_task(
            session,
            DEACTIVATE_INACTIVE_USERS,
            DeactivateInactiveUsers(inactive_days=100_000),
            business_id=None,
        )
        payment = record_task(
            session,
            PROCESS_PAYMENT_WEBHOOK,
            ProcessPaymentWebhook(
                payment_reference=f"ref-{uuid.uuid4().hex[:8]}",
                amount_paid=100,
                currency="NGN",
                payment_provider="paystack",
            ),
            business_id=None,
        )
    time.sleep(1.2)  # past TASKLANE_UNDELIVERED_TASK_GRACE

    relay = run_task(maintenance_celery, database, RECONCILE_TASK_RECORDS, ReconcileTaskRecords())

    assert relay.status == TaskStatus.COMPLETED, relay.error
    assert relay.result is not None and relay.result["published"] >= 1
    assert relay.result["failed"] >= len(broken)
    delivered = wait_for_status(database, stranded.id, [TaskStatus.COMPLETED], timeout=30)
    assert delivered.dispatched_at is not None
    with database.session() as session:
        untouched = session.get_one(TaskRecord, payment.id)
    assert untouched.dispatched_at is None, "payments records belong to the payments relay"
    assert untouched.status == TaskStatus.QUEUED


def test_a_stranded_record_no_contract_accepts_fails_visibly_instead_of_blocking_the_relay(
    maintenance_celery: Celery, database: Database
) -> None:
    broken = add_record(database, TaskStatus.QUEUED, finished_days_ago=None, created_days_ago=1)  # no kwargs

    relay = run_task(maintenance_celery, database, RECONCILE_TASK_RECORDS, ReconcileTaskRecords())

    assert relay.status == TaskStatus.COMPLETED, relay.error
    failed = wait_for_status(database, broken, [TaskStatus.FAILED], timeout=5)
    assert failed.error is not None and "no longer valid" in failed.error
    assert failed.dispatched_at is None
