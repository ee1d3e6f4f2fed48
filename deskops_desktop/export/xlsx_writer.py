"""The Excel writer: openpyxl write-only mode, one streaming pass, styled and filterable.

Layout: data sheet(s) named after the module with a styled header row frozen at A2, an
auto-filter over the data, number formats by kind (3 decimals for quantities, 2 for hours, real
Excel dates), widths fitted to the content, conditional colours on the inventory closing column by
level, then a Summary sheet (site, period, filters, generated at, record count, totals).

Invariants a newcomer must not break:
- Memory stays flat: rows go straight to openpyxl's write-only stream; only the first
  ``SAMPLE_ROWS`` rows are held back to measure column widths (openpyxl must write ``<cols>``
  before the first row).
- A sheet holds at most ``MAX_SHEET_ROWS`` data rows; further rows continue on "Name (2)", …
  each with the same header, filter, freeze and formats. Nothing is ever truncated.
- Text that could run as a formula is written as a string cell with the quote-prefix style
  (see ``cells``); all other text stays an ordinary string cell.
- Qt-free, like all of ``export/``.
"""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import zipfile
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped]
from openpyxl.cell.cell import Cell  # type: ignore[import-untyped]
from openpyxl.formatting.rule import FormulaRule  # type: ignore[import-untyped]
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side  # type: ignore[import-untyped]
from openpyxl.utils import get_column_letter  # type: ignore[import-untyped]
from openpyxl.worksheet.properties import PageSetupProperties  # type: ignore[import-untyped]

from deskops_desktop.export.cells import DANGEROUS_PREFIXES, xml_safe
from deskops_desktop.export.files import FileResult, atomic_output, digest
from deskops_desktop.export.progress import RowTicker
from deskops_desktop.export.table import NO_DATA, NUMERIC_KINDS, Column, ColumnKind, ExportTable
from deskops_desktop.models.progress import Progress

MAX_SHEET_ROWS = 1_000_000
"""Data rows per sheet (Excel's limit is 1,048,576 including the header)."""
SAMPLE_ROWS = 1000
"""Rows read ahead to fit the column widths."""
MIN_WIDTH, MAX_WIDTH = 6, 60

FONT = "Calibri"
HEADER_FILL = "1F6F5C"
LEVEL_FILLS = {"LOW": "E5484D", "WARNING": "F1D54A", "HEALTHY": "4FCF8A"}
NUMBER_FORMATS = {
    ColumnKind.QUANTITY: "#,##0.000",
    ColumnKind.HOURS: "#,##0.00",
    ColumnKind.INTEGER: "#,##0",
    ColumnKind.DATE: "yyyy-mm-dd",
}


def write_xlsx(table: ExportTable, target: Path, progress: Progress) -> FileResult:
    """Write ``table`` to ``target`` (atomically); returns the final path, size, hash, rows."""
    progress.set_status("Writing rows…")
    ticker = RowTicker(progress, table.row_count, 0, 90)
    with atomic_output(target) as (temp, published):
        count = _write(table, temp, ticker, progress)
        ticker.checkpoint()
    sha, size = digest(published[0])
    progress.set_progress(100)
    return FileResult(published[0], size, sha, count)


def _write(table: ExportTable, temp: Path, ticker: RowTicker, progress: Progress) -> int:
    wb = Workbook(write_only=True)
    try:
        return _fill(wb, table, temp, ticker, progress)
    except BaseException:
        _discard(wb)
        raise


def _discard(wb: Any) -> None:
    """Close the streams of a workbook we abandon and delete openpyxl's own temp files.

    Write-only sheets stream into temporary files of their own; without this a cancelled export
    would leave them behind (and their half-closed XML writers complain when collected).
    """
    for ws in wb.worksheets:
        writer = getattr(ws, "_writer", None)
        if writer is None:
            continue
        try:
            rows = getattr(ws, "_rows", None)
            if rows is not None:
                rows.close()
            writer.close()
        except Exception:  # the stream was mid-element; we only want the file gone
            pass
        with contextlib.suppress(OSError, ValueError):
            writer.cleanup()


def _fill(wb: Any, table: ExportTable, temp: Path, ticker: RowTicker, progress: Progress) -> int:
    styles = _Styles(wb)
    rows = iter(table.rows)
    sample = list(itertools.islice(rows, SAMPLE_ROWS))
    widths = _fit_widths(table.columns, sample)
    all_rows = itertools.chain(sample, rows)
    base = table.meta.name
    count = 0
    sheet_no = 1
    while True:
        ws = _data_sheet(
            wb, base if sheet_no == 1 else f"{base} ({sheet_no})", table, widths, styles
        )
        converters = _converters(ws, table.columns, styles)
        written = 0
        append = ws.append
        for row in itertools.islice(all_rows, MAX_SHEET_ROWS):
            append([f(v) for f, v in zip(converters, row, strict=True)])
            written += 1
            ticker.tick()
        if count == 0 and written == 0:
            append([_text(ws, NO_DATA, styles.note)])
        _finish_sheet(ws, table, written, styles)
        count += written
        if written < MAX_SHEET_ROWS:
            break
        peek = next(all_rows, None)
        if peek is None:
            break
        all_rows = itertools.chain([peek], all_rows)
        sheet_no += 1
    _summary_sheet(wb, table, count, styles)
    ticker.finish()
    progress.set_status("Compressing the workbook…")
    ticker.checkpoint()
    wb.save(temp)
    if table.meta.reproducible:
        stamp_workbook(temp, table.meta.generated_at)
    return count


_CORE_TIMES = re.compile(rb"(<dcterms:(created|modified)[^>]*>)[^<]*(</dcterms:\2>)")


def stamp_workbook(path: Path, at: datetime) -> None:
    """Rewrite a saved workbook so no byte of it depends on when it was written.

    openpyxl stamps the core properties (created, modified) with the wall clock on save, and
    ``zipfile`` gives every member the current local time; both become ``at``. Member order,
    names, compression and content are kept, so the workbook is the same to every reader.
    """
    when = at.astimezone(UTC)
    iso = when.strftime("%Y-%m-%dT%H:%M:%SZ").encode()
    date_time = max(when.timetuple()[:6], (1980, 1, 1, 0, 0, 0))  # zip's epoch is 1980
    fixed = path.with_name(path.name + ".stamped")
    try:
        with zipfile.ZipFile(path) as source, zipfile.ZipFile(fixed, "w") as target:
            for member in source.infolist():
                data = source.read(member)
                if member.filename == "docProps/core.xml":
                    data = _CORE_TIMES.sub(lambda m: m.group(1) + iso + m.group(3), data)
                info = zipfile.ZipInfo(member.filename, date_time=date_time)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = 0  # the "made on" byte would differ between Windows and Unix
                info.external_attr = member.external_attr
                target.writestr(info, data)
        os.replace(fixed, path)
    finally:
        fixed.unlink(missing_ok=True)


class _Styles:
    """Shared style arrays: every styled cell of a kind points at the same array (fast)."""

    def __init__(self, wb: Any) -> None:
        self.wb = wb
        probe_ws = wb.create_sheet("_styles")
        # Fonts are named: without a name LibreOffice (and some Excel viewers) fall back to a
        # serif face for the bold header, which looks like a different document.
        header = {
            "font": Font(name=FONT, bold=True, color="FFFFFF"),
            "fill": PatternFill("solid", fgColor=HEADER_FILL),
            "border": Border(bottom=Side("thin", color="0F3D32")),
        }
        self.header = self._array(
            probe_ws, alignment=Alignment(vertical="center", wrap_text=True), **header
        )
        # Numbers' headers sit over the numbers: right-aligned.
        self.header_right = self._array(
            probe_ws,
            alignment=Alignment(horizontal="right", vertical="center", wrap_text=True),
            **header,
        )
        self.number = {
            kind: self._array(probe_ws, number_format=fmt) for kind, fmt in NUMBER_FORMATS.items()
        }
        # Dates left-aligned: right-aligned they run into the code column that follows.
        self.number[ColumnKind.DATE] = self._array(
            probe_ws,
            number_format=NUMBER_FORMATS[ColumnKind.DATE],
            alignment=Alignment(horizontal="left"),
        )
        self.count_left = self._array(
            probe_ws, number_format="#,##0", alignment=Alignment(horizontal="left")
        )
        self.centered = self._array(probe_ws, alignment=Alignment(horizontal="center"))
        self.quoted = self._array(probe_ws, quotePrefix=True)
        self.title = self._array(probe_ws, font=Font(name=FONT, bold=True, size=14))
        self.label = self._array(probe_ws, font=Font(name=FONT, bold=True))
        self.note = self._array(probe_ws, font=Font(name=FONT, italic=True, color="6B7380"))
        self._decimals = {
            places: self._array(
                probe_ws, number_format="#,##0." + "0" * places if places else "#,##0"
            )
            for places in range(7)
        }
        wb.remove(probe_ws)

    def decimal(self, places: int) -> Any:
        """The number style showing ``places`` decimals (0-6)."""
        return self._decimals[min(max(places, 0), 6)]

    @staticmethod
    def _array(ws: Any, **attrs: Any) -> Any:
        cell = Cell(ws)
        for name, value in attrs.items():
            setattr(cell, name, value)
        return cell._style


def _cell(ws: Any, value: Any, style: Any, data_type: str) -> Any:
    cell = Cell(ws)
    cell._value = value
    cell.data_type = data_type
    cell._style = style
    return cell


def _text(ws: Any, value: Any, style: Any = None) -> Any:
    text = xml_safe(str(value))[:32767]
    return _cell(ws, text, style, "s")


def _cells_only(values: Sequence[Any], row_idx: int) -> Iterator[Any]:
    """Replaces ``WriteOnlyWorksheet._values_to_row`` on our sheets (see ``_sheet``).

    openpyxl's version binds each plain value to a shared cell (type sniffing, a regex on every
    string) and detects styled cells by catching a ``ValueError``. Every value we append is
    already a typed ``Cell`` (or None for an empty cell), so numbering them is all that is left;
    this keeps the styled export as fast as openpyxl writing bare values.
    """
    for col_idx, cell in enumerate(values, 1):
        if cell is not None:
            cell.column = col_idx
            cell.row = row_idx
            yield cell


def _sheet(wb: Any, title: str) -> Any:
    ws = wb.create_sheet(title[:31])
    ws._values_to_row = _cells_only
    return ws


def _converters(ws: Any, columns: Sequence[Column], styles: _Styles) -> list[Callable[[Any], Any]]:
    """One function per column turning an exported value into a typed cell (or None)."""
    return [_converter(ws, column.kind, styles) for column in columns]


def _converter(ws: Any, kind: ColumnKind, styles: _Styles) -> Callable[[Any], Any]:
    if kind is ColumnKind.DATE:
        date_style = styles.number[kind]

        def excel_date(v: Any) -> Any:
            return None if v is None else _cell(ws, v, date_style, "d")

        return excel_date
    if kind in (ColumnKind.QUANTITY, ColumnKind.HOURS):
        decimal_style = styles.number[kind]

        def number(v: Any) -> Any:
            # Excel stores doubles; float(Decimal) is the double nearest the exact decimal and
            # openpyxl writes it with 16 significant digits, so the file holds that decimal.
            return None if v is None else _cell(ws, float(v), decimal_style, "n")

        return number
    if kind is ColumnKind.DECIMAL:

        def exact(v: Any) -> Any:
            # The number format shows the places the value carries (0.913, 93.70, 1,560.00).
            if v is None:
                return None
            return _cell(ws, float(v), styles.decimal(-v.as_tuple().exponent), "n")

        return exact
    if kind is ColumnKind.INTEGER:
        int_style = styles.number[kind]

        def integer(v: Any) -> Any:
            return None if v is None else _cell(ws, v, int_style, "n")

        return integer
    quoted = styles.quoted
    danger = DANGEROUS_PREFIXES
    if kind is ColumnKind.LEVEL:
        centered = styles.centered

        def level(v: Any) -> Any:
            return None if v is None or v == "" else _text(ws, v, centered)

        return level

    def text(v: Any) -> Any:
        if v is None or v == "":
            return None
        return _text(ws, v, quoted if str(v)[0] in danger else None)

    return text


def _header(ws: Any, column: Column, styles: _Styles) -> Any:
    numeric = column.kind in NUMERIC_KINDS
    return _text(ws, column.header, styles.header_right if numeric else styles.header)


def _fit_widths(columns: Sequence[Column], sample: Sequence[tuple[Any, ...]]) -> list[float]:
    widths: list[float] = []
    for i, column in enumerate(columns):
        longest = max(len(column.header), column.width)
        if column.kind is ColumnKind.DATE:
            longest = max(longest, 11)
        for row in sample:
            value = row[i]
            if value is None:
                continue
            if column.kind in (ColumnKind.QUANTITY, ColumnKind.HOURS):
                text = f"{value:,.3f}" if isinstance(value, Decimal) else str(value)
            elif column.kind in (ColumnKind.INTEGER, ColumnKind.DECIMAL):
                text = f"{value:,}"
            elif isinstance(value, date):
                text = "0000-00-00"
            else:
                text = max(str(value).split("\n"), key=len)
            longest = max(longest, len(text))
        widths.append(min(max(longest + 2, MIN_WIDTH), MAX_WIDTH))
    return widths


def _data_sheet(
    wb: Any, title: str, table: ExportTable, widths: Sequence[float], styles: _Styles
) -> Any:
    ws = _sheet(wb, title)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.freeze_panes = "A2"
    ws.print_title_rows = "1:1"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = "9"  # A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr = PageSetupProperties(fitToPage=True)
    ws.row_dimensions[1].height = 30
    ws.append([_header(ws, c, styles) for c in table.columns])
    return ws


def _finish_sheet(ws: Any, table: ExportTable, written: int, styles: _Styles) -> None:
    last_col = get_column_letter(len(table.columns))
    last_row = max(written, 1) + 1
    ws.auto_filter.ref = f"A1:{last_col}{last_row}"
    if table.level_columns is None or written == 0:
        return
    closing, low, high = (get_column_letter(i + 1) for i in table.level_columns)
    target = f"{closing}2:{closing}{last_row}"
    rules = (
        ("LOW", f"${closing}2<${low}2"),
        ("WARNING", f"AND(${closing}2>=${low}2,${closing}2<=${high}2)"),
        ("HEALTHY", f"${closing}2>${high}2"),
    )
    for level, formula in rules:
        fill = PatternFill("solid", start_color=LEVEL_FILLS[level], end_color=LEVEL_FILLS[level])
        ws.conditional_formatting.add(
            target,
            FormulaRule(formula=[formula], fill=fill, font=Font(color="1A1A1A"), stopIfTrue=True),
        )


def _summary_sheet(wb: Any, table: ExportTable, count: int, styles: _Styles) -> None:
    meta = table.meta
    ws = _sheet(wb, "Summary")
    totals = table.totals()
    widths = [18.0] + [14.0] * max(len(totals.columns) - 1, 1)
    widths[0] = max(widths[0], *(len(str(r[0])) + 2 for r in totals.rows)) if totals.rows else 18.0
    widths[1] = max(widths[1], 44.0 if len(totals.columns) < 4 else 14.0)
    for i, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(i)].width = width
    ws.append([_text(ws, f"DeskOps export – {meta.title}", styles.title)])
    ws.append([])
    facts: list[tuple[str, Any]] = [
        ("Site", f"{meta.site_code} – {meta.site_name}"),
        ("Period", meta.period),
        *meta.filters,
        (meta.generated_label, meta.generated_local),
        ("Generated by", meta.generated_by),
        ("Rows", count),
    ]
    for label, value in facts:
        if isinstance(value, int):
            cell = _cell(ws, value, styles.count_left, "n")
        else:
            cell = _text(ws, value)
        ws.append([_text(ws, label, styles.label), cell])
    if count == 0:
        ws.append([])
        ws.append([_text(ws, NO_DATA, styles.note)])
        return
    if not totals.rows:
        return
    ws.append([])
    ws.append([_text(ws, "Totals", styles.label)])
    ws.append([_header(ws, c, styles) for c in totals.columns])
    converters = _converters(ws, totals.columns, styles)
    for row in totals.rows:
        ws.append([f(v) for f, v in zip(converters, row, strict=True)])
    ws.append(
        [
            _text(
                ws,
                "Totals never mix units: tons (TON) and loads (LOAD) are summed apart.",
                styles.note,
            )
        ]
    )


def iter_sheet_names(base: str, rows: int) -> Iterator[str]:
    """The data sheet names a table of ``rows`` rows gets (for tests and the docs)."""
    sheets = max(1, -(-rows // MAX_SHEET_ROWS))
    for n in range(1, sheets + 1):
        yield base if n == 1 else f"{base} ({n})"
