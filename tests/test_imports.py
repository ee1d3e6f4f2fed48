"""Spreadsheet imports: csv (BOM or not), xlsx (typed cells), pasted text, all-or-nothing with
sheet-row problems, role limits, and hostile files refused with a readable ImportFileError.

Row numbers are the sheet's own (header = row 1), see ``services/imports.py``.
"""

from __future__ import annotations

import json
import zipfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import openpyxl
import pytest
from sqlalchemy import func, select

from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import DeskOpsError, PermissionDenied
from deskops_desktop.models.records import Production
from deskops_desktop.services import imports
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import Area
from deskops_desktop.services.imports import (
    ImportFileError,
    ImportRejected,
    ImportService,
    module_from_name,
    parse_tsv,
    read_table,
)
from deskops_desktop.services.store import Store
from tests.conftest import EXAMPLE_NOW
from tests.helpers import default_site

PRODUCTION_CSV = (
    "date,SHIFT,Operation,material code,Quantity,Notes,Material,UOM\r\n"
    "2026-11-20,MORNING,CRU-PRO,AGG-G1,120.5,first shift,G1,TON\r\n"
    "2026-11-20,AFTERNOON,Crushing \u2013 Production,agg-g1,0.25,,G1,TON\r\n"  # display name
    '2026-11-21,,CRU-PRO,FINE-WASHED,"1,250.125","with, comma",WASHED SAND,TON\r\n'
)

# Hand-computed examples written for 2026-11-27 (see the ``example_day`` fixture).
pytestmark = pytest.mark.usefixtures("example_day")


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def sqlite_services(sqlite_store: Store) -> Services:
    return build_services(sqlite_store)


def write(tmp_path: Path, name: str, content: str | bytes, *, bom: bool = False) -> Path:
    path = tmp_path / name
    data = content.encode("utf-8") if isinstance(content, str) else content
    path.write_bytes((b"\xef\xbb\xbf" if bom else b"") + data)
    return path


def write_xlsx(tmp_path: Path, rows: list[list[Any]], name: str = "sheet.xlsx") -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.create_sheet("Second")["A1"] = "never read"
    path = tmp_path / name
    workbook.save(path)
    return path


def do_import(
    services: Services,
    path: Path,
    module: Module = Module.PRODUCTION,
    actor: Actor = SYSTEM,
    site_code: str = "ALASLA-29",
) -> imports.ImportResult:
    site = services.master.site_by_code(SYSTEM, site_code)
    return ImportService(services.records).import_file(actor, module, site.id, path)


def problem_lines(exc: pytest.ExceptionInfo[ImportRejected]) -> list[str]:
    return [str(p) for p in exc.value.problems]


def production_count(services: Services) -> int:
    with services.store.read() as session:
        return int(session.scalar(select(func.count()).select_from(Production)) or 0)


# ------------------------------------------------------------------------------ csv
def test_csv_import_writes_every_row_and_the_ledger_follows(
    services: Services, tmp_path: Path
) -> None:
    path = write(tmp_path, "production.csv", PRODUCTION_CSV, bom=True)
    result = do_import(services, path)

    site = default_site(services)
    assert result.value.count == 3
    assert result.value.module is Module.PRODUCTION
    assert result.value.site_id == site.id
    assert result.value.source == "production.csv"
    assert result.value.ignored == ("Material", "UOM")
    assert result.changes.touches(Area.PRODUCTION, site.id)
    assert result.changes.touches(Area.LEDGER, site.id)
    rows = services.records.list(
        SYSTEM,
        Module.PRODUCTION,
        site.id,
        date(2026, 11, 1),
        date(2026, 11, 27),
        sort="quantity",
        descending=False,
    )
    assert [
        (
            r.date,
            r.ref_code,
            r.values["shift"],
            r.values["operation"],
            r.values["quantity"],
            r.values["notes"],
        )
        for r in rows
    ] == [
        (date(2026, 11, 20), "AGG-G1", "AFTERNOON", "CRU-PRO", Decimal("0.250"), ""),
        (date(2026, 11, 20), "AGG-G1", "MORNING", "CRU-PRO", Decimal("120.500"), "first shift"),
        (date(2026, 11, 21), "FINE-WASHED", "", "CRU-PRO", Decimal("1250.125"), "with, comma"),
    ]
    ledger = services.ledger.ledger(
        SYSTEM,
        site.id,
        date(2026, 11, 20),
        date(2026, 11, 21),
        material_codes=["AGG-G1", "FINE-WASHED"],
    )
    assert [(r.day, r.material.code, r.closing) for r in ledger.rows] == [
        (date(2026, 11, 20), "AGG-G1", Decimal("120.750")),
        (date(2026, 11, 20), "FINE-WASHED", Decimal("0.000")),
        (date(2026, 11, 21), "AGG-G1", Decimal("120.750")),
        (date(2026, 11, 21), "FINE-WASHED", Decimal("1250.125")),
    ]
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_batch_rows_are_stored_like_single_records(services: Services, tmp_path: Path) -> None:
    """The fast batch insert stores what the ORM would: timestamps, decimals, the change log."""
    do_import(services, write(tmp_path, "p.csv", PRODUCTION_CSV))
    site = default_site(services)
    row = services.records.list(
        SYSTEM,
        Module.PRODUCTION,
        site.id,
        date(2026, 11, 20),
        date(2026, 11, 20),
        sort="quantity",
        descending=True,
    )[0]
    assert row.created_at == EXAMPLE_NOW
    assert row.updated_at == EXAMPLE_NOW
    assert row.version == 1
    assert row.created_by is None  # SYSTEM
    edited = services.records.update(
        SYSTEM, Module.PRODUCTION, row.id, {**row.values, "quantity": "121"}, expected_version=1
    )
    assert edited.value.version == 2
    with services.store.read() as session:
        entries = session.execute(
            select(
                ChangeLog.record_id, ChangeLog.at, ChangeLog.old_values, ChangeLog.new_values
            ).where(ChangeLog.table_name == "production", ChangeLog.action == "INSERT")
        ).all()
    assert len(entries) == 3
    _, at, old, new = next(e for e in entries if e.record_id == row.id)
    assert at.tzinfo is not None
    assert old is None
    assert new is not None
    assert new["quantity"] == "120.500"
    assert new["date"] == "2026-11-20"
    assert json.loads(json.dumps(new)) == new  # plain JSON, no floats smuggled in


@pytest.mark.parametrize("bom", [True, False], ids=["bom", "no-bom"])
def test_csv_with_and_without_bom(sqlite_services: Services, tmp_path: Path, bom: bool) -> None:
    path = write(tmp_path, "p.csv", PRODUCTION_CSV.replace("\r\n", "\n"), bom=bom)
    sheet = read_table(path, Module.PRODUCTION)
    assert sheet.columns == ("Date", "Shift", "Operation", "Material Code", "Quantity", "Notes")
    assert sheet.rows[0] == {
        "date": "2026-11-20",
        "shift": "MORNING",
        "operation": "CRU-PRO",
        "material": "AGG-G1",
        "quantity": "120.5",
        "notes": "first shift",
    }
    assert do_import(sqlite_services, path).value.count == 3


def test_tab_separated_files(sqlite_services: Services, tmp_path: Path) -> None:
    text = "Date\tMaterial Code\tQuantity\tSource\n2026-11-20\tRAW-MIXED\t3\tTower, B\n"
    path = write(tmp_path, "received.tsv", text)
    assert read_table(path, Module.RECEIVED).rows[0]["source"] == "Tower, B"
    assert do_import(sqlite_services, path, Module.RECEIVED).value.count == 1


def test_one_bad_row_writes_nothing_and_every_bad_row_is_listed(
    services: Services, tmp_path: Path
) -> None:
    csv_text = (
        "Date,Shift,Operation,Material Code,Quantity,Notes\n"
        "2026-11-20,MORNING,CRU-PRO,AGG-G1,10,\n"  # row 2: fine
        '2026-11-20,MORNING,CRU-PRO,AGG-S1,"12,5t",\n'  # row 3
        ",,,,,\n"  # row 4: blank, skipped but counted
        "2026-11-21,EVENING,CRU-PRO,AGG-XX,5,\n"  # row 5: two problems
        ",MORNING,CRU-PRO,AGG-G1,NaN,\n"  # row 6: two problems
        "2026-12-01,MORNING,CRU-PRO,AGG-G1,1.2345,\n"  # row 7: future date, 4 decimals
        "2026-11-22,NIGHT,CRU-PRO,AGG-G1,7,\n"  # row 8: fine
    )
    with pytest.raises(ImportRejected) as exc:
        do_import(services, write(tmp_path, "bad.csv", csv_text))
    assert problem_lines(exc) == [
        "row 3, Quantity: '12,5t' is not a number (use digits and '.', e.g. 12.5)",
        "row 5, Shift: 'EVENING' is not one of MORNING, AFTERNOON, NIGHT",
        "row 5, Material Code: unknown material code 'AGG-XX'",
        "row 6, Date: is required",
        "row 6, Quantity: 'NaN' is not a number (use digits and '.', e.g. 12.5)",
        "row 7, Date: must not be in the future (today is 2026-11-27)",
        "row 7, Quantity: must have at most 3 decimals",
    ]
    assert isinstance(exc.value, DeskOpsError)
    assert production_count(services) == 0
    site = default_site(services)
    assert services.ledger.verify(SYSTEM, site.id) == []
    with services.store.read() as session:
        assert session.scalar(select(func.count()).select_from(ChangeLog)) == 0


def test_duplicates_in_the_file_and_in_the_store_name_the_sheet_row(
    services: Services, tmp_path: Path
) -> None:
    header = "Date,Shift,Operation,Material Code,Quantity\n"
    do_import(
        services, write(tmp_path, "first.csv", header + "2026-11-20,MORNING,CRU-PRO,AGG-G1,1\n")
    )
    again = header + (
        "2026-11-21,MORNING,CRU-PRO,AGG-G1,1\n"
        "\n"
        "2026-11-21,morning,CRU-PRO,AGG-G1,2\n"  # row 4 repeats row 2
        "2026-11-20,MORNING,CRU-PRO,AGG-G1,3\n"  # row 5 is already in the store
    )
    with pytest.raises(ImportRejected) as exc:
        do_import(services, write(tmp_path, "again.csv", again))
    lines = problem_lines(exc)
    assert lines[0] == "row 4, Material Code: duplicates row 2 of this file"
    assert lines[1].startswith(
        "row 5, Material Code: already recorded: production 2026-11-20 MORNING AGG-G1 CRU-PRO"
    )
    assert len(lines) == 2
    assert production_count(services) == 1


def test_operator_limits_come_from_the_services(services: Services, tmp_path: Path) -> None:
    other = services.master.add_site(SYSTEM, "OTHER-01", "Other plant").value
    services.users.create(SYSTEM, "clerk", "clerk-pass-1", Role.OPERATOR, ["ALASLA-29"])
    clerk = services.users.authenticate("clerk", "clerk-pass-1")
    header = "Date,Shift,Operation,Material Code,Quantity\n"
    recent = write(tmp_path, "recent.csv", header + "2026-11-25,MORNING,CRU-PRO,AGG-G1,1\n")

    with pytest.raises(PermissionDenied, match="not assigned to this site"):
        ImportService(services.records).import_file(clerk, Module.PRODUCTION, other.id, recent)

    old = write(
        tmp_path,
        "old.csv",
        header + "2026-11-25,MORNING,CRU-PRO,AGG-G1,1\n2026-11-01,MORNING,CRU-PRO,AGG-G1,1\n",
    )
    with pytest.raises(ImportRejected) as exc:
        do_import(services, old, actor=clerk)
    assert problem_lines(exc) == [
        "row 3, Date: operators may change records of the last 7 days only; 2026-11-01 is older "
        "— ask a supervisor"
    ]

    adjustments = write(
        tmp_path,
        "adj.csv",
        "Date,Material Code,Adjustment,Reason\n"
        "2026-11-25,AGG-G1,-1,LOSS\n2026-11-26,AGG-G1,-1,LOSS\n",
    )
    with pytest.raises(PermissionDenied, match="stock adjustments need a supervisor"):
        do_import(services, adjustments, Module.ADJUSTMENTS, actor=clerk)
    assert do_import(services, recent, actor=clerk).value.count == 1
    assert production_count(services) == 1


# ----------------------------------------------------------------------------- xlsx
def test_xlsx_typed_cells_dates_floats_and_numbers_in_text_columns(
    services: Services, tmp_path: Path
) -> None:
    path = write_xlsx(
        tmp_path,
        [
            ["QUANTITY", "material code", "Date", "Reference", "Trips", "Owner", "Customer name"],
            [12.345, "AGG-S1", datetime(2026, 11, 20), 12345, 2, "Acme Roads", "ignored"],
            [7, "agg-s1", date(2026, 11, 21), 4711.0, None, None, None],
            [None, None, None, None, None, None, "only an ignored column: not data"],
            [0.5, "AGG-G1", "2026-11-22", "DR-9", 1.0, "", None],
        ],
    )
    result = do_import(services, path, Module.DISPATCH)
    assert result.value.count == 3
    assert result.value.ignored == ("Customer name",)
    site = default_site(services)
    rows = services.records.list(
        SYSTEM,
        Module.DISPATCH,
        site.id,
        date(2026, 11, 1),
        date(2026, 11, 27),
        sort="date",
        descending=False,
    )
    assert [
        (
            r.date,
            r.ref_code,
            r.values["quantity"],
            r.values["reference"],
            r.values["trips"],
            r.values["owner"],
        )
        for r in rows
    ] == [
        (date(2026, 11, 20), "AGG-S1", Decimal("12.345"), "12345", 2, "Acme Roads"),
        (date(2026, 11, 21), "AGG-S1", Decimal("7.000"), "4711", None, ""),
        (date(2026, 11, 22), "AGG-G1", Decimal("0.500"), "DR-9", 1, ""),
    ]


def test_xlsx_bad_cells_name_the_excel_row(services: Services, tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path,
        [
            [None],
            ["Date", "Material Code", "Adjustment", "Reason"],  # header on row 2
            [datetime(2026, 11, 20), "AGG-G1", 5, "OPENING_BALANCE"],
            [datetime(2026, 11, 20, 14, 30), "AGG-G1", 0, "LOSS"],
            [None, None, None, None],
            [datetime(2026, 11, 21), "AGG-G1", "-2,5", "THEFT"],
        ],
    )
    with pytest.raises(ImportRejected) as exc:
        do_import(services, path, Module.ADJUSTMENTS)
    assert problem_lines(exc) == [
        "row 4, Date: must be a date without a time of day",
        "row 4, Adjustment: must not be 0",
        "row 6, Adjustment: '-2,5' is not a number (use digits and '.', e.g. 12.5)",
        "row 6, Reason: 'THEFT' is not one of OPENING_BALANCE, STOCK_COUNT, CORRECTION, LOSS",
    ]


def test_xlsx_imports_the_first_sheet_even_when_another_is_active(
    sqlite_services: Services, tmp_path: Path
) -> None:
    workbook = openpyxl.Workbook()
    first = workbook.active
    first.append(["Date", "Material Code", "Quantity"])
    first.append([date(2026, 11, 20), "RAW-MIXED", 3])
    workbook.create_sheet("Other").append(["nothing", "here"])
    workbook.active = 1
    path = tmp_path / "received.xlsx"
    workbook.save(path)
    assert do_import(sqlite_services, path, Module.RECEIVED).value.count == 1


# ---------------------------------------------------------------------------- paste
def test_pasted_text_with_or_without_a_header() -> None:
    with_header = "Material Code\tQuantity\tDate\tOperation\nAGG-G1\t3\t2026-11-20\tCRU-PRO\n"
    sheet = parse_tsv(with_header, Module.PRODUCTION)
    assert sheet.has_header
    assert sheet.row_numbers == (2,)
    assert sheet.rows == (
        {"material": "AGG-G1", "quantity": "3", "date": "2026-11-20", "operation": "CRU-PRO"},
    )

    # Excel quotes cells holding tabs or line breaks; no header: the module's column order.
    cells = (
        '2026-11-20\tMORNING\tCRU-PRO\tAGG-G1\t4\t"two\nlines"\r\n'
        "\r\n"
        "2026-11-21\t\tCRU-PRO\tAGG-S1\t5\n"
    )
    sheet = parse_tsv(cells, Module.PRODUCTION)
    assert not sheet.has_header
    assert sheet.row_numbers == (1, 3)
    assert sheet.rows[0]["notes"] == "two\nlines"
    assert sheet.rows[1] == {
        "date": "2026-11-21",
        "operation": "CRU-PRO",
        "material": "AGG-S1",
        "quantity": "5",
    }


def test_pasted_rows_import_through_the_same_rules(sqlite_services: Services) -> None:
    site = default_site(sqlite_services)
    service = ImportService(sqlite_services.records)
    sheet = parse_tsv("2026-11-20\tAGG-G1\t2\n2026-11-20\tAGG-G1\t-2\n", Module.RECEIVED)
    with pytest.raises(ImportRejected) as exc:
        service.import_sheet(SYSTEM, site.id, sheet)
    assert problem_lines(exc) == ["row 2, Quantity: must be greater than 0"]
    ok = parse_tsv("2026-11-20\tAGG-G1\t2\n", Module.RECEIVED)
    assert service.import_sheet(SYSTEM, site.id, ok).value.count == 1


@pytest.mark.parametrize(
    ("name", "module"),
    [
        ("production", Module.PRODUCTION),
        ("Adjustments", Module.ADJUSTMENTS),
        ("adjustment", Module.ADJUSTMENTS),
        ("MANPOWER", Module.MANPOWER),
    ],
)
def test_module_names(name: str, module: Module) -> None:
    assert module_from_name(name) is module


def test_unknown_module_name() -> None:
    with pytest.raises(ImportFileError, match="unknown module 'stock'; choose one of production"):
        module_from_name("stock")


# -------------------------------------------------------------------------- hostile
def _zip(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


HEADER = b"Date,Operation,Material Code,Quantity\n"

HOSTILE: list[tuple[str, str, bytes, str]] = [
    ("empty", "p.csv", b"", "p.csv is empty"),
    ("blank lines only", "p.csv", b"\n\n,,,\n \n", "p.csv has no rows"),
    ("header only", "p.csv", HEADER, "p.csv has no data rows below the header"),
    ("header only with blank rows", "p.csv", HEADER + b",,,\n\n", "no data rows below the header"),
    (
        "missing columns",
        "p.csv",
        b"date,quantity,UOM\n2026-11-20,1,TON\n",
        "p.csv: missing required columns Operation, Material Code for production (expected Date, "
        "Shift, Operation, Material Code, Quantity, Notes; found date, quantity, UOM)",
    ),
    (
        "semicolons",
        "p.csv",
        b"Date;Operation;Material Code;Quantity\n2026-11-20;CRU-PRO;AGG-G1;1\n",
        "the file seems to use ';' between columns",
    ),
    (
        "duplicate column",
        "p.csv",
        b"Date,Operation,Material Code,Quantity,DATE\n",
        "the column 'Date' appears twice (columns A and E)",
    ),
    ("binary garbage", "p.csv", bytes(range(256)) * 8, "p.csv is a binary file, not csv text"),
    (
        "not utf-8",
        "p.csv",
        HEADER + "2026-11-20,CRU-PRO,AGG-G1,1,café\n".encode("cp1252"),
        "p.csv is not UTF-8 text (line 2 has the byte 0xE9); in Excel use Save As > CSV UTF-8",
    ),
    ("utf-16", "p.csv", HEADER.decode().encode("utf-16"), "p.csv is UTF-16 text"),
    (
        "broken quoting",
        "p.csv",
        HEADER + b'2026-11-20,CRU-PRO,"AGG-G1"x,1\n',
        "p.csv, row 2: not valid csv",
    ),
    ("workbook named csv", "p.csv", b"PK\x03\x04" + b"\x00" * 40, "p.csv is an Excel workbook"),
    ("text named xlsx", "p.xlsx", HEADER, "p.xlsx is not an Excel workbook (.xlsx files are zip"),
    (
        "old xls",
        "p.xls",
        b"\xd0\xcf\x11\xe0" + b"\x00" * 60,
        "old Excel .xls files are not supported",
    ),
    (
        "ole named xlsx",
        "p.xlsx",
        b"\xd0\xcf\x11\xe0" + b"\x00" * 60,
        "old-format (.xls) or protected",
    ),
    ("truncated zip", "p.xlsx", b"PK\x03\x04" + b"\x01" * 60, "p.xlsx is a damaged workbook"),
    ("pdf", "p.pdf", b"%PDF-1.7\n", "unsupported file type '.pdf'; use .csv or .xlsx"),
]


@pytest.mark.parametrize(
    ("name", "content", "message"), [pytest.param(n, c, m, id=i) for i, n, c, m in HOSTILE]
)
def test_hostile_files_get_a_clear_message(
    tmp_path: Path, name: str, content: bytes, message: str
) -> None:
    path = write(tmp_path, name, content)
    with pytest.raises(ImportFileError) as exc:
        read_table(path, Module.PRODUCTION)
    assert message in str(exc.value)
    assert "\n" not in str(exc.value)


def test_zip_without_a_workbook_and_a_corrupt_workbook(tmp_path: Path) -> None:
    plain = _zip(tmp_path / "a.xlsx", {"hello.txt": b"hi"})
    with pytest.raises(ImportFileError, match="a zip archive but not an Excel workbook"):
        read_table(plain, Module.PRODUCTION)
    corrupt = _zip(
        tmp_path / "b.xlsx", {"xl/workbook.xml": b"<not xml", "[Content_Types].xml": b"?"}
    )
    with pytest.raises(ImportFileError, match=r"b.xlsx is not a readable Excel workbook \("):
        read_table(corrupt, Module.PRODUCTION)


def test_a_zip_bomb_is_refused_before_inflating(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # One highly compressible 12 MB part: refused by its compression ratio.
    bomb = _zip(
        tmp_path / "bomb.xlsx",
        {"xl/workbook.xml": b"<x/>", "xl/worksheets/sheet1.xml": b"\x00" * (12 * 1024 * 1024)},
    )
    assert bomb.stat().st_size < 100_000
    with pytest.raises(ImportFileError, match=r"unpacks to 12 MB.*zip bomb"):
        read_table(bomb, Module.PRODUCTION)
    # Or by the total it would unpack to.
    monkeypatch.setattr(imports, "MAX_XLSX_UNPACKED_BYTES", 1024)
    real = write_xlsx(tmp_path, [["Date"], [date(2026, 11, 20)]])
    with pytest.raises(ImportFileError, match="zip bomb"):
        read_table(real, Module.PRODUCTION)


def test_size_and_row_limits(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = "".join(f"2026-11-{d:02d},CRU-PRO,AGG-G1,1\n" for d in range(1, 6))
    path = write(tmp_path, "p.csv", HEADER.decode() + rows)
    monkeypatch.setattr(imports, "MAX_ROWS", 4)
    with pytest.raises(ImportFileError, match="more than 4 data rows; split it"):
        read_table(path, Module.PRODUCTION)
    monkeypatch.setattr(imports, "MAX_ROWS", 5)
    assert len(read_table(path, Module.PRODUCTION).rows) == 5
    monkeypatch.setattr(imports, "MAX_FILE_BYTES", 100)
    with pytest.raises(ImportFileError, match=r"p.csv is 0 MB; the limit is 0 MB — split it"):
        read_table(path, Module.PRODUCTION)
    with pytest.raises(ImportFileError, match="too large"):
        parse_tsv("x" * 101, Module.PRODUCTION)


def test_real_limits_are_sane() -> None:
    assert imports.MAX_FILE_BYTES == 200 * 1024 * 1024
    assert imports.MAX_ROWS == 1_000_000


def test_nul_bytes_past_the_first_block_and_in_paste(tmp_path: Path) -> None:
    filler = "".join("2026-11-20,CRU-PRO,AGG-G1,1\n" for _ in range(3000)).encode()  # > 64 KB
    path = write(tmp_path, "p.csv", HEADER + filler + b"2026-11-20,CRU-PRO,AGG\x00,1\n")
    with pytest.raises(ImportFileError, match=r"row 3002: contains binary data \(NUL\)"):
        read_table(path, Module.PRODUCTION)
    with pytest.raises(ImportFileError, match="binary data"):
        parse_tsv("a\x00b", Module.PRODUCTION)


def test_missing_file_and_folder(tmp_path: Path) -> None:
    with pytest.raises(ImportFileError, match="no such file"):
        read_table(tmp_path / "nope.csv", Module.PRODUCTION)
    folder = tmp_path / "folder.csv"
    folder.mkdir()
    with pytest.raises(ImportFileError, match="is not a file"):
        read_table(folder, Module.PRODUCTION)
