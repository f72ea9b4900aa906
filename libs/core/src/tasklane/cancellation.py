"""Cancelling a running task: a signal and an exception of its own, never mistaken for the time limit.

The API cancels a running task by revoking it with ``CANCEL_SIGNAL``; Celery sends that signal to the pool
process running the task, where the handler ``install`` set up raises ``TaskCancelled`` in the task's
code, which can clean up (a report discards its partial file). Celery's soft time limit arrives apart, as
SIGUSR1 and ``SoftTimeLimitExceeded``, so a task always knows which of the two stopped it. A signal that
lands between tasks (the task finished as the cancel arrived) is ignored.
"""

from __future__ import annotations

import signal
from types import FrameType
from typing import Any

from celery import signals

CANCEL_SIGNAL = "SIGUSR2"


class TaskCancelled(Exception):
    """Raised inside a running task whose client cancelled it; its record already says ``cancelled``."""


_running: set[str] = set()  # ids of the tasks this process is running now (one, in a prefork child)


def _on_prerun(task_id: str, **_: Any) -> None:
    _running.add(task_id)


def _on_postrun(task_id: str, **_: Any) -> None:
    _running.discard(task_id)


def _raise_cancelled(signum: int, frame: FrameType | None) -> None:
    if _running:
        raise TaskCancelled("cancelled by the client")


def install() -> None:
    """Make ``CANCEL_SIGNAL`` raise ``TaskCancelled`` in the task this process runs (call it in each pool
    process, after the fork)."""
    signals.task_prerun.connect(_on_prerun, weak=False, dispatch_uid="tasklane.cancellation.prerun")
    signals.task_postrun.connect(_on_postrun, weak=False, dispatch_uid="tasklane.cancellation.postrun")
    signal.signal(getattr(signal, CANCEL_SIGNAL), _raise_cancelled)
