from __future__ import annotations

from typing import Any

from celery import Task

from tasklane.contracts import SEND_REMINDER, SendReminder
from tasklane.db.models import Reminder, ReminderStatus
from tasklane.errors import PermanentTaskError
from tasklane_notifications.notifier import Notifier, nothing_to_send
from tasklane_notifications.tasks.retry import email_task_options


def register(notifier: Notifier) -> None:
    runtime = notifier.runtime

    @runtime.task(SEND_REMINDER, **email_task_options(runtime.settings))
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
