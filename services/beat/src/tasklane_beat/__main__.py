"""``tasklane-beat``: run the scheduler (extra arguments go to ``celery beat``)."""

from __future__ import annotations

import os
import sys

from tasklane.settings import ConfigurationError, load_settings
from tasklane_beat.schedule import effective_schedule

EX_CONFIG = 78


def main() -> None:
    try:
        settings = load_settings()
        effective_schedule(settings)  # refuse a bad override here, with its message, not in a traceback
    except ConfigurationError as exc:
        print(f"tasklane-beat: {exc}", file=sys.stderr)
        sys.exit(EX_CONFIG)
    args = [
        sys.executable, "-m", "celery", "--app", "tasklane_beat.app", "beat",
        "--loglevel", settings.log_level,
        *sys.argv[1:],
    ]  # fmt: skip
    os.execv(sys.executable, args)  # noqa: S606  (become beat: SIGTERM goes straight to it)


if __name__ == "__main__":
    main()
