"""``tasklane-worker-payments``: run the payments worker (extra arguments go to celery worker)."""

from __future__ import annotations

from tasklane.worker import run_worker
from tasklane_payments import QUEUES


def main() -> None:
    run_worker("tasklane_payments.app", queues=QUEUES)


if __name__ == "__main__":
    main()
