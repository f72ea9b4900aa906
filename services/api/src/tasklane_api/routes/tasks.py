from __future__ import annotations

import asyncio
import contextlib
import logging
import time
import uuid
from typing import Annotated

import kombu.exceptions
import redis.exceptions
from fastapi import APIRouter, HTTPException, Path, Query, Request, status
from fastapi.concurrency import run_in_threadpool
from sqlalchemy import select, update

from tasklane.cancellation import CANCEL_SIGNAL
from tasklane.db.base import utcnow
from tasklane.db.models import FINISHED_STATUSES, TaskRecord, TaskStatus
from tasklane_api.deps import CurrentBusiness, ResourcesDep, SessionDep, SettingsDep
from tasklane_api.resources import Resources
from tasklane_api.schemas.errors import ErrorResponse
from tasklane_api.schemas.tasks import TaskList, TaskPublic
from tasklane_api.schemas.text import Text
from tasklane_api.waiting import RECHECK_SECONDS

log = logging.getLogger(__name__)

router = APIRouter(prefix="/v1/tasks", tags=["tasks"])

MAX_WAIT_SECONDS = 30
NOT_FOUND = {"model": ErrorResponse, "description": "No such task for this tenant."}

TaskId = Annotated[Text, Path(max_length=64, description="The `task_id` a `202 Accepted` answer gave.")]


@router.get("", response_model=TaskList)
def list_tasks(
    *,
    request: Request,
    business: CurrentBusiness,
    session: SessionDep,
    settings: SettingsDep,
    status_filter: Annotated[
        TaskStatus | None, Query(alias="status", description="Only tasks in this status.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=100, description="How many, newest first.")] = 20,
) -> TaskList:
    """The tenant's recent tasks, newest first."""
    query = select(TaskRecord).where(TaskRecord.business_id == business.id)
    if status_filter is not None:
        query = query.where(TaskRecord.status == status_filter)
    records = session.scalars(query.order_by(TaskRecord.created_at.desc()).limit(limit))
    return TaskList(items=[TaskPublic.from_record(r, settings, str(request.base_url)) for r in records])


def _not_found(task_id: str) -> HTTPException:
    return HTTPException(status.HTTP_404_NOT_FOUND, f"task {task_id} not found")


def _load(resources: Resources, task_id: str, business_id: uuid.UUID) -> TaskRecord:
    with resources.database.session() as session:
        record = session.get(TaskRecord, task_id)
    # Another tenant's task is indistinguishable from a missing one, so ids cannot be probed.
    if record is None or record.business_id != business_id:
        raise _not_found(task_id)
    return record


@router.get("/{task_id}", response_model=TaskPublic, responses={404: NOT_FOUND})
async def get_task(
    task_id: TaskId,
    request: Request,
    business: CurrentBusiness,
    resources: ResourcesDep,
    wait: Annotated[
        float,
        Query(
            ge=0, le=MAX_WAIT_SECONDS, description="Seconds to wait for the task to finish before answering."
        ),
    ] = 0,
) -> TaskPublic:
    """One task: status, progress (0-100), result, error, attempts and times. With `wait` it answers as
    soon as the task finishes, holding no thread or database connection meanwhile. A completed report's
    `result.file_url` is a signed link, valid for `TASKLANE_DOWNLOAD_URL_TTL`, that needs no API key.
    Another tenant's task is `404`, like a missing one."""
    deadline = time.monotonic() + wait
    async with resources.waiters.watch(task_id) as finished:
        record = await run_in_threadpool(_load, resources, task_id, business.id)
        while record.status not in FINISHED_STATUSES and (remaining := deadline - time.monotonic()) > 0:
            # Waiting is a coroutine on the event loop: no thread and no database connection is held.
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(finished.wait(), min(remaining, RECHECK_SECONDS))
            record = await run_in_threadpool(_load, resources, task_id, business.id)
    return TaskPublic.from_record(record, resources.settings, str(request.base_url))


@router.delete(
    "/{task_id}",
    response_model=TaskPublic,
    responses={
        404: NOT_FOUND,
        409: {"model": ErrorResponse, "description": "The task has already finished."},
    },
)
def cancel_task(
    task_id: TaskId, request: Request, business: CurrentBusiness, session: SessionDep, resources: ResourcesDep
) -> TaskPublic:
    """Cancel a queued or running task: its record ends `cancelled` at once; a running one is interrupted
    (a report discards its partial file) and a queued one never starts, even on a worker that starts
    later."""
    cancelled = session.execute(
        update(TaskRecord)
        .where(
            TaskRecord.id == task_id,
            TaskRecord.business_id == business.id,
            TaskRecord.status.not_in(FINISHED_STATUSES),
        )
        .values(status=TaskStatus.CANCELLED, error="cancelled by the client", finished_at=utcnow())
        .returning(TaskRecord.id)
    ).scalar_one_or_none()
    session.commit()
    if cancelled is None:
        record = session.get(TaskRecord, task_id)
        if record is None or record.business_id != business.id:
            raise _not_found(task_id)
        raise HTTPException(status.HTTP_409_CONFLICT, f"task {task_id} has already finished: {record.status}")
    try:
        # The cancel signal reaches a running task as TaskCancelled, so it can discard its partial work;
        # a queued one is dropped by the worker, which also checks the record before starting anything.
        resources.celery.control.revoke(task_id, terminate=True, signal=CANCEL_SIGNAL)
    except (kombu.exceptions.OperationalError, redis.exceptions.ConnectionError, OSError) as exc:
        log.warning("cancel of %s recorded, but the revoke could not be broadcast: %s", task_id, exc)
    resources.events.finished(task_id, TaskStatus.CANCELLED)
    record = session.get_one(TaskRecord, task_id)
    session.refresh(record)
    return TaskPublic.from_record(record, resources.settings, str(request.base_url))
