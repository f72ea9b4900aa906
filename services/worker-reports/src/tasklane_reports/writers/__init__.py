"""Streaming writers: each takes a document section by section and batch by batch into one file."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from tasklane_reports.document import Document, Projection, Section


class DocumentWriter(Protocol):
    extension: str
    content_type: str
    projection: Projection

    def __init__(self, path: Path, document: Document) -> None: ...

    def write_section(self, section: Section, on_rows: Callable[[int], None]) -> int:
        """Write every row of ``section``, calling ``on_rows(n)`` after each batch; return the row count."""

    def close(self) -> None: ...


def writer_for(fmt: str) -> type[DocumentWriter]:
    from tasklane_reports.writers.csv_writer import CsvWriter
    from tasklane_reports.writers.pdf_writer import PdfWriter
    from tasklane_reports.writers.xlsx_writer import XlsxWriter

    writers: dict[str, type[DocumentWriter]] = {"csv": CsvWriter, "xlsx": XlsxWriter, "pdf": PdfWriter}
    return writers[fmt]
