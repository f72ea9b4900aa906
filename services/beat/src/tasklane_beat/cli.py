"""``tasklane beat``: inspect the scheduler (plugged into the ``tasklane`` CLI by entry point)."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import click
import redis.exceptions
from redbeat.schedulers import RedBeatSchedulerEntry, ensure_conf

from tasklane.settings import ConfigurationError, load_settings
from tasklane_beat.factory import create_beat_app
from tasklane_beat.schedule import Entry, disabled_entries, effective_schedule

EX_CONFIG = 78


def _last_runs(names: list[str], settings: Any) -> dict[str, datetime | None]:
    """Each entry's last run as beat recorded it in Redis (None: never run, or not installed yet)."""
    app = create_beat_app(settings)
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


def _row(name: str, entry: Entry, last_run: datetime | None, now: datetime) -> dict[str, Any]:
    return {
        "entry": name,
        "task": entry.contract.name,
        "queue": entry.contract.queue,
        "schedule": entry.describe(),
        "expires_seconds": entry.expires,
        "kwargs": entry.kwargs,
        "last_run": last_run.isoformat() if last_run else None,
        "next_run": entry.next_run(last_run or now, now).isoformat(),
    }


def _cell(value: Any) -> str:
    if value in (None, {}):
        return "-"
    return json.dumps(value) if isinstance(value, dict) else str(value)


@click.group()
def beat() -> None:
    """The recurring-work scheduler."""


@beat.command("schedule")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def show_schedule(as_json: bool) -> None:
    """Print the effective schedule (code defaults plus TASKLANE_BEAT_SCHEDULE_OVERRIDES) and next runs.

    Last runs come from beat's state in Redis; without it, next runs are counted from now, which is
    what a beat starting now would do.
    """
    try:
        settings = load_settings()
        entries = effective_schedule(settings)
    except ConfigurationError as exc:
        click.echo(f"tasklane beat: {exc}", err=True)
        sys.exit(EX_CONFIG)
    now = datetime.now(UTC)
    try:
        last_runs = _last_runs(list(entries), settings)
    except redis.exceptions.RedisError as exc:
        click.echo(f"tasklane beat: no schedule state ({exc}); next runs counted from now", err=True)
        last_runs = {}
    rows = [_row(name, entry, last_runs.get(name), now) for name, entry in entries.items()]
    disabled = disabled_entries(settings)
    if as_json:
        click.echo(json.dumps({"entries": rows, "disabled": disabled}, indent=2))
        return
    columns = ("entry", "task", "schedule", "next_run", "last_run", "expires_seconds", "kwargs")
    table = [[_cell(r[c]) for c in columns] for r in rows]
    widths = [max(len(c), *(len(line[i]) for line in table)) for i, c in enumerate(columns)]
    click.echo("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for line in table:
        click.echo("  ".join(v.ljust(w) for v, w in zip(line, widths, strict=True)).rstrip())
    for name in disabled:
        click.echo(f"{name}: disabled by TASKLANE_BEAT_SCHEDULE_OVERRIDES")
