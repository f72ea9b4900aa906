from __future__ import annotations

import csv
from collections.abc import Callable
from datetime import date, datetime
from pathlib import Path
from typing import Any

from tasklane_reports.document import Document, Kind, Projection, Section


def _text(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


class CsvWriter:
    """RFC 4180 CSV. A report's tables follow each other, each under its title and a blank line;
    an export is one header row and its rows."""

    extension = "csv"
    content_type = "text/csv; charset=utf-8"
    projection = Projection.TEXT

    def __init__(self, path: Path, document: Document) -> None:
        self._file = path.open("w", newline="", encoding="utf-8")
        self._csv = csv.writer(self._file)
        self._export = document.export
        self._first = True
        if not self._export:
            self._csv.writerow([document.title, document.subtitle])

    def write_section(self, section: Section, on_rows: Callable[[int], None]) -> int:
        if not self._export:
            self._csv.writerow([])
            self._csv.writerow([section.title])
        self._csv.writerow([c.title for c in section.columns])
        convert = [] if section.projection == Projection.TEXT else _dated(section)
        count = 0
        for batch in section.batches:
            self._csv.writerows([_converted(row, convert) for row in batch] if convert else batch)
            count += len(batch)
            on_rows(len(batch))
        return count

    def close(self) -> None:
        self._file.close()


def _dated(section: Section) -> list[int]:
    return [i for i, c in enumerate(section.columns) if c.kind in (Kind.DATE, Kind.DATETIME)]


def _converted(row: Any, columns: list[int]) -> list[Any]:
    values = list(row)
    for i in columns:
        values[i] = _text(values[i])
    return values
