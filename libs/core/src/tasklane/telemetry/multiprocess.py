"""prometheus-client's multiprocess mode, prepared before prometheus-client is first imported: it reads
``PROMETHEUS_MULTIPROC_DIR`` once, at import, to decide where every process of the group counts."""

from __future__ import annotations

import os
import tempfile

from tasklane.settings import Settings

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def prepare(settings: Settings) -> None:
    """A fresh directory for a process group that serves metrics (a worker and its pool, gunicorn and its
    workers), unless one is given; call it before the group's first process imports prometheus-client."""
    if settings.metrics_port and not os.environ.get(MULTIPROC_ENV):
        os.environ[MULTIPROC_ENV] = tempfile.mkdtemp(prefix="tasklane-metrics-")


def clear() -> None:
    """Remove the counts an earlier run left in a directory that is given (and so reused)."""
    directory = os.environ.get(MULTIPROC_ENV)
    if directory and os.path.isdir(directory):
        for name in os.listdir(directory):
            if name.endswith(".db"):
                os.unlink(os.path.join(directory, name))
