"""The payments worker's Celery app (``celery --app tasklane_payments.app``)."""

from __future__ import annotations

from tasklane.settings import load_settings
from tasklane.worker import WorkerRuntime
from tasklane_payments.relay import PaymentRelay, relay_bootstep
from tasklane_payments.tasks import register_all

settings = load_settings()
runtime = WorkerRuntime(settings, name="payments")
relay = PaymentRelay(runtime)
register_all(runtime, relay)
app = runtime.celery
app.steps["worker"].add(relay_bootstep(relay))
