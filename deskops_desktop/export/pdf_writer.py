"""The pdf report: A4 landscape, 16 mm margins, drawn page by page (linear in the rows).

Why not one platypus ``LongTable``: its layout is quadratic in the rows (20,000 rows took 30 s).
Here each page is drawn directly on the canvas — a repeated header row, then as many fixed-height
rows as fit — so the cost per row is constant and memory holds one page. "Page X of Y" needs Y
before it is known: every footer draws a PDF form ("XObject") that is defined once, after the last
page, with the page count; viewers and text extractors resolve it like any other text.

What a head-office reader gets: title, site, period, filters and record count at the top; the
table header on every page; numbers right-aligned with thousands separators and their full
precision (3 decimals for quantities, 2 for hours) so they equal the ledger to the last digit;
LOW / WARNING / HEALTHY as coloured labels on inventory rows; "Page X of Y" and the generation
time in the footer; totals per category/unit after the rows. Long text is shortened with "…"
to keep one line per row (the csv and xlsx exports carry the full text).

Text: every string is drawn in the fonts shipped in ``resources/fonts`` (embedded, subset),
through ``pdf_text``: Arabic joined and in right-to-left order, symbols and emoji from fallback
fonts, and the typed string kept as ``/ActualText`` where the glyphs differ from it. ASCII —
numbers, dates, codes — skips all of that (``pdf_text.plain``). A text cell starts at its
paragraph's start edge: left for left-to-right text, right for Arabic; numbers stay
right-aligned.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from reportlab.lib.colors import HexColor  # type: ignore[import-untyped]
from reportlab.lib.pagesizes import A4, landscape  # type: ignore[import-untyped]
from reportlab.lib.rl_accel import escapePDF, fp_str  # type: ignore[import-untyped]
from reportlab.lib.units import mm  # type: ignore[import-untyped]
from reportlab.pdfbase import pdfmetrics  # type: ignore[import-untyped]
from reportlab.pdfgen.canvas import Canvas  # type: ignore[import-untyped]

from deskops_desktop.export import pdf_text
from deskops_desktop.export.files import FileResult, atomic_output, digest
from deskops_desktop.export.progress import RowTicker
from deskops_desktop.export.table import (
    NO_DATA,
    NUMERIC_KINDS,
    Column,
    ColumnKind,
    ExportTable,
    TotalsTable,
)
from deskops_desktop.models.display import grouped
from deskops_desktop.models.progress import Progress

PAGE = landscape(A4)
MARGIN = 16 * mm
FONT, BOLD = pdf_text.SANS, pdf_text.SANS_BOLD
BODY_SIZE = 7.5
ROW_HEIGHT = 12.0
HEADER_HEIGHT = 16.0
CELL_PAD = 3.0
SAMPLE_ROWS = 400

LEVEL_FILLS = {"LOW": "#e5484d", "WARNING": "#f1d54a", "HEALTHY": "#4fcf8a"}
LEVEL_COLORS = {level: HexColor(value) for level, value in LEVEL_FILLS.items()}
LEVEL_SIZE = 6.5
INK = HexColor("#1d2127")
MUTED = HexColor("#6b7380")
ACCENT = HexColor("#1f6f5c")
ZEBRA = HexColor("#f2f4f6")
RULE = HexColor("#c9ced6")
PAGE_COUNT_FORM = "deskops_page_count"

# The fonts are registered on import. A missing font file raises here, so a bundle without
# resources/fonts fails its self-test (self_test.check_reportlab writes a pdf with them).
pdf_text.register_fonts()


def write_pdf(table: ExportTable, target: Path, progress: Progress) -> FileResult:
    """Write ``table`` as a paginated A4 report to ``target`` (atomically)."""
    progress.set_status("Laying out pages…")
    ticker = RowTicker(progress, table.row_count, 0, 95)
    with atomic_output(target) as (temp, published):
        count = _Report(table, temp, ticker).write()
        ticker.checkpoint()
    sha, size = digest(published[0])
    progress.set_progress(100)
    return FileResult(published[0], size, sha, count)


def _pdf_date(at: datetime) -> Callable[..., str]:
    """A reportlab date formatter that ignores the clock and writes ``at`` (UTC)."""
    stamp = f"D:{at.astimezone(UTC):%Y%m%d%H%M%S}+00'00'"

    def formatter(*_parts: int) -> str:
        return stamp

    return formatter


class _Pen:
    """One text object and what it last set, so a row is one ``BT … ET`` with relative moves.

    ``Td`` moves from the start of the current line, not from the end of the last string; the
    pen keeps that line start. Fonts are set only when they change.
    """

    __slots__ = ("font", "line_x", "obj", "size")

    def __init__(self, canvas: Canvas, x: float, y: float) -> None:
        self.obj = canvas.beginText(x, y)
        self.line_x = x
        self.font = ""
        self.size = 0.0

    def show(self, text: str, x: float, size: float, *, bold: bool = False) -> None:
        """Draw ``text`` starting at ``x`` (its left edge)."""
        obj = self.obj
        if x != self.line_x:
            obj.moveCursor(x - self.line_x, 0)
            self.line_x = x
        if pdf_text.plain(text):
            self._ascii(text, BOLD if bold else FONT, size)
            return
        line = pdf_text.layout(text, bold)
        if line.actual is not None:
            obj._code.append(pdf_text.actual_text_begin(line.actual))
        for run in line.runs:
            self._font(run.font, size)
            obj._textOut(run.text)
        if line.actual is not None:
            obj._code.append(pdf_text.ACTUAL_TEXT_END)

    def _font(self, font: str, size: float) -> None:
        if font != self.font or size != self.size:
            self.obj.setFont(font, size)
            self.font, self.size = font, size

    def _ascii(self, text: str, font: str, size: float) -> None:
        """Printable ASCII in a base font, written straight into the text object.

        reportlab's TrueType path sorts every string into 256-glyph subsets character by
        character: a sixth of a long report's time. The base fonts are registered
        ``asciiReadable``, so their subset 0 holds all of printable ASCII under its own codes
        (``pdf_text`` checks they have every such glyph): the string's bytes are its codes.
        """
        self._font(font, size)
        obj = self.obj
        if obj._curSubset != 0:
            name = pdfmetrics.getFont(font).getSubsetInternalName(0, obj._canvas._doc)
            obj._code.append(f"{name} {fp_str(size)} Tf {fp_str(obj._leading)} TL")
            obj._curSubset = 0
        obj._code.append(f"({escapePDF(text)}) Tj")


class _Report:
    def __init__(self, table: ExportTable, path: Path, ticker: RowTicker) -> None:
        self.table = table
        self.meta = table.meta
        self.ticker = ticker
        self.canvas = Canvas(
            str(path),
            pagesize=PAGE,
            pageCompression=1,
            initialFontName=FONT,
            # Reproducible: reportlab's invariant mode derives the document ID from the content
            # instead of the time; CreationDate/ModDate are then the meta's "as of" moment.
            invariant=1 if self.meta.reproducible else None,
        )
        if self.meta.reproducible:
            self.canvas.setDateFormatter(_pdf_date(self.meta.generated_at))
        self.canvas.setTitle(
            f"DeskOps – {self.meta.title} – {self.meta.site_code} – {self.meta.period}"
        )
        self.canvas.setAuthor(self.meta.generated_by)
        self.canvas.setCreator("DeskOps Desktop")
        self.width, self.height = PAGE
        self.left, self.right = MARGIN, self.width - MARGIN
        self.top, self.bottom = self.height - MARGIN, MARGIN + 14
        self.page = 0
        self.y = self.top
        self._width_cache: dict[tuple[str, bool, float], float] = {}

    # -------------------------------------------------------------------------- pages
    def write(self) -> int:
        rows = iter(self.table.rows)
        sample = list(itertools.islice(rows, SAMPLE_ROWS))
        columns = self.table.columns
        widths = self._layout(columns, sample)
        formatters = [_formatter(c) for c in columns]
        self._new_page(first=True)
        self._table_header(columns, widths)
        count = 0
        for row in itertools.chain(sample, rows):
            if self.y - ROW_HEIGHT < self.bottom:
                self._end_page()
                self._new_page()
                self._table_header(columns, widths)
            self._row(columns, widths, formatters, row, count)
            count += 1
            self.ticker.tick()
        if count == 0:
            self.canvas.setFillColor(MUTED)
            self._text(NO_DATA, self.left + CELL_PAD, self.y - 12, 9)
            self.y -= 20
        else:
            self._totals(self.table.totals())
        self._end_page()
        self._define_page_count()
        self.canvas.save()
        return count

    def _new_page(self, *, first: bool = False) -> None:
        self.page += 1
        c = self.canvas
        y = self.top
        meta = self.meta
        if first:
            c.setFillColor(ACCENT)
            heading = meta.report_heading
            self._text(heading, self.left, y - 14, 15, bold=True)
            c.setFillColor(INK)
            lines = [
                f"Site: {meta.site_code} – {meta.site_name}",
                f"Period: {meta.period}",
                "Filters: " + " · ".join(f"{k}: {v}" for k, v in meta.filters),
                f"Rows: {self.table.row_count:,}",
            ]
            y -= 30
            for line in lines:
                self._text(line, self.left, y, 9)
                y -= 12
            y -= 6
        else:
            c.setFillColor(MUTED)
            running = f"{meta.report_heading} · {meta.site_code} · {meta.period}"
            self._text(running, self.left, y - 8, 8)
            y -= 18
        self.y = y

    def _end_page(self) -> None:
        c = self.canvas
        c.setStrokeColor(RULE)
        c.setLineWidth(0.5)
        c.line(self.left, MARGIN + 10, self.right, MARGIN + 10)
        c.setFillColor(MUTED)
        meta = self.meta
        when = "As of" if meta.reproducible else "Generated"
        generated = f"{when} {meta.generated_local} by {meta.generated_by} · DeskOps Desktop"
        self._text(generated, self.left, MARGIN, 7.5)
        anchor = self.right - 22
        label = f"Page {self.page} of"
        self._text(label, anchor - 2 - self._width(label, False, 7.5), MARGIN, 7.5)
        c.saveState()
        c.translate(anchor, MARGIN)
        c.doForm(PAGE_COUNT_FORM)
        c.restoreState()
        c.showPage()

    def _define_page_count(self) -> None:
        c = self.canvas
        c.beginForm(PAGE_COUNT_FORM)
        c.setFillColor(MUTED)
        self._text(str(self.page), 0, 0, 7.5)
        c.endForm()

    # -------------------------------------------------------------------------- table
    def _layout(
        self, columns: Sequence[Column], sample: Sequence[tuple[Any, ...]], *, fill: bool = True
    ) -> list[float]:
        natural: list[float] = []
        formatters = [_formatter(c) for c in columns]
        for i, column in enumerate(columns):
            widest = self._width(column.title, True, BODY_SIZE)
            widest = max(widest, self._width("M" * min(column.width, 28), False, BODY_SIZE) * 0.8)
            for row in sample:
                text = formatters[i](row[i])
                if text:
                    widest = max(widest, self._width(text[:60], False, BODY_SIZE))
            natural.append(widest + 2 * CELL_PAD)
        available = self.right - self.left
        total = sum(natural)
        if total <= available:
            if not fill:
                return natural
            # Spare room goes to free text (notes, customers), else to all text columns;
            # numbers and codes keep their natural width.
            free = [i for i, c in enumerate(columns) if c.kind is ColumnKind.TEXT and not c.width]
            grow = free or [i for i, c in enumerate(columns) if c.kind is ColumnKind.TEXT]
            grow = grow or list(range(len(columns)))
            share = (available - total) / len(grow)
            return [w + share if i in grow else w for i, w in enumerate(natural)]
        # Too wide: shrink the text columns first, never below a readable minimum.
        fixed = sum(
            w for w, c in zip(natural, columns, strict=True) if c.kind is not ColumnKind.TEXT
        )
        text_total = total - fixed
        room = max(available - fixed, 0.0)
        widths = []
        for w, c in zip(natural, columns, strict=True):
            if c.kind is ColumnKind.TEXT and text_total > 0:
                widths.append(max(w * room / text_total, 28.0))
            else:
                widths.append(w)
        scale = min(1.0, available / sum(widths))
        return [w * scale for w in widths]

    def _table_header(self, columns: Sequence[Column], widths: Sequence[float]) -> None:
        c = self.canvas
        y = self.y
        c.setFillColor(ACCENT)
        c.rect(self.left, y - HEADER_HEIGHT, sum(widths), HEADER_HEIGHT, stroke=0, fill=1)
        c.setFillColor(HexColor("#ffffff"))
        pen = _Pen(c, self.left, y - HEADER_HEIGHT + 5)
        x = self.left
        for column, width in zip(columns, widths, strict=True):
            text = self._fit(column.title, True, BODY_SIZE, width - 2 * CELL_PAD)
            if column.kind in NUMERIC_KINDS:
                target = x + width - CELL_PAD - self._width(text, True, BODY_SIZE)
            else:
                target = x + CELL_PAD
            pen.show(text, target, BODY_SIZE, bold=True)
            x += width
        c.drawText(pen.obj)
        self.y = y - HEADER_HEIGHT

    def _row(
        self,
        columns: Sequence[Column],
        widths: Sequence[float],
        formatters: Sequence[Callable[[Any], str]],
        row: tuple[Any, ...],
        index: int,
        *,
        bold: bool = False,
    ) -> None:
        c = self.canvas
        y = self.y - ROW_HEIGHT
        if index % 2:
            c.setFillColor(ZEBRA)
            c.rect(self.left, y, sum(widths), ROW_HEIGHT, stroke=0, fill=1)
        # One text object per row, moved cell to cell with relative "Td" steps: drawString per
        # cell would open a text object and write a full matrix for every cell (3x the bytes
        # and number formatting, the biggest cost of a long report).
        pen = _Pen(c, self.left + CELL_PAD, y + 3.5)
        pen.obj.setFillColor(INK)
        x = self.left
        for column, width, fmt, value in zip(columns, widths, formatters, row, strict=True):
            text = fmt(value)
            if text:
                kind = column.kind
                if kind in NUMERIC_KINDS:
                    target = x + width - CELL_PAD - self._width(text, bold, BODY_SIZE)
                    pen.show(text, target, BODY_SIZE, bold=bold)
                elif kind is ColumnKind.LEVEL and text in LEVEL_FILLS:
                    # The coloured label goes under the text; the word stays in reading order.
                    self._level_fill(text, x, y, width)
                    pen.show(text, x + 6, LEVEL_SIZE, bold=True)
                else:
                    room = width - 2 * CELL_PAD
                    text = self._fit(text, bold, BODY_SIZE, room)
                    target = x + CELL_PAD
                    if not pdf_text.plain(text) and pdf_text.layout(text, bold).rtl:
                        target += room - self._width(text, bold, BODY_SIZE)  # its start edge
                    pen.show(text, target, BODY_SIZE, bold=bold)
            x += width
        c.drawText(pen.obj)
        self.y = y

    def _level_fill(self, level: str, x: float, y: float, width: float) -> None:
        c = self.canvas
        c.setFillColor(LEVEL_COLORS[level])
        label_w = min(self._width(level, True, LEVEL_SIZE) + 8, width - 2)
        c.roundRect(x + 2, y + 1.5, label_w, ROW_HEIGHT - 3, 2.5, stroke=0, fill=1)

    def _totals(self, totals: TotalsTable) -> None:
        if not totals.rows:
            return
        columns = totals.columns
        needed = 30 + HEADER_HEIGHT + ROW_HEIGHT * len(totals.rows)
        if self.y - needed < self.bottom:
            self._end_page()
            self._new_page()
        c = self.canvas
        self.y -= 16
        c.setFillColor(ACCENT)
        self._text("Totals", self.left, self.y - 8, 10, bold=True)
        c.setFillColor(MUTED)
        by_unit = any(col.key == "uom" for col in columns)
        note = (
            "per category and unit — tons and loads are never added together"
            if by_unit
            else f"per {columns[0].title.lower()}"
        )
        self._text(note, self.left + 42, self.y - 8, 7.5)
        self.y -= 14
        widths = [max(w, 70.0) for w in self._layout(columns, totals.rows, fill=False)]
        self._table_header(columns, widths)
        formatters = [_formatter(col) for col in columns]
        for n, row in enumerate(totals.rows):
            if self.y - ROW_HEIGHT < self.bottom:
                self._end_page()
                self._new_page()
                self._table_header(columns, widths)
            self._row(columns, widths, formatters, row, n, bold=str(row[0]).startswith("All"))

    # --------------------------------------------------------------------------- text
    def _width(self, text: str, bold: bool, size: float) -> float:
        key = (text, bold, size)
        width = self._width_cache.get(key)
        if width is None:
            if pdf_text.plain(text):
                width = pdfmetrics.stringWidth(text, BOLD if bold else FONT, size)
            else:
                width = pdf_text.layout(text, bold).width_at(size)
            if len(self._width_cache) < 50_000:
                self._width_cache[key] = width
        return width

    def _fit(self, text: str, bold: bool, size: float, room: float) -> str:
        if self._width(text, bold, size) <= room:
            return text
        low, high = 0, len(text)
        while low < high:
            mid = (low + high + 1) // 2
            if self._width(text[:mid] + "…", bold, size) <= room:
                low = mid
            else:
                high = mid - 1
        return text[:low].rstrip() + "…" if low else ""

    def _text(self, text: str, x: float, y: float, size: float, *, bold: bool = False) -> None:
        """One string outside the table, left edge at ``x``, in the canvas's fill colour."""
        pen = _Pen(self.canvas, x, y)
        pen.show(text, x, size, bold=bold)
        self.canvas.drawText(pen.obj)


def _formatter(column: Column) -> Callable[[Any], str]:
    kind = column.kind
    if kind is ColumnKind.QUANTITY:
        return lambda v: (
            "" if v is None else f"{v:,.3f}" if isinstance(v, Decimal) else grouped(Decimal(v), 3)
        )
    if kind is ColumnKind.HOURS:
        return lambda v: (
            "" if v is None else f"{v:,.2f}" if isinstance(v, Decimal) else grouped(Decimal(v), 2)
        )
    if kind in (ColumnKind.INTEGER, ColumnKind.DECIMAL):
        return lambda v: "" if v is None else f"{v:,}"
    if kind is ColumnKind.DATE:
        return lambda v: "" if v is None else v.isoformat() if isinstance(v, date) else str(v)
    return lambda v: "" if v is None else " ".join(str(v).split())
