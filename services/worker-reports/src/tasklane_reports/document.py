"""A report as the writers see it: a title and a sequence of tables, the big ones streamed in batches."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    TEXT = "text"
    INT = "int"
    MONEY = "money"
    PERCENT = "percent"
    DATE = "date"
    DATETIME = "datetime"


@dataclass(frozen=True)
class Column:
    title: str
    kind: Kind = Kind.TEXT
    width: int = 14  # characters: the PDF's fixed-width layout and the spreadsheet's column width


Row = Sequence[Any]


class Projection(StrEnum):
    """How a writer wants a streamed table's values: as the database types them, as ready-made text,
    or as spreadsheet numbers (dates as Excel serials). The database does the converting, in bulk."""

    TYPED = "typed"
    TEXT = "text"
    EXCEL = "excel"


@dataclass
class Section:
    title: str
    columns: Sequence[Column]
    batches: Iterable[Sequence[Row]] = ()
    expected_rows: int = 0  # for progress; 0 for small sections that do not count towards it
    # A streamed table: the job runs this query in the writer's projection and fills ``batches``.
    statement: Any = None
    projection: Projection = Projection.TYPED


@dataclass
class Document:
    title: str
    subtitle: str
    filename_stem: str
    sections: Iterable[Section]
    # Exports are data for other programs: a CSV export is one header row and rows, nothing else.
    export: bool = False
    meta: dict[str, Any] = field(default_factory=dict)


def one_batch(rows: Iterable[Row]) -> list[Sequence[Row]]:
    return [list(rows)]
