"""Reminders a tenant schedules; beat's every-minute dispatcher sends them when due."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Response, status
from sqlalchemy import CursorResult, select, update

from tasklane.db.models import Business, Reminder, ReminderStatus
from tasklane_api.deps import CurrentBusiness, SessionDep
from tasklane_api.schemas.errors import ErrorResponse
from tasklane_api.schemas.reminders import ReminderCreate, ReminderPublic

router = APIRouter(prefix="/v1/reminders", tags=["reminders"])

NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorResponse, "description": "No such reminder for this tenant."}
}


def _get(session: SessionDep, business: Business, reminder_id: uuid.UUID) -> Reminder:
    reminder = session.scalar(
        select(Reminder).where(Reminder.id == reminder_id, Reminder.business_id == business.id)
    )
    if reminder is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"reminder {reminder_id} not found")
    return reminder


@router.post("", status_code=status.HTTP_201_CREATED)
def create_reminder(body: ReminderCreate, business: CurrentBusiness, session: SessionDep) -> ReminderPublic:
    """Schedule a reminder email; it goes out within a minute of `remind_at` (a time already past: at the
    next minute), to `recipients` or else the business owner and the users who receive alerts."""
    reminder = Reminder(
        id=uuid.uuid4(),
        business_id=business.id,
        message=body.message,
        remind_at=body.remind_at,
        recipients=[str(r) for r in body.recipients] if body.recipients else None,
        status=ReminderStatus.PENDING,
    )
    session.add(reminder)
    session.commit()
    return ReminderPublic.model_validate(reminder)


@router.get("")
def list_reminders(
    business: CurrentBusiness,
    session: SessionDep,
    status_: Annotated[
        ReminderStatus | None, Query(alias="status", description="Only reminders in this state.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[ReminderPublic]:
    """The tenant's reminders, soonest first; `task_id` once dispatched."""
    query = select(Reminder).where(Reminder.business_id == business.id)
    if status_ is not None:
        query = query.where(Reminder.status == status_)
    reminders = session.scalars(query.order_by(Reminder.remind_at).limit(limit)).all()
    return [ReminderPublic.model_validate(r) for r in reminders]


@router.get("/{reminder_id}", responses=NOT_FOUND)
def get_reminder(reminder_id: uuid.UUID, business: CurrentBusiness, session: SessionDep) -> ReminderPublic:
    """One reminder, with `task_id` once dispatched."""
    return ReminderPublic.model_validate(_get(session, business, reminder_id))


@router.delete(
    "/{reminder_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={**NOT_FOUND, 409: {"model": ErrorResponse, "description": "Already sent on its way."}},
)
def delete_reminder(reminder_id: uuid.UUID, business: CurrentBusiness, session: SessionDep) -> Response:
    """Cancel a pending reminder: it is never sent. One already dispatched can no longer be stopped."""
    reminder = _get(session, business, reminder_id)
    # A conditional UPDATE, not check-then-set: it waits for a dispatcher holding the row, then sees
    # whether that dispatcher took it first.
    result: CursorResult[Any] = session.execute(  # type: ignore[assignment]
        update(Reminder)
        .where(Reminder.id == reminder.id, Reminder.status == ReminderStatus.PENDING)
        .values(status=ReminderStatus.CANCELLED)
    )
    cancelled = result.rowcount
    session.commit()
    if cancelled:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    session.refresh(reminder)
    if reminder.status == ReminderStatus.CANCELLED:
        return Response(status_code=status.HTTP_204_NO_CONTENT)
    raise HTTPException(
        status.HTTP_409_CONFLICT, f"reminder {reminder_id} is already {reminder.status.value}"
    )
