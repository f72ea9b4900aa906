"""The report-ready email: a signed, expiring link to a finished report."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from celery import Task
from sqlalchemy import select

from tasklane.contracts.notifications import SEND_REPORT_READY, SendReportReady
from tasklane.db.base import utcnow
from tasklane.db.models import ReportArtifact, TaskRecord
from tasklane.errors import PermanentTaskError
from tasklane.signing import artifact_url
from tasklane_notifications.service import EMAIL, notifier, runtime, settings


@runtime.task(SEND_REPORT_READY, **EMAIL)
def send_report_ready(task: Task, payload: SendReportReady) -> dict[str, Any]:
    """Tell the business its report is ready, with a download link that outlives the API's short one."""
    with runtime.database.session() as session:
        artifact = session.scalar(
            select(ReportArtifact).where(
                ReportArtifact.task_id == payload.task_id,
                ReportArtifact.business_id == payload.business_id,
            )
        )
        report = session.get(TaskRecord, payload.task_id)
    if artifact is None:
        raise PermanentTaskError(f"task {payload.task_id} produced no report file for this business")
    business = notifier.business(payload.business_id)
    expires_at = min(artifact.expires_at, utcnow() + timedelta(seconds=settings.report_link_ttl))
    return notifier.send(
        task,
        business=business,
        template="report_ready",
        dedupe_key=f"report-ready:{payload.task_id}",
        context={
            "artifact": artifact,
            "report_name": report.name if report else "report",
            "link": artifact_url(settings, artifact.id, expires_at=expires_at),
            "expires_at": expires_at,
        },
    )
