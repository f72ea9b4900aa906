"""The reports worker's Celery app (``celery --app tasklane_reports.app``)."""

from __future__ import annotations

from tasklane.artifacts import DatabaseArtifactStore
from tasklane.settings import load_settings
from tasklane.worker import WorkerRuntime
from tasklane_reports.job import ReportJob
from tasklane_reports.tasks import register_all

settings = load_settings()
runtime = WorkerRuntime(settings, name="reports")
register_all(ReportJob(runtime, DatabaseArtifactStore(runtime.database)))
app = runtime.celery
