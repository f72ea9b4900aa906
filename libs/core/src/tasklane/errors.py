"""Exceptions that carry a task's outcome to its task record."""

from __future__ import annotations


class PermanentTaskError(Exception):
    """A failure that retrying cannot fix. Its message is shown to the tenant as the task's error."""


class InvalidPayload(PermanentTaskError):
    """A task message whose keyword arguments do not match the task's contract."""


class BrokerUnavailable(RuntimeError):
    """The broker could not take a message; nothing was queued.

    ``task_id`` names the task record that says so, when there is one.
    """

    def __init__(self, message: str, *, task_id: str | None = None) -> None:
        super().__init__(message)
        self.task_id = task_id


def describe_failure(exc: BaseException) -> str:
    """The one-line error a task record shows for ``exc``."""
    if isinstance(exc, PermanentTaskError):
        return str(exc)
    name = type(exc).__name__
    if name == "TimeLimitExceeded":
        return f"killed after exceeding its hard time limit of {exc.args[0] if exc.args else '?'}s"
    if name == "WorkerLostError":
        return "the worker running it was lost"
    text = str(exc).strip()
    return f"{name}: {text}" if text else name
