"""One log format for every process: ``TASKLANE_LOG_FORMAT=json`` writes one JSON object per line (what a
log pipeline indexes), ``text`` one readable line (a terminal). Both carry what ties a line to the rest:
the trace and span, the task and the tenant, where known.

Celery's own loggers and gunicorn's go through the same handler: the worker and beat hand their logging
set-up to ``configure_logging`` (Celery's ``setup_logging`` signal), gunicorn takes ``logconfig_dict``.
"""

from __future__ import annotations

import logging
import logging.config
import sys
from typing import Any

from celery._state import get_current_task
from opentelemetry import trace

from tasklane.settings import Settings
from tasklane.telemetry.context import current_tenant

FIELDS = ("trace_id", "span_id", "task_id", "task_name", "tenant_id")
TEXT_FORMAT = "%(asctime)s %(levelname)s [%(processName)s] %(name)s: %(message)s%(context)s"
JSON_FIELDS = ["asctime", "levelname", "name", "processName", "message"]


class ContextFilter(logging.Filter):
    """Adds ``FIELDS`` (None where unknown) and ``context`` (the known ones as `` key=value`` text)."""

    def filter(self, record: logging.LogRecord) -> bool:
        span = trace.get_current_span().get_span_context()
        task = get_current_task()
        request = getattr(task, "request", None)
        # A task's tenant is its message's business, also in Celery's own lines around the run.
        tenant = current_tenant() or (getattr(request, "kwargs", None) or {}).get("business_id")
        values = {
            "trace_id": format(span.trace_id, "032x") if span.is_valid else None,
            "span_id": format(span.span_id, "016x") if span.is_valid else None,
            "task_id": getattr(request, "id", None),
            "task_name": getattr(task, "name", None) if request is not None and request.id else None,
            "tenant_id": str(tenant) if tenant else None,
        }
        for key, value in values.items():
            if getattr(record, key, None) is None:
                setattr(record, key, value)
        known = [f"{k}={getattr(record, k)}" for k in FIELDS if getattr(record, k, None)]
        record.context = f" [{' '.join(known)}]" if known else ""
        return True


def formatter_config(settings: Settings) -> dict[str, Any]:
    """The ``logging.config`` entry of the formatter ``settings`` ask for."""
    if settings.log_format == "json":
        return {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": [*JSON_FIELDS, *FIELDS],
            "rename_fields": {
                "asctime": "time",
                "levelname": "level",
                "name": "logger",
                "processName": "process",
            },
        }
    return {"format": TEXT_FORMAT}


def logging_config(settings: Settings, *, extra_loggers: dict[str, Any] | None = None) -> dict[str, Any]:
    """A ``logging.config.dictConfig`` for this process: one stderr handler on the root logger, with the
    context filter and the chosen format; ``extra_loggers`` (gunicorn's) use the same handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"context": {"()": ContextFilter}},
        "formatters": {"tasklane": formatter_config(settings)},
        "handlers": {
            "stderr": {
                "class": "logging.StreamHandler",
                "stream": sys.stderr,
                "filters": ["context"],
                "formatter": "tasklane",
            }
        },
        "root": {"level": settings.log_level, "handlers": ["stderr"]},
        "loggers": extra_loggers or {},
    }


def configure_logging(settings: Settings, **_: Any) -> None:
    """Configure this process's logging (also Celery's ``setup_logging`` receiver, so Celery leaves its own
    loggers to it)."""
    logging.config.dictConfig(logging_config(settings))
