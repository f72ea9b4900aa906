"""Reminders: picked up when due by a dispatcher beat runs every minute, then sent like any email.

Due reminders are claimed with ``FOR UPDATE SKIP LOCKED`` and marked dispatched in the same transaction
that records their send task (an outbox), so two dispatchers never both take one, a reminder deleted
before it is claimed is never sent, and a broker outage delays a claimed reminder rather than losing it.
Long-ETA Celery messages are avoided on purpose: Redis redelivers them after the visibility timeout.
"""

from __future__ import annotations

import logging
from typing import Any

from celery import Task
from sqlalchemy import select

from tasklane.contracts.notifications import DISPATCH_DUE_REMINDERS, SEND_REMINDER, Dispatch, SendReminder
from tasklane.db.base import utcnow
from tasklane.db.models import Reminder, ReminderStatus
from tasklane.errors import BrokerUnavailable, PermanentTaskError
from tasklane.publishing import Outbound, dispatch, record_task
from tasklane_notifications.notifier import nothing_to_send
from tasklane_notifications.service import EMAIL, notifier, runtime

log = logging.getLogger(__name__)


def claim_due(limit: int) -> list[Outbound]:
    now = utcnow()
    with runtime.database.transaction() as session:
        due = session.scalars(
            select(Reminder)
            .where(Reminder.status == ReminderStatus.PENDING, Reminder.remind_at <= now)
            .order_by(Reminder.remind_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        ).all()
        claimed = []
        for reminder in due:
            outbound = record_task(
                session,
                SEND_REMINDER,
                SendReminder(reminder_id=reminder.id),
                business_id=reminder.business_id,
            )
            reminder.status = ReminderStatus.DISPATCHED
            reminder.task_id = outbound.id
            reminder.dispatched_at = now
            claimed.append(outbound)
    return claimed


@runtime.task(DISPATCH_DUE_REMINDERS)
def dispatch_due_reminders(task: Task, payload: Dispatch) -> dict[str, int]:
    """Hand every due reminder to ``send_reminder``, a page at a time."""
    page = runtime.settings.dispatch_page_size
    claimed = queued = 0
    while True:
        outbounds = claim_due(page)
        claimed += len(outbounds)
        with runtime.database.session() as session:
            for outbound in outbounds:
                try:
                    dispatch(session, runtime.celery, outbound)
                    queued += 1
                except BrokerUnavailable:
                    log.warning("reminder task %s stays recorded until the broker is back", outbound.id)
        if len(outbounds) < page:
            return {"claimed": claimed, "queued": queued}


@runtime.task(SEND_REMINDER, **EMAIL)
def send_reminder(task: Task, payload: SendReminder) -> dict[str, Any]:
    """A reminder a tenant scheduled, to its own recipients or else the business's audience."""
    with runtime.database.session() as session:
        reminder = session.get(Reminder, payload.reminder_id)
    if reminder is None:
        raise PermanentTaskError(f"reminder {payload.reminder_id} does not exist")
    if reminder.status == ReminderStatus.CANCELLED:
        return nothing_to_send("the reminder was cancelled")
    business = notifier.business(reminder.business_id)
    return notifier.send(
        task,
        business=business,
        template="reminder",
        dedupe_key=f"reminder:{reminder.id}",
        context={"message": reminder.message, "remind_at": reminder.remind_at},
        recipients=reminder.recipients or None,
    )
