"""``tasklane-worker-notifications``: run the notifications worker (extra arguments go to celery worker)."""

from __future__ import annotations

from tasklane.worker import run_worker
from tasklane_notifications import QUEUES


def main() -> None:
    run_worker("tasklane_notifications.app", queues=QUEUES)


if __name__ == "__main__":
    main()
