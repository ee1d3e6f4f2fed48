"""xlsx imports read with python-calamine give exactly what openpyxl gave, cell for cell.

The reference is the reader DeskOps had before (openpyxl read-only, cached formula values, the
sheet's <dimension> ignored): ``openpyxl_cells`` below. ``imports._calamine_rows`` must return
the same values of the same types for every cell, or ``None`` so that openpyxl reads the file
(error cells, a sheet too large for memory, unusual XML). The fixtures ``calc_*.xlsx`` were saved
by LibreOffice Calc (``tests/fixtures/make_xlsx_fixtures.py``) so that formulas carry the values
they computed and error cells exist; the other workbooks are written here with openpyxl.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable, Sequence
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
import python_calamine
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl.chart import BarChart, Reference
from openpyxl.utils.datetime import CALENDAR_MAC_1904

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.models.validation import parse_quantity
from deskops_desktop.services import imports
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.imports import ImportFileError, ImportRejected, ImportService
from deskops_desktop.services.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"
CELLS = FIXTURES / "calc_cells.xlsx"
PRODUCTION = FIXTURES / "calc_production.xlsx"
DISPATCH = FIXTURES / "calc_dispatch.xlsx"
ERRORS = FIXTURES / "calc_errors.xlsx"


@pytest.fixture
def services(store: Store, example_day: FixedClock) -> Services:
    """The fixtures' dates were written for the ``example_day`` (2026-11-27): none is later."""
    return build_services(store)


def openpyxl_cells(path: Path) -> list[list[object]]:
    """The first sheet as DeskOps read it before calamine (openpyxl, values only)."""
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        return trimmed(sheet.iter_rows(values_only=True))
    finally:
        workbook.close()


def calamine_cells(path: Path) -> list[list[object]]:
    rows = imports._calamine_rows(path)
    assert rows is not None, f"{path.name}: calamine did not read it"
    return trimmed(rows)


def trimmed(rows: Iterable[Sequence[object]]) -> list[list[object]]:
    """Rows without trailing empty cells, and no trailing empty rows.

    openpyxl ends a row at its last cell element (a formatted empty cell counts), calamine at
    the sheet's last used column; either way the rest is empty, and the import skips it.
    """
    out = []
    for row in rows:
        cells = list(row)
        while cells and cells[-1] is None:
            cells.pop()
        out.append(cells)
    while out and not out[-1]:
        out.pop()
    return out


def typed(rows: list[list[object]]) -> list[list[tuple[str, object]]]:
    """Values with their types: 7 == 7.0 == True in Python, but not here."""
    return [[(type(v).__name__, v) for v in row] for row in rows]


def assert_same_cells(path: Path) -> None:
    expected, actual = typed(openpyxl_cells(path)), typed(calamine_cells(path))
    for number, (want, got) in enumerate(zip(expected, actual, strict=False), start=1):
        assert got == want, f"{path.name}, row {number}: calamine {got} != openpyxl {want}"
    assert len(actual) == len(expected)


def write_book(path: Path, rows: Iterable[Sequence[object]], **options: Any) -> Path:
    workbook = openpyxl.Workbook()
    if "epoch" in options:
        workbook.epoch = options["epoch"]
    sheet = workbook.active
    for row in rows:
        sheet.append(list(row))
    workbook.save(path)
    return path


def force_openpyxl(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(imports, "_calamine_rows", lambda file: None)


# ---------------------------------------------------------------- cell for cell, Calc files
@pytest.mark.parametrize("path", [CELLS, PRODUCTION, DISPATCH], ids=lambda p: p.name)
def test_calamine_reads_every_cell_of_a_calc_workbook_as_openpyxl(path: Path) -> None:
    assert_same_cells(path)


def test_the_catalogue_holds_every_kind_of_cell() -> None:
    """The comparison above is only as good as the fixture: check that it has what it claims."""
    values = {row[0]: [*row, None][1] for row in calamine_cells(CELLS)[1:] if row}
    assert values["leading zeros"] == "007"
    assert values["leading zeros, spaces"] == " 007 "
    assert values["text of digits"] == "12.345"
    assert values["decimal 3 places"] == 12.345
    assert parse_quantity(values["decimal 3 places"]) == Decimal("12.345")
    assert parse_quantity(values["decimal max"]) == Decimal("999999.999")
    assert values["integer"] == 7
    assert type(values["integer formatted"]) is int
    assert values["integer 15 digits"] == 123456789012345
    for label in ("date iso", "date day first", "date long", "date locale", "date builtin 14"):
        assert values[label] == datetime(2026, 11, 20), label
    assert values["datetime afternoon"] == datetime(2026, 11, 20, 14, 30)
    assert values["datetime 12h"] == datetime(2026, 11, 20, 6, 5)
    assert values["time"] == time(14, 30)
    assert values["time midnight"] == time(0, 0)
    assert values["duration"] == timedelta(hours=30, minutes=15)
    assert values["true"] is True
    assert values["false"] is False
    # Formulas: the values Calc computed and saved with them.
    assert values["formula number"] == 24.69
    assert values["formula rounded"] == 12.346
    assert values["formula text with zeros"] == "007"
    assert values["formula concatenation"] == "DR-0042"
    assert values["formula date"] == datetime(2026, 11, 20)
    assert values["formula date plus"] == datetime(2026, 11, 21)
    assert values["formula time"] == time(14, 30)
    assert values["formula boolean"] is True
    assert values["formula empty text"] is None
    assert values["formula if empty"] is None
    assert values["empty"] is None
    assert values["formatted empty"] is None
    assert values["rich text"] == "plain bold end"
    with zipfile.ZipFile(CELLS) as archive:
        sheet = archive.read("xl/worksheets/sheet1.xml").decode()
    assert sheet.count("<f") >= 11, "the formula cells must be formulas with saved values"
    assert 't="s"' in sheet, "Calc stores text as shared strings, like Excel"


# ------------------------------------------------------- cell for cell, openpyxl-written files
QUANTITIES = st.integers(-999_999_999, 999_999_999).map(lambda n: n / 1000)
# Spreadsheets keep times to the millisecond. A finer fraction (only a generator writes one,
# e.g. openpyxl from a Python datetime) can round 1 ms apart: openpyxl rounds the day's
# fraction, calamine the whole serial number. Such a value has a time of day, which a Date
# column refuses either way.
MILLISECONDS = st.integers(0, 999).map(lambda ms: ms * 1000)
DATETIMES = st.builds(
    lambda d, us: d.replace(microsecond=us),
    st.datetimes(min_value=datetime(1900, 3, 1)),
    MILLISECONDS,
)
TIMES = st.builds(lambda t, us: t.replace(microsecond=us), st.times(), MILLISECONDS)
CELL_VALUES = st.one_of(
    st.none(),
    st.text(st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), max_size=8).filter(
        lambda s: not s.startswith("=")  # openpyxl would write a formula
    ),
    st.from_regex(r"0[0-9]{1,5}", fullmatch=True),
    QUANTITIES,
    st.floats(allow_nan=False, allow_infinity=False),
    st.integers(-(10**20), 10**20),
    st.booleans(),
    st.dates(min_value=date(1900, 3, 1)),
    DATETIMES,
    TIMES,
)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.lists(CELL_VALUES, max_size=6), min_size=1, max_size=8))
def test_calamine_reads_openpyxl_written_cells_as_openpyxl(rows: list[list[object]]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write_book(Path(tmp) / "cells.xlsx", rows)
        expected = typed(openpyxl_cells(path))
        got = imports._calamine_rows(path)  # None: openpyxl reads it, the same by definition
        if got is not None:
            assert typed(trimmed(got)) == expected


@settings(max_examples=25, deadline=None)
@given(st.lists(QUANTITIES, min_size=1, max_size=20))
def test_decimals_stay_as_typed(numbers: list[float]) -> None:
    """12.345 is Decimal('12.345') through either reader, never 12.345000000000001."""
    with tempfile.TemporaryDirectory() as tmp:
        path = write_book(Path(tmp) / "q.xlsx", [[n] for n in numbers])
        for rows in (calamine_cells(path), openpyxl_cells(path)):
            for (cell,), number in zip(rows, numbers, strict=True):
                if number:
                    typed_as = Decimal(round(number * 1000)) / 1000
                    assert parse_quantity(cell, signed=True) == typed_as


def test_1904_date_system() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        rows = [["Date"], [date(2026, 11, 20)], [datetime(2026, 11, 20, 7, 15)], [time(6, 0)]]
        path = write_book(Path(tmp) / "mac.xlsx", rows, epoch=CALENDAR_MAC_1904)
        assert_same_cells(path)
        assert calamine_cells(path)[1] == [datetime(2026, 11, 20)]


def test_the_first_worksheet_is_read_even_after_a_chart_sheet(tmp_path: Path) -> None:
    workbook = openpyxl.Workbook()
    workbook.active.append(["Date", "Quantity"])
    workbook.active.append([date(2026, 11, 20), 3])
    chart = BarChart()
    chart.add_data(
        Reference(workbook.active, min_col=2, min_row=1, max_row=2), titles_from_data=True
    )
    workbook.create_chartsheet("Chart", 0).add_chart(chart)
    path = tmp_path / "chart_first.xlsx"
    workbook.save(path)
    assert (
        calamine_cells(path)
        == openpyxl_cells(path)
        == [["Date", "Quantity"], [datetime(2026, 11, 20), 3]]
    )


def test_a_dimension_that_lies_does_not_drop_rows(tmp_path: Path) -> None:
    path = write_book(tmp_path / "p.xlsx", [["Date"], [date(2026, 11, 20)], [date(2026, 11, 21)]])
    rewrite_sheet(path, replacing(b'<dimension ref="A1:A3"/>', b'<dimension ref="A1"/>'))
    assert len(calamine_cells(path)) == 3
    assert_same_cells(path)


# -------------------------------------------------------------------- the same table, imported
@pytest.mark.parametrize(
    ("path", "module"), [(PRODUCTION, Module.PRODUCTION), (DISPATCH, Module.DISPATCH)]
)
def test_both_readers_give_the_same_sheet(
    path: Path, module: Module, monkeypatch: pytest.MonkeyPatch
) -> None:
    used: list[Path] = []
    real = imports._calamine_rows
    monkeypatch.setattr(imports, "_calamine_rows", lambda file: used.append(file) or real(file))
    fast = imports.read_table(path, module)
    assert used == [path]
    force_openpyxl(monkeypatch)
    assert imports.read_table(path, module) == fast


def test_a_calc_workbook_imports_the_same_through_either_reader(
    services: Services, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    other = services.master.add_site(SYSTEM, "OTHER-01", "Other plant").value
    importer = ImportService(services.records)
    fast = importer.import_file(SYSTEM, Module.PRODUCTION, site.id, PRODUCTION).value
    assert (fast.count, fast.ignored) == (5, ("Loads",))
    with monkeypatch.context() as patch:
        force_openpyxl(patch)
        slow = importer.import_file(SYSTEM, Module.PRODUCTION, other.id, PRODUCTION).value
    assert (slow.count, slow.ignored) == (fast.count, fast.ignored)

    def stored(site_id: str) -> list[tuple[object, ...]]:
        rows = services.records.list(
            SYSTEM, Module.PRODUCTION, site_id, date(2026, 11, 1), date(2026, 11, 27),
            sort="date", descending=False,
        )  # fmt: skip
        return sorted(
            (r.date, r.ref_code, r.values["shift"], r.values["operation"], r.values["quantity"],
             r.values["notes"]) for r in rows
        )  # fmt: skip

    assert (
        stored(site.id)
        == stored(other.id)
        == [
            (date(2026, 11, 20), "AGG-G1", "MORNING", "CRU-PRO", Decimal("120.500"), "007"),
            (
                date(2026, 11, 20),
                "AGG-S1",
                "",
                "CRU-PRO",
                Decimal("12.340"),
                "",
            ),  # =ROUND(H5*1.234,3)
            (date(2026, 11, 21), "FINE-WASHED", "NIGHT", "CRU-OP", Decimal("12.345"), "005"),
            (date(2026, 11, 22), "AGG-G1", "AFTERNOON", "CRU-PRO", Decimal("30.125"), "007 b"),
            (date(2026, 11, 23), "BASE-CRUSHED", "MORNING", "CRU-PRO", Decimal("999999.999"), ""),
        ]
    )


def test_dispatch_keeps_leading_zeros_and_formula_text(services: Services) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    ImportService(services.records).import_file(SYSTEM, Module.DISPATCH, site.id, DISPATCH)
    rows = services.records.list(
        SYSTEM, Module.DISPATCH, site.id, date(2026, 11, 1), date(2026, 11, 27),
        sort="date", descending=False,
    )  # fmt: skip
    assert sorted(
        (r.date, r.values["reference"], r.ref_code, r.values["quantity"], r.values["trips"],
         r.values["owner"]) for r in rows
    ) == [
        (date(2026, 11, 24), "00123", "AGG-G1", Decimal("24.500"), 2, "Acme Roads"),
        (date(2026, 11, 24), "4711", "AGG-3/4", Decimal("18.250"), 1, "007 Trading"),
        (date(2026, 11, 25), "DR-0042", "AGG-S1", Decimal("42.750"), 3, ""),
        (date(2026, 11, 26), "", "FINE-WASHED", Decimal("0.001"), None, ""),
    ]  # fmt: skip


# ------------------------------------------------------------------------------ error cells
ERROR_PROBLEMS = [
    "row 3, Quantity: shows the Excel error #DIV/0!; correct its formula or type the value",
    "row 4, Date: shows the Excel error #VALUE!; correct its formula or type the value",
    "row 4, Notes: shows the Excel error #N/A; correct its formula or type the value",
    "row 5, Material Code: shows the Excel error #REF!; correct its formula or type the value",
]


def test_error_cells_are_listed_and_nothing_is_written(services: Services) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    with pytest.raises(ImportRejected) as exc:
        ImportService(services.records).import_file(SYSTEM, Module.PRODUCTION, site.id, ERRORS)
    # Every error cell of a column that counts; the "Check" column is ignored, so is its error.
    assert [str(p) for p in exc.value.problems] == ERROR_PROBLEMS
    assert (
        services.records.count(
            SYSTEM, Module.PRODUCTION, site.id, date(2026, 11, 1), date(2026, 11, 27)
        )
        == 0
    )


def test_calamine_would_read_error_cells_as_empty_so_openpyxl_reads_them() -> None:
    """Why the scan exists: calamine turns #DIV/0! into "", which would hide a broken formula."""
    raw = python_calamine.CalamineWorkbook.from_path(ERRORS).get_sheet_by_index(0).to_python()
    assert raw[2][3] == ""  # D3, =D2/0
    assert openpyxl_cells(ERRORS)[2][3] == "#DIV/0!"
    assert imports._calamine_rows(ERRORS) is None
    # An error on another sheet than the first does not matter (calc_cells.xlsx has one).
    assert imports._calamine_rows(CELLS) is not None


# -------------------------------------------------------------- what calamine is never given
def replacing(old: bytes, new: bytes) -> Callable[[bytes], bytes]:
    """Replace the element ``old`` once, however the writer spaced its closing ``/>``.

    openpyxl writes ``<a/>`` through lxml and ``<a />`` through its own serializer when lxml
    is not installed, so a clean clone and a developer's venv differ there.
    """
    pattern = re.escape(old.removesuffix(b"/>")) + rb"\s*/>" if old.endswith(b"/>") else None

    def change(xml: bytes) -> bytes:
        if pattern is None:
            assert old in xml, old
            return xml.replace(old, new, 1)
        changed, count = re.subn(pattern, new, xml, count=1)
        assert count == 1, old
        return changed

    return change


def rewrite_sheet(
    path: Path, change: Callable[[bytes], bytes], member: str = "xl/worksheets/sheet1.xml"
) -> None:
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    parts[member] = change(parts[member])
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


TABLE = [
    ["Date", "Operation", "Material Code", "Quantity"],
    [date(2026, 11, 20), "CRU-PRO", "AGG-G1", 1],
]
TABLE_AS_READ = [TABLE[0], [datetime(2026, 11, 20), "CRU-PRO", "AGG-G1", 1]]


def test_a_stray_cell_far_away_streams_through_openpyxl(tmp_path: Path) -> None:
    """One cell at XFD1048576 makes calamine ask for 550 GB and abort the process."""
    path = write_book(tmp_path / "stray.xlsx", TABLE)
    workbook = openpyxl.load_workbook(path)
    workbook.active["XFD1048576"] = "x"
    workbook.save(path)
    assert path.stat().st_size < 10_000
    # In a child process, so that a regression fails this test instead of ending the run.
    script = (
        "import sys; from pathlib import Path; from deskops_desktop.services import imports; "
        "from deskops_desktop.models.enums import Module; "
        "assert imports._calamine_rows(Path(sys.argv[1])) is None; "
        "print(len(imports.read_table(sys.argv[1], Module.PRODUCTION).rows))"
    )
    child = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120
    )
    assert child.returncode == 0, child.stderr[-2000:]
    assert child.stdout.strip() == "1"


def test_a_sheet_over_the_cell_limit_streams_through_openpyxl(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_book(tmp_path / "p.xlsx", TABLE)
    assert imports._calamine_rows(path) is not None  # 2 rows x 4 columns
    monkeypatch.setattr(imports, "MAX_CALAMINE_CELLS", 7)
    assert imports._calamine_rows(path) is None
    assert imports.read_table(path, Module.PRODUCTION).rows[0]["material"] == "AGG-G1"


PREFIXED_CELL = (
    b'<x:c xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main" r="D2" t="n">'
    b"<x:v>1</x:v></x:c>"
)


@pytest.mark.parametrize(
    ("label", "old", "new"),
    [
        ("cell without a reference", b'<c r="A2" ', b"<c "),
        ("reference in single quotes", b'<c r="A2"', b"<c r='A2'"),
        ("cell tag on two lines", b'<c r="A2"', b'<c\nr="A2"'),
        ("lowercase reference", b'<c r="A2"', b'<c r="a2"'),
        ("prefixed cell", b'<c r="D2" t="n"><v>1</v></c>', PREFIXED_CELL),
        ("row past Excel's last", b'<c r="D2"', b'<c r="D1048577"'),
    ],
)
def test_unusual_sheet_xml_goes_to_openpyxl(
    tmp_path: Path, label: str, old: bytes, new: bytes
) -> None:
    path = write_book(tmp_path / "odd.xlsx", TABLE)
    rewrite_sheet(path, replacing(old, new))
    assert imports._calamine_rows(path) is None, label


def move_sheet(path: Path, member: str, target: str, *, keep_old: bool = False) -> None:
    """Store the first sheet as ``member``, its relationship pointing at ``target``."""
    with zipfile.ZipFile(path) as archive:
        parts = {info.filename: archive.read(info) for info in archive.infolist()}
    sheet = parts["xl/worksheets/sheet1.xml"] if keep_old else parts.pop("xl/worksheets/sheet1.xml")
    parts[member] = sheet
    rels = "xl/_rels/workbook.xml.rels"
    parts[rels] = replacing(b'Target="/xl/worksheets/sheet1.xml"', f'Target="{target}"'.encode())(
        parts[rels]
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


def test_the_scan_reads_the_part_calamine_reads(tmp_path: Path) -> None:
    """The sheet's part is found through the workbook's relationships, as calamine finds it."""
    path = write_book(tmp_path / "moved.xlsx", TABLE)
    move_sheet(path, "xl/data/first.xml", "/xl/data/first.xml")
    assert_same_cells(path)
    # Part names match in any case for calamine (openpyxl would find no worksheet here).
    path = write_book(tmp_path / "moved_case.xlsx", TABLE)
    move_sheet(path, "xl/data/First.xml", "data/first.xml")
    assert calamine_cells(path) == TABLE_AS_READ


def test_a_sheet_part_named_twice_goes_to_openpyxl(tmp_path: Path) -> None:
    """Two members whose names differ in case only: which one calamine reads is not ours to say."""
    path = write_book(tmp_path / "twice.xlsx", TABLE)
    move_sheet(path, "XL/worksheets/SHEET1.xml", "worksheets/sheet1.xml", keep_old=True)
    assert imports._calamine_rows(path) is None


def test_long_integers_go_to_openpyxl_which_keeps_every_digit(tmp_path: Path) -> None:
    """A generator may write a 19-digit reference as a number; only openpyxl keeps it exact."""
    rows = [
        ["Date", "Reference", "Material Code", "Quantity"],
        [date(2026, 11, 20), 5, "AGG-G1", 2],
    ]
    path = write_book(tmp_path / "dispatch.xlsx", rows)
    # openpyxl writes big numbers rounded (1.234567890123457e+18), so put the digits in by hand.
    rewrite_sheet(path, replacing(b"<v>5</v>", b"<v>1234567890123456789</v>"))
    raw = python_calamine.CalamineWorkbook.from_path(path).get_sheet_by_index(0).to_python()
    assert raw[1][1] == 1.2345678901234568e18  # calamine: a float, digits lost
    assert imports._calamine_rows(path) is None
    assert imports.read_table(path, Module.DISPATCH).rows[0]["reference"] == "1234567890123456789"


NUMBER_TEXT = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False).map(repr),  # the shortest round trip
    st.floats(allow_nan=False, allow_infinity=False).map(lambda f: f"{f:.17G}"),  # as Excel
    st.integers(-(10**15), 10**15).map(str),
    st.decimals(places=3, min_value=-999_999, max_value=999_999).map(str),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(NUMBER_TEXT, min_size=1, max_size=30))
def test_numbers_as_spreadsheets_write_them_parse_to_the_same_double(texts: list[str]) -> None:
    """Excel writes up to 17 significant digits; both readers must make the same double of them.

    The one difference, by design: a whole number written with a fraction or an exponent
    ("7.0", "1E3"; spreadsheets write "7") is a float for openpyxl and an int here, as "7" is
    for both. Equal as numbers, and a material code typed as a number matches either way.
    """
    with tempfile.TemporaryDirectory() as tmp:
        path = write_book(Path(tmp) / "n.xlsx", [[0] for _ in texts])
        cells = b"".join(
            b'<row r="%d"><c r="A%d"><v>%s</v></c></row>' % (i, i, t.encode())
            for i, t in enumerate(texts, start=1)
        )
        rewrite_sheet(
            path, lambda xml: SHEET_DATA.sub(b"<sheetData>" + cells + b"</sheetData>", xml)
        )
        rows = imports._calamine_rows(path)
        if rows is None:  # 16 digits or more: openpyxl reads it
            assert any(len(t.lstrip("-").split(".")[0]) >= 16 for t in texts)
            return
        for text, (want,), (got,) in zip(texts, openpyxl_cells(path), trimmed(rows), strict=True):
            assert got == want, text
            integral = isinstance(want, float) and want.is_integer() and abs(want) < 2**53
            assert type(got) is (int if integral else type(want)), text


SHEET_DATA = re.compile(rb"<sheetData>.*</sheetData>", re.DOTALL)


def test_empty_sheets_and_missing_calamine(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = write_book(tmp_path / "empty.xlsx", [])
    assert list(imports._calamine_rows(empty) or ["not read"]) == []
    with pytest.raises(ImportFileError, match=r"^empty.xlsx is empty$"):
        imports.read_table(empty, Module.PRODUCTION)
    force_openpyxl(monkeypatch)
    with pytest.raises(ImportFileError, match=r"^empty.xlsx is empty$"):
        imports.read_table(empty, Module.PRODUCTION)
    monkeypatch.undo()
    monkeypatch.setitem(sys.modules, "python_calamine", None)  # as if it were not installed
    path = write_book(tmp_path / "p.xlsx", TABLE)
    assert imports._calamine_rows(path) is None
    assert len(imports.read_table(path, Module.PRODUCTION).rows) == 1


def test_a_workbook_calamine_cannot_read_gets_openpyxl_s_message(tmp_path: Path) -> None:
    path = write_book(tmp_path / "broken.xlsx", TABLE)
    rewrite_sheet(path, lambda xml: xml[: len(xml) // 2])
    assert imports._calamine_rows(path) is None
    with pytest.raises(ImportFileError, match=r"^broken.xlsx could not be read \("):
        imports.read_table(path, Module.PRODUCTION)
