"""Running one report: a private scratch directory, progress, the time limit, and the stored artifact."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from sqlalchemy import text
from sqlalchemy.orm import Session

from tasklane.artifacts import ArtifactStore, save_artifact
from tasklane.cancellation import TaskCancelled
from tasklane.db.base import utcnow
from tasklane.errors import PermanentTaskError
from tasklane.settings import Settings
from tasklane.telemetry.metrics import REPORT_BYTES, REPORT_ROWS
from tasklane.telemetry.tracing import tracer
from tasklane.worker import WorkerRuntime
from tasklane_reports.document import Document
from tasklane_reports.sql import stream_section
from tasklane_reports.writers import writer_for

SCRATCH_PREFIX = "tasklane-report-"
# Progress: 0-5% preparing, 5-95% writing rows, 95-100% storing the file.
_WRITE_START, _WRITE_END = 5, 95
_STEP = 2


class Progress:
    """Turns rows written into percent, reporting whenever it has moved by at least ``_STEP`` points."""

    def __init__(self, report: Callable[[int], None], expected_rows: int) -> None:
        self._report = report
        self._expected = max(expected_rows, 1)
        self._done = 0
        self._reported = 0

    def set(self, percent: int) -> None:
        if percent >= self._reported + _STEP or percent == 100:
            self._reported = percent
            self._report(percent)

    def rows(self, count: int) -> None:
        self._done += count
        share = min(self._done / self._expected, 1.0)
        self.set(_WRITE_START + int((_WRITE_END - _WRITE_START) * share))


def _ignore(_: int) -> None:
    pass


def _interruption(exc: BaseException | None) -> BaseException | None:
    """The soft time limit or the cancel that caused ``exc``, directly or by breaking what followed."""
    while exc is not None:
        if isinstance(exc, SoftTimeLimitExceeded | TaskCancelled):
            return exc
        exc = exc.__cause__ or exc.__context__
    return None


class ReportJob:
    def __init__(self, runtime: WorkerRuntime[Settings], store: ArtifactStore) -> None:
        self.runtime = runtime
        self.store = store

    @contextmanager
    def _session(self) -> Iterator[Session]:
        with self.runtime.database.session() as session:
            if self.runtime.database.is_postgresql:
                # Reports sort and hash a tenant's whole history, which spills to disk at PostgreSQL's
                # default 4 MB of working memory per operation.
                session.execute(text("SET LOCAL work_mem = '64MB'"))
            try:
                yield session
            except BaseException:
                # A failure (or the time limit's interrupt) can land mid-stream and leave the connection
                # busy: drop it rather than let the session talk to it again, which would fail and hide
                # the real reason.
                session.invalidate()
                raise

    def run(
        self,
        task: Task,
        *,
        business_id: uuid.UUID,
        fmt: str,
        build: Callable[[Session], Document],
    ) -> dict[str, Any]:
        """Build the document with a database session, write it, store it; return the task result.

        Whatever happens, the scratch directory goes; on the soft time limit or a cancel nothing
        half-written is kept: a cancelled report ends ``cancelled``, one out of time fails saying so.
        """
        task_id = task.request.id
        scratch = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{task_id}-"))

        def report(percent: int) -> None:
            self.runtime.report_progress(task, percent)

        try:
            with self._session() as session:
                # Spans by hand for the phases no instrumentation sees; the SQL inside is instrumented.
                with tracer.start_as_current_span("report.build"):
                    document = build(session)
                    sections = list(document.sections)
                # Only the streamed tables count towards progress; the small ones take no time.
                progress = Progress(report, sum(s.expected_rows for s in sections))
                writer_cls = writer_for(fmt)
                path = scratch / f"{document.filename_stem}.{writer_cls.extension}"
                writer = writer_cls(path, document)
                rows = 0
                with tracer.start_as_current_span(
                    "report.write", attributes={"tasklane.report.format": fmt}
                ) as span:
                    try:
                        for section in sections:
                            streamed = stream_section(session, section, writer_cls.projection)
                            rows += writer.write_section(
                                streamed, progress.rows if section.expected_rows else _ignore
                            )
                    finally:
                        writer.close()
                    span.set_attribute("tasklane.report.rows", rows)
            progress.set(_WRITE_END)
            settings = self.runtime.settings
            with tracer.start_as_current_span("report.store"):
                artifact = save_artifact(
                    self.runtime.database,
                    self.store,
                    path,
                    business_id=business_id,
                    task_id=task_id,
                    filename=path.name,
                    content_type=writer_cls.content_type,
                    expires_at=utcnow() + timedelta(seconds=settings.artifact_retention),
                )
        except Exception as exc:
            interruption = _interruption(exc)
            if interruption is None:
                raise
            if isinstance(interruption, TaskCancelled):
                raise TaskCancelled("cancelled; the partial file was discarded") from None
            limit = task.soft_time_limit or self.runtime.settings.time_limits("reports").soft
            raise PermanentTaskError(
                f"ran out of time: the report was stopped after its {limit}s soft time limit and the partial "
                "file was discarded; narrow the date range or ask for CSV"
            ) from None
        finally:
            shutil.rmtree(scratch, ignore_errors=True)
        REPORT_ROWS.labels(report=task.name, format=fmt).inc(rows)
        REPORT_BYTES.labels(report=task.name, format=fmt).inc(artifact.size_bytes)
        return {
            "artifact_id": str(artifact.id),
            "filename": artifact.filename,
            "content_type": artifact.content_type,
            "size_bytes": artifact.size_bytes,
            "sha256": artifact.sha256,
            "rows": rows,
            "expires_at": artifact.expires_at.isoformat(),
            **document.meta,
        }
