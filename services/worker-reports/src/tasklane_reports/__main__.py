"""``tasklane-worker-reports``: run the reports worker (extra arguments go to celery worker).

It also consumes the ``maintenance`` queue by default; pass ``--queues`` to split that onto its own worker.
"""

from __future__ import annotations

from tasklane.worker import run_worker
from tasklane_reports import QUEUES


def main() -> None:
    run_worker("tasklane_reports.app", queues=QUEUES)


if __name__ == "__main__":
    main()
