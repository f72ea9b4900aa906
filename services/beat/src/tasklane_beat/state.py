"""What beat recorded in Redis about each entry: when it last ran (the CLI's table, the metrics)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime

from celery import Celery
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

from tasklane.telemetry.metrics import Scraped
from tasklane_beat.schedule import Entry


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


def schedule_collectors(app: Celery, entries: Mapping[str, Entry]) -> list[Scraped]:
    """Read from Redis at each scrape: ``tasklane_beat_last_run_age_seconds{entry}`` (how long ago beat
    published each entry) and ``tasklane_beat_entry_overdue_seconds{entry}`` (how long past its due time an
    entry still waits: above a loop or two, beat has stopped publishing, whatever the entry's period)."""

    def ages() -> dict[tuple[str, ...], float]:
        now = datetime.now(UTC)
        runs = last_runs(app, entries).items()
        return {(name,): (now - last).total_seconds() for name, last in runs if last}

    def overdue() -> dict[tuple[str, ...], float]:
        now = datetime.now(UTC)
        runs = last_runs(app, entries).items()
        return {
            (name,): max(0.0, (now - entries[name].due(last, now)).total_seconds())
            for name, last in runs
            if last
        }

    return [
        Scraped("tasklane_beat_last_run_age_seconds", "Seconds since beat last published each entry.",
                ("entry",), ages),
        Scraped("tasklane_beat_entry_overdue_seconds", "Seconds each entry is past its due, unpublished.",
                ("entry",), overdue),
    ]  # fmt: skip
