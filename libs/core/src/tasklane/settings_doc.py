"""The README's settings table, generated from ``Settings`` so the documentation cannot drift."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from pydantic_core import PydanticUndefined

from tasklane.settings import Settings


def _default(value: Any) -> str:
    if value is None or value is PydanticUndefined:
        return "—"
    return f"`{value}`"


def settings_table() -> str:
    rows = ["| Variable | Default | Description |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        rows.append(f"| `TASKLANE_{name.upper()}` | {_default(field.default)} | {field.description or ''} |")
    return "\n".join(rows)


START, END = "<!-- settings-table:start -->", "<!-- settings-table:end -->"


def update_readme(path: Path) -> bool:
    """Rewrite the table between the README's markers; returns whether anything changed."""
    text = path.read_text()
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    updated = f"{head}{START}\n{settings_table()}\n{END}{tail}"
    path.write_text(updated)
    return updated != text


if __name__ == "__main__":
    if len(sys.argv) > 1:
        print("updated" if update_readme(Path(sys.argv[1])) else "already current")
    else:
        print(settings_table())
