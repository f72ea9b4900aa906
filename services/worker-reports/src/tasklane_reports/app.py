"""The reports worker's Celery app (``celery --app tasklane_reports.app``): the reports, and the maintenance
tasks it hosts by default (its own queues say which it consumes)."""

from __future__ import annotations

from tasklane.worker import boot
from tasklane_maintenance.settings import MaintenanceSettings
from tasklane_reports import QUEUES

runtime = boot(MaintenanceSettings, name="reports", queues=QUEUES)
runtime.discover("tasklane_reports.tasks", "tasklane_maintenance.tasks")
app = runtime.celery
