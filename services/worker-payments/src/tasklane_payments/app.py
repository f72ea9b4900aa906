"""The payments worker's Celery app (``celery --app tasklane_payments.app``)."""

from __future__ import annotations

from tasklane.worker import boot
from tasklane_payments import QUEUES
from tasklane_payments.settings import PaymentsSettings

runtime = boot(PaymentsSettings, name="payments", queues=QUEUES)
runtime.discover("tasklane_payments.tasks")
app = runtime.celery
