"""Every writer read back: values, headers, quoting, BOM, formats, pages, the injection guard,
empty results, cancelling and multi-sheet workbooks. No database: tables are built in memory."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from deskops_desktop.export import xlsx_writer
from deskops_desktop.export.csv_writer import write_csv
from deskops_desktop.export.pdf_writer import write_pdf
from deskops_desktop.export.powerbi_writer import write_powerbi_csv
from deskops_desktop.export.progress import ExportCancelled
from deskops_desktop.export.table import NO_DATA, Column, ColumnKind, StaticSource
from deskops_desktop.export.xlsx_writer import write_xlsx
from deskops_desktop.models.enums import Module
from deskops_desktop.models.progress import RecordingProgress
from tests.test_export_support import PRODUCTION_COLUMNS, TRICKY_NOTES, meta, production_source

A4_LANDSCAPE = (841.89, 595.28)


def read_csv_file(path: Path, encoding: str = "utf-8-sig") -> list[list[str]]:
    with path.open(encoding=encoding, newline="") as handle:
        return list(csv.reader(handle))


# ---------------------------------------------------------------------------------- csv
def test_csv_is_rfc4180_with_bom_crlf_and_exact_values(tmp_path: Path) -> None:
    source = production_source(30)
    progress = RecordingProgress()
    result = write_csv(source.table(), tmp_path / "p.csv", progress)
    raw = result.path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbfDate,Shift,Material Code")
    assert raw.count(b"\r\n") >= 31
    assert b"\n" not in raw.replace(b"\r\n", b"").replace(b"two\nlines", b"")  # only CRLF ends
    rows = read_csv_file(result.path)
    assert rows[0] == [c.header for c in PRODUCTION_COLUMNS]
    assert len(rows) == 31
    assert result.record_count == 30
    for expected, got in zip(source.rows, rows[1:], strict=True):
        assert got[0] == expected[0].isoformat()
        assert got[1] == (expected[1] or "")
        assert Decimal(got[5]) == expected[5]
        assert got[5] == f"{expected[5]:.3f}"  # 3 places, '.' decimal, no thousands separator
    assert progress.percents == sorted(progress.percents)
    assert progress.percents[-1] == 100


def test_csv_quotes_commas_quotes_newlines_and_keeps_arabic(tmp_path: Path) -> None:
    result = write_csv(production_source(11).table(), tmp_path / "p.csv", RecordingProgress())
    text = result.path.read_bytes().decode("utf-8-sig")
    assert '"comma, inside"' in text
    assert '"a ""quoted"" word"' in text
    assert '"two\nlines"' in text
    notes = [row[6] for row in read_csv_file(result.path)[1:]]
    assert notes[:5] == ["plain", "comma, inside", 'a "quoted" word', "two\nlines", TRICKY_NOTES[4]]


def test_csv_guards_formula_injection(tmp_path: Path) -> None:
    result = write_csv(production_source(11).table(), tmp_path / "p.csv", RecordingProgress())
    notes = [row[6] for row in read_csv_file(result.path)[1:]]
    assert notes[5:10] == [
        '\'=HYPERLINK("http://evil","x")',
        "'+966 12 345 6789",
        "'-5 t short",
        "'@SUM(A1)",
        "'\tTabbed",
    ]
    # Numbers are not text: a negative quantity keeps its sign.
    negative = StaticSource(meta(), PRODUCTION_COLUMNS, [(date(2026, 11, 1), None, "A", "B", "TON",
                                                           Decimal("-2.500"), None)])  # fmt: skip
    rows = read_csv_file(write_csv(negative.table(), tmp_path / "n.csv", RecordingProgress()).path)
    assert rows[1][5] == "-2.500"


def test_powerbi_csv_has_no_bom_and_snake_case_headers(tmp_path: Path) -> None:
    result = write_powerbi_csv(
        production_source(5).table(), tmp_path / "p.csv", RecordingProgress()
    )
    raw = result.path.read_bytes()
    assert raw.startswith(b"date,shift,material_code,material_name,uom,quantity,notes\r\n")
    rows = read_csv_file(result.path, encoding="utf-8")
    assert rows[1][0] == "2026-11-01"
    assert rows[1][5] == "0.123"


@pytest.mark.parametrize("writer", [write_csv, write_powerbi_csv])
def test_empty_csv_has_headers_and_a_no_data_line(tmp_path: Path, writer: object) -> None:
    source = StaticSource(meta(), PRODUCTION_COLUMNS, [])
    result = writer(source.table(), tmp_path / "e.csv", RecordingProgress())  # type: ignore[operator]
    rows = read_csv_file(result.path)
    assert len(rows) == 2
    assert rows[1] == [NO_DATA]
    assert result.record_count == 0


# --------------------------------------------------------------------------------- xlsx
def test_xlsx_sheet_header_freeze_filter_formats_and_values(tmp_path: Path) -> None:
    source = production_source(30)
    result = write_xlsx(source.table(), tmp_path / "p.xlsx", RecordingProgress())
    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == ["Production", "Summary"]
    ws = wb["Production"]
    assert [c.value for c in ws[1]] == [c.header for c in PRODUCTION_COLUMNS]
    assert ws[1][0].font.b
    assert ws[1][0].fill.fgColor.rgb.endswith("1F6F5C")
    assert ws.freeze_panes == "A2"
    assert ws.auto_filter.ref == "A1:G31"
    assert ws.max_row == 31
    for expected, cells in zip(source.rows, ws.iter_rows(min_row=2), strict=True):
        assert cells[0].value == datetime.combine(expected[0], datetime.min.time())  # a real date
        assert cells[0].number_format == "yyyy-mm-dd"
        assert cells[5].number_format == "#,##0.000"
        assert Decimal(str(cells[5].value)) == expected[5]  # exact to the last digit
    widths = {k: d.width for k, d in ws.column_dimensions.items()}
    assert widths["A"] >= 10
    assert widths["C"] >= len("Material Code")
    assert 6 <= widths["G"] <= 60


def test_xlsx_injection_guard_keeps_what_people_read(tmp_path: Path) -> None:
    result = write_xlsx(production_source(11).table(), tmp_path / "p.xlsx", RecordingProgress())
    ws = openpyxl.load_workbook(result.path)["Production"]
    cells = [ws.cell(row=r, column=7) for r in range(2, 13)]
    assert [c.value for c in cells[:10]] == list(TRICKY_NOTES[:10])
    for cell in cells[5:10]:
        assert cell.data_type == "s"  # a string, never a formula
        assert cell.quotePrefix  # and stays text when edited in Excel
    assert not cells[0].quotePrefix
    xml = _sheet_xml(result.path)
    assert "<f>" not in xml


def _sheet_xml(path: Path, sheet: int = 1) -> str:
    import zipfile

    with zipfile.ZipFile(path) as archive:
        return archive.read(f"xl/worksheets/sheet{sheet}.xml").decode()


def test_xlsx_summary_sheet(tmp_path: Path) -> None:
    source = production_source(30)
    result = write_xlsx(source.table(), tmp_path / "p.xlsx", RecordingProgress())
    ws = openpyxl.load_workbook(result.path)["Summary"]
    rows = list(ws.iter_rows(values_only=True))
    facts = {row[0]: row[1] for row in rows if row[0]}
    assert facts["Site"] == "ALASLA-29 – Al Asla Recycling Facility"
    assert facts["Period"] == "2026-11-01 to 2026-11-27"
    assert facts["Granularity"] == "Daily"
    assert facts["Generated at"] == "2026-11-27 12:00 (Asia/Riyadh)"
    assert facts["Rows"] == 30
    total = sum((r[5] for r in source.rows), Decimal(0))
    (all_ton,) = [row for row in rows if row[0] == "All TON"]
    assert Decimal(str(all_ton[2])) == total.quantize(Decimal("0.001"))
    assert all_ton[3] == 30


def test_xlsx_inventory_closing_has_conditional_colours(tmp_path: Path) -> None:
    columns = (
        Column("Date", "date", ColumnKind.DATE), Column("Material Code", "material_code"),
        Column("Closing", "closing", ColumnKind.QUANTITY),
        Column("Level", "level", ColumnKind.LEVEL),
        Column("Low Threshold", "low_threshold", ColumnKind.QUANTITY),
        Column("High Threshold", "high_threshold", ColumnKind.QUANTITY),
    )  # fmt: skip
    rows = [
        (
            date(2026, 11, 1),
            "AGG-G1",
            Decimal("50.000"),
            "LOW",
            Decimal("100.000"),
            Decimal("500.000"),
        ),
        (
            date(2026, 11, 1),
            "AGG-S1",
            Decimal("300.000"),
            "WARNING",
            Decimal("100.000"),
            Decimal("500.000"),
        ),
        (
            date(2026, 11, 1),
            "RAW-MIXED",
            Decimal("90.000"),
            "HEALTHY",
            Decimal("10.000"),
            Decimal("80.000"),
        ),
    ]
    source = StaticSource(meta(Module.INVENTORY), columns, rows, level_columns=(2, 4, 5))
    result = write_xlsx(source.table(), tmp_path / "i.xlsx", RecordingProgress())
    ws = openpyxl.load_workbook(result.path)["Inventory"]
    ranges = list(ws.conditional_formatting)
    assert [str(r.sqref) for r in ranges] == ["C2:C4"]
    rules = ranges[0].rules
    colours = [rule.dxf.fill.fgColor.rgb[-6:] for rule in rules]
    assert colours == ["E5484D", "F1D54A", "4FCF8A"]
    assert [rule.formula[0] for rule in rules] == [
        "$C2<$E2",
        "AND($C2>=$E2,$C2<=$F2)",
        "$C2>$F2",
    ]
    # The per-material thresholds in the row decide: evaluate the rules like Excel would.
    for row in ws.iter_rows(min_row=2, values_only=True):
        closing, level, low, high = row[2], row[3], row[4], row[5]
        computed = "LOW" if closing < low else "WARNING" if closing <= high else "HEALTHY"
        assert computed == level


def test_xlsx_continues_on_further_sheets(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(xlsx_writer, "MAX_SHEET_ROWS", 10)
    source = production_source(25)
    result = write_xlsx(source.table(), tmp_path / "p.xlsx", RecordingProgress())
    wb = openpyxl.load_workbook(result.path)
    assert wb.sheetnames == ["Production", "Production (2)", "Production (3)", "Summary"]
    counts = [wb[name].max_row - 1 for name in wb.sheetnames[:3]]
    assert counts == [10, 10, 5]
    for name in wb.sheetnames[:3]:
        assert wb[name]["A1"].value == "Date"
        assert wb[name].freeze_panes == "A2"
    assert result.record_count == 25
    # Exactly a multiple of the sheet size: no empty extra sheet.
    exact = write_xlsx(production_source(20).table(), tmp_path / "q.xlsx", RecordingProgress())
    assert openpyxl.load_workbook(exact.path).sheetnames == [
        "Production",
        "Production (2)",
        "Summary",
    ]


def test_empty_xlsx_has_headers_and_a_no_data_line(tmp_path: Path) -> None:
    source = StaticSource(meta(), PRODUCTION_COLUMNS, [])
    result = write_xlsx(source.table(), tmp_path / "e.xlsx", RecordingProgress())
    wb = openpyxl.load_workbook(result.path)
    ws = wb["Production"]
    assert ws["A1"].value == "Date"
    assert ws["A2"].value == NO_DATA
    summary = [row[0] for row in wb["Summary"].iter_rows(values_only=True)]
    assert NO_DATA in summary


# ---------------------------------------------------------------------------------- pdf
def pdf_text(path: Path) -> list[str]:
    return [" ".join((page.extract_text() or "").split()) for page in PdfReader(path).pages]


def test_pdf_is_a4_with_repeated_headers_page_numbers_and_totals(tmp_path: Path) -> None:
    source = production_source(120)
    result = write_pdf(source.table(), tmp_path / "p.pdf", RecordingProgress())
    reader = PdfReader(result.path)
    pages = pdf_text(result.path)
    assert len(pages) >= 3
    for page in reader.pages:
        assert (
            round(float(page.mediabox.width), 2),
            round(float(page.mediabox.height), 2),
        ) == A4_LANDSCAPE
    for n, text in enumerate(pages, start=1):
        assert (
            "Date Shift Material Code Material Name UOM Quantity Notes" in text
        )  # header on every page
        assert f"Page {n} of {len(pages)}" in text
        assert "Generated 2026-11-27 12:00 (Asia/Riyadh) by Head Office" in text
    first = pages[0]
    assert "Production report – daily" in first
    assert "Site: ALASLA-29 – Al Asla Recycling Facility" in first
    assert "Period: 2026-11-01 to 2026-11-27" in first
    assert "Filters: Granularity: Daily" in first
    everything = " ".join(pages)
    for row in source.rows:
        assert f"{row[5]:,.3f}" in everything  # every quantity, to the last digit
    total = sum((r[5] for r in source.rows), Decimal(0))
    assert "Totals" in pages[-1]
    assert f"All TON TON {total:,.3f} 120" in pages[-1]


def test_pdf_shows_levels_on_inventory_rows(tmp_path: Path) -> None:
    columns = (
        Column("Date", "date", ColumnKind.DATE),
        Column("Material Code", "material_code"),
        Column("Closing", "closing", ColumnKind.QUANTITY),
        Column("Level", "level", ColumnKind.LEVEL),
    )
    rows = [
        (date(2026, 11, 1), "AGG-G1", Decimal("50.000"), "LOW"),
        (date(2026, 11, 1), "AGG-S1", Decimal("1300.000"), "HEALTHY"),
    ]
    source = StaticSource(meta(Module.INVENTORY), columns, rows)
    text = pdf_text(write_pdf(source.table(), tmp_path / "i.pdf", RecordingProgress()).path)[0]
    assert "AGG-G1 50.000 LOW" in text
    assert "AGG-S1 1,300.000 HEALTHY" in text


def test_empty_pdf_has_headers_and_a_no_data_line(tmp_path: Path) -> None:
    source = StaticSource(meta(), PRODUCTION_COLUMNS, [])
    result = write_pdf(source.table(), tmp_path / "e.pdf", RecordingProgress())
    (text,) = pdf_text(result.path)
    assert "Date Shift Material Code" in text
    assert NO_DATA in text
    assert "Page 1 of 1" in text


# ------------------------------------------------------------------------ every writer
WRITERS = [write_xlsx, write_csv, write_powerbi_csv, write_pdf]


@pytest.mark.parametrize("writer", WRITERS)
def test_cancel_leaves_no_file(tmp_path: Path, writer: object) -> None:
    source = production_source(3000)
    progress = RecordingProgress(cancel_at=10)
    with pytest.raises(ExportCancelled):
        writer(source.table(), tmp_path / "x.out", progress)  # type: ignore[operator]
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", WRITERS)
def test_every_writer_reports_hash_size_and_count(tmp_path: Path, writer: object) -> None:
    import hashlib

    result = writer(production_source(40).table(), tmp_path / "x.out", RecordingProgress())  # type: ignore[operator]
    data = result.path.read_bytes()
    assert result.size_bytes == len(data)
    assert result.sha256 == hashlib.sha256(data).hexdigest()
    assert result.record_count == 40
    assert [p.name for p in tmp_path.iterdir()] == ["x.out"]


def test_pdf_draws_text_outside_latin1_without_failing(tmp_path: Path) -> None:
    source = production_source(5, notes=("Ünïcödé", "كسارة", "混合", None, "ok"))
    result = write_pdf(source.table(), tmp_path / "u.pdf", RecordingProgress())
    assert "Ünïcödé" in pdf_text(result.path)[0]


def test_csv_bytes_are_utf8(tmp_path: Path) -> None:
    result = write_csv(production_source(11).table(), tmp_path / "p.csv", RecordingProgress())
    text = result.path.read_bytes().decode("utf-8")  # raises if not UTF-8
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    assert next(reader)[0] == "Date"
