"""The reports worker's Celery app (``celery --app tasklane_reports.app``)."""

from __future__ import annotations

from tasklane.artifacts import DatabaseArtifactStore
from tasklane.settings import load_settings
from tasklane.worker import WorkerRuntime
from tasklane_reports import maintenance
from tasklane_reports.job import ReportJob
from tasklane_reports.tasks import register_all

settings = load_settings()
runtime = WorkerRuntime(settings, name="reports")
store = DatabaseArtifactStore(runtime.database)
register_all(ReportJob(runtime, store))
maintenance.register(runtime, store)
app = runtime.celery
