"""``tasklane-worker-notifications``: run the notifications worker (extra arguments go to celery worker)."""

from __future__ import annotations

from tasklane.worker import run_worker


def main() -> None:
    run_worker("tasklane_notifications.app", queues=["notifications"])


if __name__ == "__main__":
    main()
