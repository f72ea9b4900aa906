"""The reports queue's tasks: one per entry of the builders table (``tasklane_reports.reports.BUILDERS``),
each building its document and handing it to the job, which writes, stores and accounts for it."""

from __future__ import annotations

from typing import Any

from celery import Task

from tasklane.artifacts import DatabaseArtifactStore
from tasklane.settings import Settings
from tasklane.worker import current_runtime
from tasklane_reports.job import ReportJob
from tasklane_reports.reports import BUILDERS, Builder, ReportPayload

runtime = current_runtime(Settings)
job = ReportJob(runtime, DatabaseArtifactStore(runtime.database))
runtime.discover("tasklane_reports.reports")


def report_task(build: Builder[Any]) -> Any:
    """The task body for one report: build the document with ``build``, write it, store it."""

    def run(task: Task, payload: ReportPayload) -> dict[str, Any]:
        return job.run(
            task,
            business_id=payload.business_id,
            fmt=payload.format,
            build=lambda session: build(session, payload),
        )

    run.__name__, run.__doc__ = build.__module__.rsplit(".", 1)[-1], build.__doc__
    return run


for contract, build in BUILDERS.items():
    runtime.task(contract)(report_task(build))
