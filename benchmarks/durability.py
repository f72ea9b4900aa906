"""`make bench-durability`: the fault scenarios, against this checkout and against the revision before the
durability work, side by side in one run.

The baseline is checked out into a git worktree under `.bench/` with its own venv (the same locked
dependencies, so uv's cache makes that quick) and run exactly as that revision ran: its own entry points
and its own derived settings. Both get the same test-sized time limits (see tests/harness/stack.py), so a
scenario finishes in minutes; the figures are accepted / delivered / duplicated / lost tasks and the worst
delay from the fault to the last affected task's completion.

    python -m benchmarks.durability [--baseline REV] [--only SCENARIO ...]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from tests.harness import faults
from tests.harness.smtp_server import SmtpServer
from tests.harness.stack import BIN, REPO

BASELINE = "6ce4c2f"  # main before the durability work (issue 11)
BENCH = REPO / ".bench"


@dataclass(frozen=True)
class Revision:
    label: str
    bin: Path
    api: list[str]
    reconciler_entry: str  # the beat entry that relays or reconciles task records in this revision
    schedule: list[str]  # the command printing its beat schedule as JSON


def current() -> Revision:
    schedule = [str(BIN / "tasklane-beat"), "schedule", "--json"]
    return Revision("this checkout", BIN, [str(BIN / "tasklane-api")], "reconcile-task-records", schedule)


def baseline(rev: str) -> Revision:
    tree = BENCH / f"baseline-{rev}"
    if not tree.exists():
        add = ["git", "worktree", "add", "--detach", "--force", str(tree), rev]
        subprocess.run(add, cwd=REPO, check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")}
    subprocess.run(["uv", "sync", "--locked", "--all-packages", "--quiet"], cwd=tree, env=env, check=True)
    bin_dir = tree / ".venv" / "bin"
    api = [str(bin_dir / "gunicorn"), "-c", str(tree / "services/api/gunicorn.conf.py")]
    schedule = [str(bin_dir / "tasklane"), "beat", "schedule", "--json"]
    return Revision(f"baseline {rev}", bin_dir, api, "redispatch-undelivered-tasks", schedule)


def _reconciler(setup: faults.Installation, revision: Revision, *, worker: bool = True) -> Callable[[], None]:
    def start() -> None:
        schedule = subprocess.run(
            revision.schedule, env=setup.env, capture_output=True, text=True, check=True
        )
        entries = [row["entry"] for row in json.loads(schedule.stdout)["entries"]]
        faults.start_reconciler(setup, entry=revision.reconciler_entry, entries=entries, worker=worker)

    return start


SCENARIOS: dict[str, Callable[[faults.Installation, Revision], faults.Outcome]] = {
    "postgres": lambda setup, rev: faults.postgres_blink(setup, reconciler=_reconciler(setup, rev)),
    "notifications-kill": lambda setup, rev: faults.notifications_killed(
        setup, reconciler=_reconciler(setup, rev)
    ),
    "reports-kill": lambda setup, rev: faults.reports_killed(
        setup, reconciler=_reconciler(setup, rev, worker=False)
    ),
    "redis-restart": lambda setup, rev: faults.redis_forgets(setup, reconciler=_reconciler(setup, rev)),
}


def _row(revision: Revision, outcome: faults.Outcome) -> str:
    delay = f"{outcome.worst_delay:.1f}" if outcome.worst_delay is not None else "—"
    notes = "; ".join(outcome.notes)
    return (
        f"| {outcome.scenario} | {revision.label} | {outcome.accepted} | {outcome.delivered} | "
        f"{outcome.duplicated} | {outcome.lost} | {delay} | {notes} |"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", default=BASELINE, help="git revision to compare with")
    parser.add_argument("--only", nargs="*", choices=sorted(SCENARIOS), help="scenarios (default: all)")
    args = parser.parse_args()
    revisions = [current(), baseline(args.baseline)]
    smtp = SmtpServer()
    smtp.start()
    rows = [
        "| scenario | revision | accepted | delivered | duplicated | lost | worst delay s | notes |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    try:
        for name in args.only or SCENARIOS:
            for revision in revisions:
                smtp.reset()
                with faults.installation(smtp, bin=revision.bin, api=revision.api) as setup:
                    outcome = SCENARIOS[name](setup, revision)
                rows.append(_row(revision, outcome))
                print(rows[-1], file=sys.stderr, flush=True)
    finally:
        smtp.stop()
    print(f"\nDurability, {os.cpu_count()} cores; test-sized time limits for both revisions:\n")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
