"""The notifications worker's Celery app (``celery --app tasklane_notifications.app``)."""

from __future__ import annotations

from tasklane.worker import boot
from tasklane_notifications import QUEUES
from tasklane_notifications.settings import NotificationsSettings

runtime = boot(NotificationsSettings, name="notifications", queues=QUEUES)
runtime.discover("tasklane_notifications.tasks")
app = runtime.celery
