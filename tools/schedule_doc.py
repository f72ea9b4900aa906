"""The README's beat schedule table, generated from ``tasklane_beat.schedule.SCHEDULE`` so it cannot drift."""

from __future__ import annotations

import json

from tasklane_beat.schedule import SCHEDULE

SECTION = "schedule-table"


def _duration(seconds: float) -> str:
    for unit, size in (("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def schedule_table() -> str:
    rows = [
        "| Entry | When (UTC) | Task | kwargs | Expires |",
        "| --- | --- | --- | --- | --- |",
    ]
    for name, entry in SCHEDULE.items():
        kwargs = f"`{json.dumps(entry.kwargs)}`" if entry.kwargs else ""
        expires = _duration(entry.expires)
        rows.append(f"| `{name}` | `{entry.describe()}` | `{entry.contract.name}` | {kwargs} | {expires} |")
    return "\n".join(rows)
