"""Rendering, addressing and sending one logical notification exactly once."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from celery import Task, signals

from tasklane.db.models import Business
from tasklane.errors import PermanentTaskError
from tasklane.worker import WorkerRuntime
from tasklane_notifications.audience import business_recipients
from tasklane_notifications.delivery import build_message, send_once
from tasklane_notifications.mailer import Mailer
from tasklane_notifications.rendering import render_email
from tasklane_notifications.settings import NotificationsSettings


class Notifier:
    def __init__(self, runtime: WorkerRuntime[NotificationsSettings]) -> None:
        self.runtime = runtime
        self.mailer = Mailer(runtime.settings)
        # Each pool process keeps its own connection to the relay; it says goodbye as the process ends.
        signals.worker_process_shutdown.connect(
            lambda **_: self.mailer.close(), weak=False, dispatch_uid="tasklane.notifications.mailer"
        )

    def business(self, business_id: uuid.UUID) -> Business:
        with self.runtime.database.session() as session:
            business = session.get(Business, business_id)
        if business is None:
            raise PermanentTaskError(f"business {business_id} does not exist")
        return business

    def send(
        self,
        task: Task,
        *,
        business: Business,
        template: str,
        dedupe_key: str,
        context: dict[str, Any],
        recipients: Sequence[str] | None = None,
    ) -> dict[str, Any]:
        """Send ``template`` to ``recipients`` (default: the business's audience) unless already sent."""
        if recipients is None:
            with self.runtime.database.session() as session:
                recipients = business_recipients(session, business)
        rendered = render_email(template, business_name=business.name, **context)
        sent = send_once(
            self.runtime.database,
            self.mailer,
            build_message(self.runtime.settings, rendered, recipients, dedupe_key),
            dedupe_key=dedupe_key,
            kind=template,
            recipients=recipients,
            business_id=business.id,
            task_id=task.request.id,
            sent_before=self.runtime.already_done(task, f"email:{dedupe_key}"),
        )
        return {"sent": sent, "recipients": list(recipients), "dedupe_key": dedupe_key}


def nothing_to_send(reason: str, **details: Any) -> dict[str, Any]:
    return {"sent": False, "reason": reason, "recipients": [], **details}
