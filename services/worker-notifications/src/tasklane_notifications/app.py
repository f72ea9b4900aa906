"""The notifications worker's Celery app (``celery --app tasklane_notifications.app``)."""

from __future__ import annotations

from tasklane.settings import load_settings
from tasklane.worker import WorkerRuntime
from tasklane_notifications.mailer import Mailer
from tasklane_notifications.notifier import Notifier
from tasklane_notifications.tasks import register_all

settings = load_settings()
runtime = WorkerRuntime(settings, name="notifications")
register_all(Notifier(runtime, Mailer(settings)))
app = runtime.celery
