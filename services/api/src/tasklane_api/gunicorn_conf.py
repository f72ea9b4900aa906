"""Gunicorn configuration for the Tasklane API (``gunicorn -c python:tasklane_api.gunicorn_conf``).

Every value comes from ``TASKLANE_API_*`` settings. It ships inside the package, so the same command works
from an image, a checkout's venv or a Procfile, with no path to a file next to the code.

Telemetry follows the process model: the master serves the metrics every worker counts (prometheus-client's
multiprocess mode, its directory prepared by ``tasklane-api`` before gunicorn starts) and forgets a worker
that exits; each worker sets up tracing and Sentry after it is forked, never the master before it forks.
"""

from typing import Any

from tasklane.settings import load_settings
from tasklane.telemetry import multiprocess
from tasklane.telemetry.errors import configure_sentry
from tasklane.telemetry.logs import logging_config
from tasklane.telemetry.tracing import configure_tracing
from tasklane_api.settings import ApiSettings

COMPONENT = "tasklane-api"
_settings = load_settings(ApiSettings)
multiprocess.prepare(_settings)  # when gunicorn is started directly, not through tasklane-api

wsgi_app = "tasklane_api.main:create_app()"
worker_class = "uvicorn_worker.UvicornWorker"
bind = _settings.api_bind
workers = _settings.api_workers
timeout = _settings.api_timeout
graceful_timeout = _settings.api_graceful_timeout
keepalive = _settings.api_keepalive
reuse_port = _settings.api_reuse_port
loglevel = _settings.log_level.lower()
accesslog = "-"
errorlog = "-"
# gunicorn's own loggers (and uvicorn's, and the app's) share the process's one format.
logconfig_dict = logging_config(
    _settings,
    extra_loggers={
        name: {"handlers": ["stderr"], "level": _settings.log_level, "propagate": False}
        for name in ("gunicorn.error", "gunicorn.access")
    },
)
# Workers start fresh (no preload): each builds its own database pool and broker connections.
preload_app = False


# prometheus-client is imported in the hooks, after the multiprocess directory is settled above.


def on_starting(server: Any) -> None:
    multiprocess.clear()


def when_ready(server: Any) -> None:
    if _settings.metrics_port:
        from tasklane.telemetry import metrics

        metrics.serve(_settings.metrics_port)


def post_fork(server: Any, worker: Any) -> None:
    from sentry_sdk.integrations.fastapi import FastApiIntegration
    from sentry_sdk.integrations.starlette import StarletteIntegration

    from tasklane.telemetry import metrics

    configure_tracing(_settings, COMPONENT)
    configure_sentry(_settings, COMPONENT, [StarletteIntegration(), FastApiIntegration()])
    metrics.count_tasks()


def child_exit(server: Any, worker: Any) -> None:
    from tasklane.telemetry import metrics

    metrics.mark_process_dead(worker.pid)
