from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import xlsxwriter

from tasklane_reports.document import Column, Document, Kind, Projection, Row, Section

_EXCEL_EPOCH = datetime(1899, 12, 30, tzinfo=UTC)
_MAX_SHEET_ROWS = 1_048_576
_FORMATS = {
    Kind.MONEY: "#,##0.00",
    Kind.PERCENT: "0.0%",
    Kind.DATE: "yyyy-mm-dd",
    Kind.DATETIME: "yyyy-mm-dd hh:mm:ss",
}


def _serial(value: date | datetime) -> float:
    """Excel's date serial: days since 1899-12-30 (UTC), cheaper than xlsxwriter's general conversion."""
    if not isinstance(value, datetime):
        value = datetime(value.year, value.month, value.day, tzinfo=UTC)
    elif value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return (value - _EXCEL_EPOCH).total_seconds() / 86400


def _number(value: Any) -> Any:
    return float(value) if isinstance(value, Decimal) else value


class XlsxWriter:
    """One worksheet per table, written row by row in xlsxwriter's constant-memory mode."""

    extension = "xlsx"
    content_type = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    projection = Projection.EXCEL

    def __init__(self, path: Path, document: Document) -> None:
        self._book = xlsxwriter.Workbook(
            str(path), {"constant_memory": True, "strings_to_numbers": False, "strings_to_urls": False}
        )
        self._book.set_properties(
            {"title": document.title, "subject": document.subtitle, "author": "Tasklane"}
        )
        self._bold = self._book.add_format({"bold": True, "bottom": 1})
        self._formats = {kind: self._book.add_format({"num_format": f}) for kind, f in _FORMATS.items()}
        self._names: set[str] = set()

    def _sheet_name(self, title: str) -> str:
        name = "".join(ch for ch in title if ch not in "[]:*?/\\")[:31] or "Sheet"
        base, n = name, 2
        while name.lower() in self._names:
            name = f"{base[:28]} {n}"
            n += 1
        self._names.add(name.lower())
        return name

    def write_section(self, section: Section, on_rows: Callable[[int], None]) -> int:
        sheet = self._book.add_worksheet(self._sheet_name(section.title))
        for col, column in enumerate(section.columns):
            # A column's format applies to its cells written without one (xlsxwriter's documented rule).
            sheet.set_column(
                col, col, max(column.width, len(column.title)) + 2, self._formats.get(column.kind)
            )
        sheet.write_row(0, 0, [c.title for c in section.columns], self._bold)
        sheet.freeze_panes(1, 0)
        write_row = self._row_writer(sheet, section)
        row_index = 1
        for batch in section.batches:
            if row_index + len(batch) > _MAX_SHEET_ROWS:
                raise ValueError(f"{section.title}: more rows than one worksheet holds ({_MAX_SHEET_ROWS:,})")
            for row in batch:
                write_row(row_index, row)
                row_index += 1
            on_rows(len(batch))
        return row_index - 1

    def _row_writer(self, sheet: Any, section: Section) -> Callable[[int, Row], Any]:
        if section.projection == Projection.EXCEL:
            # The database sent final values (numbers, date serials, text): one call per row.
            return lambda r, row: sheet.write_row(r, 0, row)
        cells = [self._cell_writer(sheet, column) for column in section.columns]

        def write(r: int, row: Row) -> None:
            for col, cell in enumerate(cells):
                if row[col] is not None:
                    cell(r, col, row[col])

        return write

    def _cell_writer(self, sheet: Any, column: Column) -> Callable[[int, int, Any], Any]:
        fmt = self._formats.get(column.kind)
        numeric = column.kind in (Kind.MONEY, Kind.PERCENT, Kind.INT)
        if column.kind in (Kind.DATE, Kind.DATETIME):
            return lambda r, c, v: sheet.write_number(r, c, _serial(v), fmt)
        if numeric:
            return lambda r, c, v: sheet.write_number(r, c, _number(v), fmt)
        return lambda r, c, v: sheet.write_string(r, c, v if isinstance(v, str) else str(v))

    def close(self) -> None:
        self._book.close()
