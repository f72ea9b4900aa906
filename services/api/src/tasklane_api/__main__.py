"""``tasklane-api``: serve the API with gunicorn and uvicorn workers (extra arguments go to gunicorn)."""

from __future__ import annotations

import os
import sys

from tasklane.settings import ConfigurationError, load_settings
from tasklane.telemetry import multiprocess
from tasklane_api.settings import ApiSettings

EX_CONFIG = 78


def main() -> None:
    try:
        # Refuse bad configuration here, with its message, not in a worker's traceback.
        settings = load_settings(ApiSettings)
    except ConfigurationError as exc:
        print(f"tasklane-api: {exc}", file=sys.stderr)
        sys.exit(EX_CONFIG)
    multiprocess.prepare(settings)  # gunicorn's workers count, its master serves the sum
    args = [sys.executable, "-m", "gunicorn", "-c", "python:tasklane_api.gunicorn_conf", *sys.argv[1:]]
    os.execv(sys.executable, args)  # noqa: S606  (become gunicorn: SIGTERM goes straight to its master)


if __name__ == "__main__":
    main()
