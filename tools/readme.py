"""Generated sections of the README, between ``<!-- NAME:start -->`` and ``<!-- NAME:end -->`` markers."""

from __future__ import annotations

from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def markers(name: str) -> tuple[str, str]:
    return f"<!-- {name}:start -->", f"<!-- {name}:end -->"


def section(name: str, path: Path = README) -> str:
    """The README's current text between ``name``'s markers."""
    start, end = markers(name)
    return path.read_text().split(start, 1)[1].split(end, 1)[0].strip()


def replace_section(name: str, content: str, path: Path = README) -> bool:
    """Rewrite the text between ``name``'s markers; returns whether anything changed."""
    start, end = markers(name)
    text = path.read_text()
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    updated = f"{head}{start}\n{content}\n{end}{tail}"
    path.write_text(updated)
    return updated != text
