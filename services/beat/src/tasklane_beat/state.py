"""What beat recorded in Redis about each entry: when it last ran (the CLI's table, the metrics)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

from celery import Celery
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

from tasklane.telemetry.metrics import Scraped


def last_runs(app: Celery, names: Iterable[str]) -> dict[str, datetime | None]:
    """Each entry's last run (None: never run, or not installed yet)."""
    ensure_conf(app)
    last: dict[str, datetime | None] = {}
    for name in names:
        try:
            stored = RedBeatSchedulerEntry.from_key(RedBeatSchedulerEntry.generate_key(app, name), app=app)
        except KeyError:
            last[name] = None
            continue
        last[name] = stored.last_run_at
    return last


def last_run_ages(app: Celery, names: Iterable[str]) -> Scraped:
    """``tasklane_beat_last_run_age_seconds{entry}``, read from Redis at each scrape: an entry whose age
    outgrows its period means beat stopped publishing it."""

    def read() -> dict[tuple[str, ...], float]:
        now = datetime.now(UTC)
        return {(name,): (now - last).total_seconds() for name, last in last_runs(app, names).items() if last}

    return Scraped(
        "tasklane_beat_last_run_age_seconds",
        "Seconds since beat last published each entry.",
        ("entry",),
        read,
    )
