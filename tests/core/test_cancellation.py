"""The cancel path on its own: its signal raises TaskCancelled in a running task, never the time limit's
exception, and does nothing between tasks."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator

import pytest
from celery import signals
from celery.exceptions import SoftTimeLimitExceeded

from tasklane import cancellation
from tasklane.cancellation import CANCEL_SIGNAL, TaskCancelled


@pytest.fixture
def installed() -> Iterator[None]:
    number = getattr(signal, CANCEL_SIGNAL)
    before = signal.getsignal(number)
    cancellation.install()
    try:
        yield
    finally:
        signal.signal(number, before)
        signals.task_prerun.disconnect(dispatch_uid="tasklane.cancellation.prerun")
        signals.task_postrun.disconnect(dispatch_uid="tasklane.cancellation.postrun")


def _signal_self() -> None:
    os.kill(os.getpid(), getattr(signal, CANCEL_SIGNAL))


@pytest.mark.usefixtures("installed")
def test_the_cancel_signal_raises_task_cancelled_in_the_running_task() -> None:
    signals.task_prerun.send(sender=None, task_id="t-1", task=None)
    try:
        with pytest.raises(TaskCancelled, match="cancelled by the client") as raised:
            _signal_self()  # the handler runs here, where the task's own code would be
    finally:
        signals.task_postrun.send(sender=None, task_id="t-1", task=None)

    assert not isinstance(raised.value, SoftTimeLimitExceeded)


@pytest.mark.usefixtures("installed")
def test_the_cancel_signal_between_tasks_is_ignored() -> None:
    signals.task_prerun.send(sender=None, task_id="t-2", task=None)
    signals.task_postrun.send(sender=None, task_id="t-2", task=None)

    _signal_self()  # the task finished as the cancel arrived: nothing to interrupt, and no crash


def test_cancel_and_the_soft_time_limit_use_different_signals() -> None:
    # Celery's soft time limit arrives as SIGUSR1; the cancel must not, or the two could not be told apart.
    assert CANCEL_SIGNAL != "SIGUSR1"
    assert not issubclass(TaskCancelled, SoftTimeLimitExceeded)
