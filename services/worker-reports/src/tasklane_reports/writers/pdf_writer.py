"""PDF through reportlab's canvas: fixed-width rows, one text object per page.

Reportlab keeps every finished page in memory until the file is saved. To keep a million-row report
bounded, each page is as small as the layout allows (one text object, one line per row, no per-cell
positioning) and is compressed the moment it is finished rather than at save time.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from reportlab.lib.pagesizes import A4
from reportlab.pdfbase.pdfdoc import PDFArray, PDFDictionary, PDFName, PDFStream
from reportlab.pdfgen.canvas import Canvas
from reportlab.pdfgen.textobject import PDFTextObject

from tasklane_reports.document import Column, Document, Kind, Projection, Section

MARGIN = 36
FONT_SIZE = 7
LEADING = 9
CHAR_WIDTH = 0.6 * FONT_SIZE  # Courier is monospaced: every glyph is 0.6 em wide
PAGE_WIDTH, PAGE_HEIGHT = A4
LINE_CHARS = int((PAGE_WIDTH - 2 * MARGIN) / CHAR_WIDTH)
TOP = PAGE_HEIGHT - MARGIN
BOTTOM = MARGIN + 2 * LEADING
_RIGHT_ALIGNED = {Kind.INT, Kind.MONEY, Kind.PERCENT}


class _PageCompressingCanvas(Canvas):  # type: ignore[misc]  # reportlab ships no type hints
    """Compresses each page's content stream when the page is finished.

    Reportlab writes a stream whose dictionary already names its ``Filter`` as it is (its documented way
    to supply pre-encoded streams), so the page keeps a few hundred compressed bytes instead of ~10 KB of
    drawing operators until ``save()``.
    """

    def showPage(self) -> None:
        super().showPage()
        page = self._doc.Pages.pages[-1]
        if page.stream and not page.Contents:
            stream = PDFStream(
                dictionary=PDFDictionary({"Filter": PDFArray([PDFName("FlateDecode")])}),
                content=zlib.compress(page.stream.encode("utf-8")),
            )
            stream.__Comment__ = "page stream"
            page.Contents = stream
            page.stream = None


def _cell(value: Any, kind: Kind) -> str:
    if value is None:
        return ""
    if kind == Kind.MONEY:
        return f"{value:,.2f}"
    if kind == Kind.INT:
        return f"{value:,}"
    if kind == Kind.PERCENT:
        return f"{value:.1%}"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _fit_widths(columns: Sequence[Column]) -> list[int]:
    widths = [max(c.width, 4) for c in columns]
    room = LINE_CHARS - (len(columns) - 1)
    while sum(widths) > room:
        widest = widths.index(max(widths))
        widths[widest] -= 1
    return widths


class PdfWriter:
    extension = "pdf"
    content_type = "application/pdf"
    projection = Projection.TYPED

    def __init__(self, path: Path, document: Document) -> None:
        self._canvas = _PageCompressingCanvas(str(path), pagesize=A4, pageCompression=1)
        self._canvas.setTitle(document.title)
        self._canvas.setSubject(document.subtitle)
        self._canvas.setAuthor("Tasklane")
        self._title = document.title
        self._page = 1
        self._y = TOP
        self._canvas.setFont("Helvetica-Bold", 14)
        self._canvas.drawString(MARGIN, self._y - 14, document.title)
        self._canvas.setFont("Helvetica", 9)
        self._canvas.drawString(MARGIN, self._y - 28, document.subtitle)
        self._y -= 48

    def write_section(self, section: Section, on_rows: Callable[[int], None]) -> int:
        widths = _fit_widths(section.columns)
        kinds = [c.kind for c in section.columns]

        def line(values: Sequence[Any], is_header: bool = False) -> str:
            cells = []
            for value, width, kind in zip(values, widths, kinds, strict=True):
                text = str(value) if is_header else _cell(value, kind)
                if len(text) > width:
                    text = text[: width - 1] + "~"
                cells.append(text.rjust(width) if kind in _RIGHT_ALIGNED else text.ljust(width))
            return " ".join(cells).rstrip()

        header = line([c.title for c in section.columns], is_header=True)
        if self._y - 4 * LEADING < BOTTOM:
            self._new_page()
        text = self._start_table(section.title, header)
        count = 0
        for batch in section.batches:
            for row in batch:
                if self._y < BOTTOM:
                    self._canvas.drawText(text)
                    self._new_page()
                    text = self._start_table(f"{section.title} (continued)", header)
                text.textLine(line(row))
                self._y -= LEADING
            count += len(batch)
            on_rows(len(batch))
        self._canvas.drawText(text)
        self._y -= LEADING
        return count

    def _start_table(self, title: str, header: str) -> PDFTextObject:
        self._canvas.setFont("Helvetica-Bold", 10)
        self._canvas.drawString(MARGIN, self._y - 10, title)
        self._y -= 10 + LEADING
        self._canvas.setFont("Courier-Bold", FONT_SIZE)
        self._canvas.drawString(MARGIN, self._y, header)
        self._y -= LEADING
        text = self._canvas.beginText(MARGIN, self._y)
        text.setFont("Courier", FONT_SIZE)
        text.setLeading(LEADING)
        return text

    def _new_page(self) -> None:
        self._canvas.setFont("Helvetica", 7)
        self._canvas.drawRightString(PAGE_WIDTH - MARGIN, MARGIN / 2, f"{self._title} - page {self._page}")
        self._canvas.showPage()
        self._page += 1
        self._y = TOP

    def close(self) -> None:
        self._new_page()
        self._canvas.save()
