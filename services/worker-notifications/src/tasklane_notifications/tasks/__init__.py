"""The notifications queue's tasks, registered on a worker runtime."""

from __future__ import annotations

from tasklane_notifications.notifier import Notifier
from tasklane_notifications.tasks import credits, dispatch, inventory, reminders, reports, welcome


def register_all(notifier: Notifier) -> None:
    for module in (welcome, inventory, credits, reports, reminders):
        module.register(notifier)
    dispatch.register(notifier.runtime)
