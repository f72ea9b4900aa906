"""``tasklane-beat``: run the scheduler (extra arguments go to ``celery beat``), or ``tasklane-beat schedule
[--json]`` to print the effective schedule. Exit codes: 0 done, 2 bad usage, 78 bad configuration."""

from __future__ import annotations

import json
import os
import sys
from datetime import UTC, datetime
from typing import Any

import click
import redis.exceptions

from tasklane.settings import ConfigurationError, load_settings
from tasklane_beat import state as beat_state
from tasklane_beat.factory import create_beat_app
from tasklane_beat.schedule import Entry, disabled_entries, effective_schedule
from tasklane_beat.settings import BeatSettings

EX_CONFIG = 78
USAGE = """usage: tasklane-beat [celery beat options]    run the scheduler
       tasklane-beat schedule [--json]       print the effective schedule, with last and next runs"""


def _settings() -> tuple[BeatSettings, dict[str, Entry]]:
    try:
        settings = load_settings(BeatSettings)
        # Refuse a bad override here, with its message, not in a traceback.
        return settings, effective_schedule(settings)
    except ConfigurationError as exc:
        print(f"tasklane-beat: {exc}", file=sys.stderr)
        sys.exit(EX_CONFIG)


def run(argv: list[str]) -> None:
    settings, _ = _settings()
    args = [
        sys.executable, "-m", "celery", "--app", "tasklane_beat.app", "beat",
        "--loglevel", settings.log_level,
        *argv,
    ]  # fmt: skip
    os.execv(sys.executable, args)  # noqa: S606  (become beat: SIGTERM goes straight to it)


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


@click.command("schedule", context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def schedule(as_json: bool) -> None:
    """Print the effective schedule (code defaults plus TASKLANE_BEAT_SCHEDULE_OVERRIDES) and next runs.

    Last runs come from beat's state in Redis; without it, next runs are counted from now, which is
    what a beat starting now would do.
    """
    settings, entries = _settings()
    now = datetime.now(UTC)
    try:
        last_runs = beat_state.last_runs(create_beat_app(settings), list(entries))
    except redis.exceptions.RedisError as exc:
        click.echo(f"tasklane-beat: no schedule state ({exc}); next runs counted from now", err=True)
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


def main() -> None:
    args = sys.argv[1:]
    if args[:1] == ["schedule"]:
        schedule.main(args[1:], prog_name="tasklane-beat schedule")
    elif args[:1] in (["-h"], ["--help"]):
        print(USAGE)
    else:
        run(args)


if __name__ == "__main__":
    main()
