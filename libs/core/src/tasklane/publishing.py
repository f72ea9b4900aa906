"""Publishing tasks by name through their contracts: the one way work is handed to a worker.

- ``enqueue``: publish now, with a task record. The record commits (with the session's other work) before
  the message exists, so a fast worker always finds it; if the broker refuses, the record says so and
  ``BrokerUnavailable`` tells the caller to answer 503 (nothing was accepted).
- ``record_task`` + ``dispatch``: publish after the caller's transaction commits (an outbox). The record
  joins that transaction, so it commits or rolls back with the work that caused it; ``dispatch`` publishes
  after the commit, and a record the broker could not take stays queued for the reconciler. A caller that
  holds a transaction open on purpose (the payments relay, holding its event's lock) sends inside it with
  ``send`` and commits the note with its own work.
- ``publish_many``: a fan-out, many tasks at once, deliberately without records (see there).
- ``publish_record``: a task again, from its record (the reconciler).

A payload is validated once on the way out, when its model is built, and once on receipt by the worker;
a record holds everything its message held (payload, follow-up task, retry count) so it can be published
again. No other module inserts ``task_records`` rows: a task published without one gets its record when a
worker starts it, from ``record_start`` here; the rest of a record's life (progress, outcome) is
``tasklane.task_records``.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import kombu.exceptions
import redis.exceptions
from celery import Celery, group
from sqlalchemy import func, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from tasklane.contracts import CONTRACTS, Payload, TaskContract
from tasklane.db.base import utcnow
from tasklane.db.models import TaskRecord, TaskStatus
from tasklane.errors import BrokerUnavailable
from tasklane.telemetry.tracing import continued, current_traceparent

log = logging.getLogger(__name__)

_BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, OSError)


class FollowUp(NamedTuple):
    """A task to run after another succeeds (a chain), with its id chosen up front so it can be followed."""

    contract: TaskContract[Any]
    payload: Payload
    task_id: str


def follow_up(contract: TaskContract[Any], payload: Payload) -> FollowUp:
    return FollowUp(contract, payload, str(uuid.uuid4()))


@dataclass(frozen=True)
class Outbound:
    """A task recorded in the caller's transaction, to be published once that has committed."""

    record: TaskRecord
    contract: TaskContract[Any]
    payload: Payload
    then: FollowUp | None

    @property
    def id(self) -> str:
        return self.record.id


def _publish(
    celery: Celery,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    task_id: str,
    then: FollowUp | None = None,
    retries: int = 0,
) -> None:
    """Send one message; raise ``BrokerUnavailable`` if the broker cannot take it.

    Results are not stored in Celery's backend: the task record is the durable status, and asking for
    results would subscribe this process to every task it sends. ``then`` is published by the worker once
    this task succeeds (Celery's ``link``), routed by its own name.
    """
    options: dict[str, Any] = {"retries": retries}
    if then is not None:
        options["link"] = celery.signature(
            then.contract.name,
            kwargs=then.contract.message_kwargs(then.payload),
            task_id=then.task_id,
            immutable=True,
        )
    try:
        celery.send_task(
            contract.name,
            kwargs=contract.message_kwargs(payload),
            task_id=task_id,
            ignore_result=True,
            **options,
        )
    except _BROKER_ERRORS as exc:
        raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc


def record_task(
    session: Session,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    business_id: uuid.UUID | None,
    task_id: str | None = None,
    then: FollowUp | None = None,
) -> Outbound:
    """Add a ``queued`` record of a task to the session; publish it with ``dispatch`` after the commit."""
    follow = None
    if then is not None:
        follow = {"name": then.contract.name, "kwargs": then.contract.message_kwargs(then.payload)}
        follow["task_id"] = then.task_id
    record = TaskRecord(
        id=task_id or str(uuid.uuid4()),
        business_id=business_id,
        name=contract.name,
        queue=contract.queue,
        status=TaskStatus.QUEUED,
        kwargs=contract.message_kwargs(payload),
        follow_up=follow,
        traceparent=current_traceparent(),
    )
    session.add(record)
    return Outbound(record, contract, payload, then)


def send(celery: Celery, outbound: Outbound) -> None:
    """Publish a recorded task now and note when on the record, for the caller's transaction to commit;
    raises ``BrokerUnavailable``. The record must be flushed first, so a worker that starts the task at
    once finds it (and waits for the commit)."""
    _publish(celery, outbound.contract, outbound.payload, task_id=outbound.id, then=outbound.then)
    outbound.record.dispatched_at = utcnow()


def dispatch(session: Session, celery: Celery, outbound: Outbound) -> None:
    """Publish a committed record's task and note when; raises ``BrokerUnavailable`` (record untouched).

    The record may belong to a session that has since closed: the note is an UPDATE by id. If the note
    cannot be written (the database blinked), the message is out all the same: the reconciler sees a
    record that looks unpublished, finds its message in the broker, and leaves it.
    """
    _publish(celery, outbound.contract, outbound.payload, task_id=outbound.id, then=outbound.then)
    try:
        session.execute(update(TaskRecord).where(TaskRecord.id == outbound.id).values(dispatched_at=utcnow()))
        session.commit()
    except OperationalError:
        session.rollback()
        log.warning("task %s is published, but noting it failed (the database is unavailable)", outbound.id)


def enqueue(
    session: Session,
    celery: Celery,
    contract: TaskContract[Any],
    payload: Payload,
    *,
    business_id: uuid.UUID | None,
    task_id: str | None = None,
    then: FollowUp | None = None,
) -> TaskRecord:
    """Commit a ``queued`` task record (with the session's other pending work), then publish the task.

    The record commits already noted as published: what follows is the publish, and if the broker refuses
    it the record is marked ``failed`` saying so and ``BrokerUnavailable`` is raised (with the record's id);
    the caller decides what else to undo. (A process that dies in between leaves a record whose message is
    nowhere: the reconciler finds it once it has been quiet for its queue's bound, and publishes it.)
    """
    outbound = record_task(session, contract, payload, business_id=business_id, task_id=task_id, then=then)
    outbound.record.dispatched_at = utcnow()
    session.commit()
    try:
        _publish(celery, contract, payload, task_id=outbound.id, then=then)
    except BrokerUnavailable as exc:
        record = outbound.record
        record.status = TaskStatus.FAILED
        record.error = f"not queued: the task broker is unavailable ({exc})"
        record.finished_at = utcnow()
        session.commit()
        raise BrokerUnavailable(str(exc), task_id=record.id) from exc
    log.info("queued %s as task %s", contract.name, outbound.id)
    return outbound.record


def publish_many(
    celery: Celery,
    contract: TaskContract[Any],
    payloads: Iterable[Payload],
    *,
    task_ids: Iterable[str] | None = None,
) -> list[str]:
    """Publish one ``contract`` task per payload, together (one Celery group); returns their ids.

    The one way to publish without task records, on purpose: a fan-out (one task per business, from a
    beat tick) publishes thousands at once, each idempotent and made again by the next tick, and each gets
    its record when a worker starts it. Raises ``BrokerUnavailable`` if the broker cannot take them.
    """
    payloads = list(payloads)
    ids = list(task_ids) if task_ids is not None else [str(uuid.uuid4()) for _ in payloads]
    if len(ids) != len(payloads):
        raise ValueError(f"{len(payloads)} payloads but {len(ids)} task ids")
    signatures = [
        celery.signature(contract.name, kwargs=contract.message_kwargs(p), task_id=i, ignore_result=True)
        for p, i in zip(payloads, ids, strict=True)
    ]
    if signatures:
        try:
            group(signatures).apply_async()
        except _BROKER_ERRORS as exc:
            raise BrokerUnavailable(str(exc) or type(exc).__name__) from exc
    return ids


def publish_record(celery: Celery, record: TaskRecord) -> None:
    """Publish the task a record describes (again, if need be): its payload, its follow-up, its retry
    count. Raises ``KeyError``/``ValidationError`` for a record no contract accepts any more, and
    ``BrokerUnavailable``."""
    contract = CONTRACTS[record.name]
    then = None
    if record.follow_up:
        follow = CONTRACTS[record.follow_up["name"]]
        then = FollowUp(follow, follow.validate(record.follow_up["kwargs"]), record.follow_up["task_id"])
    payload = contract.validate(record.kwargs or {})
    with continued(record.traceparent):  # the task goes on in the trace that recorded it
        _publish(celery, contract, payload, task_id=record.id, then=then, retries=record.retries or 0)
    record.dispatched_at = utcnow()


def record_start(
    session: Session,
    task_id: str,
    name: str,
    queue: str,
    kwargs: dict[str, Any],
    *,
    business_id: uuid.UUID | None,
    traceparent: str | None = None,
) -> bool:
    """Mark a task ``processing`` as a worker starts it and count the attempt, creating its record if it was
    published without one (``publish_many``, beat); False if it was cancelled meanwhile. ``traceparent``
    (the run's span) is kept on a record that has none."""
    now = utcnow()
    dialect = session.get_bind().dialect.name
    insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(TaskRecord).values(
        id=task_id,
        business_id=business_id,
        name=name,
        queue=queue,
        status=TaskStatus.PROCESSING,
        progress=0,
        kwargs=kwargs or None,
        attempts=1,
        created_at=now,
        updated_at=now,
        started_at=now,
        dispatched_at=now,
        traceparent=traceparent,
    )
    # A redelivered (or retried) task counts another attempt; a cancelled record stays cancelled.
    started = session.execute(
        insert.on_conflict_do_update(
            index_elements=[TaskRecord.id],
            set_={
                "status": TaskStatus.PROCESSING,
                "attempts": TaskRecord.attempts + 1,
                "started_at": now,
                "updated_at": now,
                "next_attempt_at": None,
                # A message a worker runs was published, even if noting so failed: from here on the
                # reconciler treats the record as dispatched (and looks for its message if it goes quiet).
                "dispatched_at": func.coalesce(TaskRecord.dispatched_at, now),
                "traceparent": func.coalesce(TaskRecord.traceparent, traceparent),
            },
            where=TaskRecord.status != TaskStatus.CANCELLED,
        ).returning(TaskRecord.id)
    ).scalar_one_or_none()
    return started is not None
