"""Publishing tasks by name through their contracts, with a durable task record for each.

Two ways to hand work to a worker:
- ``enqueue``: record, commit, publish; if the broker refuses, the record says so and the caller answers
  503 (nothing was accepted).
- ``record_task`` + ``dispatch``: the record joins the caller's own transaction (an outbox), so it commits
  or rolls back with the work that caused it; publishing follows the commit, and a record the broker could
  not take stays queued for the relay to publish later. Nothing committed is lost.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, NamedTuple

import kombu.exceptions
import redis.exceptions
from celery import Celery
from pydantic import ValidationError
from sqlalchemy import Table, select, update
from sqlalchemy.orm import Session

from tasklane.contracts import CONTRACTS, Payload, TaskContract
from tasklane.db.base import utcnow
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.errors import BrokerUnavailable

TASK_RECORDS: Table = TaskRecord.__table__  # type: ignore[assignment]
_BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, OSError)


class FollowUp(NamedTuple):
    """A task to run after another succeeds (a chain), with its id chosen up front so it can be followed."""

    contract: TaskContract[Any]
    payload: Payload
    task_id: str


def follow_up(contract: TaskContract[Any], payload: Payload) -> FollowUp:
    return FollowUp(contract, payload, str(uuid.uuid4()))


def publish(
    celery: Celery,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    task_id: str,
    then: FollowUp | None = None,
    **options: Any,
) -> None:
    """Send one validated message; raise ``BrokerUnavailable`` if the broker cannot take it.

    Results are not stored in Celery's backend for these messages: the task record is the durable
    status, and asking for results would subscribe this process to every task it sends. ``then`` is
    published by the worker once this task succeeds (Celery's ``link``), routed by its own name.
    """
    kwargs = contract.message_kwargs(payload)
    if then is not None:
        options["link"] = celery.signature(
            then.contract.name,
            kwargs=then.contract.message_kwargs(then.payload),
            task_id=then.task_id,
            immutable=True,
        )
    try:
        celery.send_task(contract.name, kwargs=kwargs, task_id=task_id, ignore_result=True, **options)
    except _BROKER_ERRORS as exc:
        raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc


def record_task(
    session: Session,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    business_id: uuid.UUID | None,
    task_id: str | None = None,
) -> TaskRecord:
    """Add a ``queued`` record for a task to the session; it is published by ``dispatch`` after commit."""
    record = TaskRecord(
        id=task_id or str(uuid.uuid4()),
        business_id=business_id,
        name=contract.name,
        queue=contract.queue,
        status=TaskStatus.QUEUED,
        kwargs=contract.message_kwargs(payload),
    )
    session.add(record)
    return record


def _publish_record(celery: Celery, record: TaskRecord, **options: Any) -> None:
    contract = CONTRACTS[record.name]
    publish(celery, contract, contract.validate(record.kwargs or {}), task_id=record.id, **options)
    record.dispatched_at = utcnow()


def dispatch(session: Session, celery: Celery, record: TaskRecord, **options: Any) -> None:
    """Publish a committed record's task and note when; raises ``BrokerUnavailable`` (record untouched).

    The record may belong to a session that has since closed: the note is an UPDATE by id.
    """
    _publish_record(celery, record, **options)
    session.execute(
        update(TaskRecord).where(TaskRecord.id == record.id).values(dispatched_at=record.dispatched_at)
    )
    session.commit()


def enqueue(
    session: Session,
    celery: Celery,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    business_id: uuid.UUID | None,
    task_id: str | None = None,
    **options: Any,
) -> TaskRecord:
    """Commit a ``queued`` task record (with the session's other pending work), then publish the task.

    The record is committed before the message exists, so a fast worker always finds it. If the broker
    refuses the message, the record is marked ``failed`` saying so and ``BrokerUnavailable`` is raised;
    the caller decides what else to undo.
    """
    record = record_task(session, contract, payload, business_id=business_id, task_id=task_id)
    session.commit()
    try:
        dispatch(session, celery, record, **options)
    except BrokerUnavailable as exc:
        record.status = TaskStatus.FAILED
        record.error = f"not queued: the task broker is unavailable ({exc})"
        record.finished_at = utcnow()
        session.commit()
        raise BrokerUnavailable(str(exc), task_id=record.id) from exc
    return record


@dataclass
class Redispatched:
    """Ids of the records a relay pass published, and of those it failed as no longer valid."""

    published: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)

    @property
    def claimed(self) -> int:
        return len(self.published) + len(self.refused)


def redispatch_pending(
    session: Session,
    celery: Celery,
    *,
    older_than: timedelta,
    names: Collection[str] | None = None,
    exclude_prefix: str | None = None,
    limit: int = 500,
) -> Redispatched:
    """Publish queued records that were committed but never handed to the broker.

    ``names`` narrows the relay to some tasks, ``exclude_prefix`` leaves out tasks another relay owns.
    """
    query = select(TaskRecord).where(
        TaskRecord.status == TaskStatus.QUEUED,
        TaskRecord.dispatched_at.is_(None),
        TaskRecord.created_at < utcnow() - older_than,
    )
    if names is not None:
        query = query.where(TaskRecord.name.in_(names))
    if exclude_prefix is not None:
        query = query.where(TaskRecord.name.not_like(f"{exclude_prefix}%"))
    records = session.scalars(
        query.order_by(TaskRecord.created_at).limit(limit).with_for_update(skip_locked=True)
    ).all()
    outcome = Redispatched()
    try:
        for record in records:
            try:
                _publish_record(celery, record)
            except (KeyError, ValidationError) as exc:
                # A record no contract accepts any more (renamed task, changed payload) would block the
                # relay forever; it fails visibly instead.
                record.status = TaskStatus.FAILED
                record.error = f"not queued: the stored message is no longer valid ({exc!r})"
                record.finished_at = utcnow()
                outcome.refused.append(record.id)
                continue
            outcome.published.append(record.id)
    finally:
        session.commit()  # keep what went out, even if the broker failed part-way
    return outcome
