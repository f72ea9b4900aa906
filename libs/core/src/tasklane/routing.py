"""Which queue a task goes to: one glob map, and a refusal for anything it does not cover.

A task name that matches no route would otherwise land on Celery's default queue, which no Tasklane
worker consumes, and wait there forever; refusing it at publish time turns that silent loss into an error
at the caller.
"""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

QUEUE_ROUTES: dict[str, str] = {
    "reports.*": "reports",
    "notifications.*": "notifications",
    "payments.*": "payments",
    "maintenance.*": "maintenance",
}
# Every queue, in the map's order: the one list settings, workers and checks derive theirs from.
QUEUES: tuple[str, ...] = tuple(dict.fromkeys(QUEUE_ROUTES.values()))


class UnroutedTaskError(LookupError):
    """A task name that no route in ``QUEUE_ROUTES`` covers."""


def queue_for(task_name: str) -> str:
    for pattern, queue in QUEUE_ROUTES.items():
        if fnmatchcase(task_name, pattern):
            return queue
    raise UnroutedTaskError(
        f"task {task_name!r} matches no route in {sorted(QUEUE_ROUTES)}; no worker would consume it"
    )


def route_task(
    name: str, args: Any, kwargs: Any, options: dict[str, Any], task: Any = None, **_: Any
) -> dict[str, str] | None:
    """Celery router: the queue from ``QUEUE_ROUTES``, or refusal.

    Celery's own workflow helpers (``celery.chord_unlock``, ``celery.starmap``...) carry no Tasklane name;
    they are accepted only when the caller names one of Tasklane's queues explicitly.
    """
    explicit = options.get("queue")
    explicit_name = getattr(explicit, "name", explicit)
    if name.startswith("celery.") and explicit_name in QUEUES:
        return None
    return {"queue": queue_for(name)}
