"""Export rows against the services they come from: records, sums per period, the ledger.

Every figure is compared as a Decimal to the last digit; the files themselves are read back in
the writer and job tests.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest
from pypdf import PdfReader

from deskops_desktop.export.pdf_writer import write_pdf
from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import ExportQuery, Flavour
from deskops_desktop.export.xlsx_writer import write_xlsx
from deskops_desktop.models.enums import RECORD_MODULES, Granularity, Module
from deskops_desktop.models.errors import PermissionDenied
from deskops_desktop.models.ledger_math import period_start
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.progress import RecordingProgress
from tests.test_export_support import TODAY, Demo, demo_fixture, demo_template_fixture  # noqa: F401

FROM = TODAY - timedelta(days=45)


def query(
    demo: Demo,
    module: Module,
    granularity: Granularity = Granularity.DAILY,
    start: date = FROM,
    end: date = TODAY,
    category: str | None = None,
) -> ExportQuery:
    return ExportQuery(module, demo.site.id, start, end, granularity, category)


@pytest.mark.parametrize("module", RECORD_MODULES)
def test_daily_rows_are_the_records_with_import_headers(demo: Demo, module: Module) -> None:
    spec = SPECS[Module(module.value)]
    table = build_table(demo.services, demo.actors.admin, query(demo, module))
    rows = list(table.rows)
    headers = [c.header for c in table.columns]
    # The import headers, in order, with name columns after the reference code.
    assert [h for h in headers if h in spec.headers] == list(spec.headers)
    assert spec.reference_field.header in headers
    records = demo.services.records.list(
        demo.actors.admin, Module(module.value), demo.site.id, FROM, TODAY
    )
    assert table.row_count == len(records) == len(rows)
    by_key = defaultdict(list)
    for r in records:
        by_key[(r.date, r.ref_code)].append(r)
    index = {h: i for i, h in enumerate(headers)}
    ref_header = spec.reference_field.header

    def norm(value: object) -> object:
        return "" if value is None else value

    for row in rows:
        candidates = by_key[(row[index["Date"]], row[index[ref_header]])]
        exported = [norm(row[index[f.header]]) for f in spec.fields]
        assert exported in [[norm(r.values[f.key]) for f in spec.fields] for r in candidates], row
    # Sorted by date, then reference display order.
    dates = [row[index["Date"]] for row in rows]
    assert dates == sorted(dates)


def test_daily_totals_equal_the_sum_of_the_records(demo: Demo) -> None:
    table = build_table(demo.services, demo.actors.admin, query(demo, Module.PRODUCTION))
    index = {c.header: i for i, c in enumerate(table.columns)}
    rows = list(table.rows)
    summary = table.totals()
    assert [c.header for c in summary.columns] == [
        "Category",
        "UOM",
        "Quantity",
        "Tons",
        "Deemed tons",
        "Records",
    ]
    totals = {row[0]: row for row in summary.rows}
    by_category: dict[str, Decimal] = defaultdict(Decimal)
    tons_by_category: dict[str, Decimal] = defaultdict(Decimal)
    for row in rows:
        by_category[row[index["Category"]]] += row[index["Quantity"]]
        tons_by_category[row[index["Category"]]] += row[index["Tons"]] or 0
    for category, quantity in by_category.items():
        assert totals[category][2] == quantity
        assert totals[category][3] == tons_by_category[category]  # the rows' tons add up
        assert totals[category][-1] == sum(1 for r in rows if r[index["Category"]] == category)
    tons = sum(q for c, q in by_category.items() if c != "RAW_FEED")
    assert totals["All TON"][2] == tons


@pytest.mark.parametrize("granularity", [Granularity.WEEKLY, Granularity.MONTHLY])
@pytest.mark.parametrize("module", [Module.PRODUCTION, Module.DISPATCH, Module.MANPOWER])
def test_period_rows_sum_the_daily_rows(
    demo: Demo, module: Module, granularity: Granularity
) -> None:
    daily = build_table(demo.services, demo.actors.admin, query(demo, module))
    d_index = {c.header: i for i, c in enumerate(daily.columns)}
    spec = SPECS[Module(module.value)]
    ref_header = spec.reference_field.header
    metrics = [c.header for c in daily.columns if c.kind.value in ("quantity", "hours")]
    metrics += ["Trips"] if module is Module.DISPATCH else []
    metrics += ["Headcount"] if module is Module.MANPOWER else []
    expected: dict[tuple[date, str], list[Decimal]] = {}
    for row in daily.rows:
        key = (max(period_start(row[d_index["Date"]], granularity), FROM), row[d_index[ref_header]])
        acc = expected.setdefault(key, [Decimal(0)] * (len(metrics) + 1))
        for i, name in enumerate(metrics):
            acc[i] += row[d_index[name]] or 0
        acc[-1] += 1
    table = build_table(demo.services, demo.actors.admin, query(demo, module, granularity))
    index = {c.header: i for i, c in enumerate(table.columns)}
    got = {(r[index["Date"]], r[index[ref_header]]): r for r in table.rows}
    assert set(got) == set(expected)
    for key, acc in expected.items():
        row = got[key]
        assert [row[index[name]] for name in metrics] == acc[:-1]
        assert row[index["Records"]] == acc[-1]
        assert row[index["Date"]] >= FROM  # clipped to the range
        assert row[index["Period End"]] <= TODAY


@pytest.mark.parametrize("granularity", list(Granularity))
def test_inventory_rows_are_the_ledger(demo: Demo, granularity: Granularity) -> None:
    table = build_table(
        demo.services, demo.actors.admin, query(demo, Module.INVENTORY, granularity)
    )
    ledger = demo.services.ledger.ledger(demo.actors.admin, demo.site.id, FROM, TODAY, granularity)
    rows = list(table.rows)
    assert len(rows) == len(ledger.rows) == table.row_count
    index = {c.header: i for i, c in enumerate(table.columns)}
    for row, lr in zip(rows, ledger.rows, strict=True):
        assert row[index["Date"]] == lr.day
        assert row[index["Material Code"]] == lr.material.code
        assert (
            row[index["Opening"]],
            row[index["Produced"]],
            row[index["Received"]],
            row[index["Dispatched"]],
            row[index["Fed"]],
            row[index["Adjustment"]],
            row[index["Closing"]],
        ) == (
            lr.opening,
            lr.produced,
            lr.received,
            lr.dispatched,
            lr.fed,
            lr.adjustment,
            lr.closing,
        )
        assert row[index["Level"]] == lr.level.value
        assert (
            row[index["Closing"]]
            == row[index["Opening"]]
            + row[index["Produced"]]
            + row[index["Received"]]
            - row[index["Dispatched"]]
            - row[index["Fed"]]
            + row[index["Adjustment"]]
        )
    totals = table.totals().rows
    assert len(totals) == len(ledger.category_totals) + len(ledger.grand_totals)
    assert {t[0]: t[2:] for t in totals}["All TON"] == next(
        t.values() for t in ledger.grand_totals if t.uom == "TON"
    )


def test_powerbi_rows_are_denormalised_with_stable_keys(demo: Demo) -> None:
    q = query(demo, Module.PRODUCTION)
    table = build_table(demo.services, demo.actors.admin, q, Flavour.POWERBI)
    keys = [c.key for c in table.columns]
    assert keys == [
        "row_key",
        "site_code",
        "site_name",
        "date",
        "shift",
        "operation_code",
        "operation_name",
        "material_code",
        "material_name",
        "material_category",
        "uom",
        "quantity",
        "notes",
        "tons",
        "mass_determination",
    ]
    rows = list(table.rows)
    assert len({r[0] for r in rows}) == len(rows)
    again = [r[0] for r in build_table(demo.services, demo.actors.admin, q, Flavour.POWERBI).rows]
    assert again == [r[0] for r in rows]
    assert all(r[1] == "ALASLA-29" for r in rows)
    weekly = build_table(
        demo.services,
        demo.actors.admin,
        query(demo, Module.INVENTORY, Granularity.WEEKLY),
        Flavour.POWERBI,
    )
    wkeys = [r[0] for r in weekly.rows]
    assert len(set(wkeys)) == len(wkeys)
    assert wkeys[0].startswith("ALASLA-29|weekly|")


def test_category_filter_and_site_access(demo: Demo) -> None:
    table = build_table(
        demo.services, demo.actors.admin, query(demo, Module.PRODUCTION, category="FINE")
    )
    categories = {row[5] for row in table.rows}
    assert categories == {"FINE"}
    other = demo.services.master.add_site(demo.actors.admin, "RUH-01", "Riyadh East").value
    with pytest.raises(PermissionDenied):
        build_table(
            demo.services,
            demo.actors.operator,
            query(demo, Module.PRODUCTION).__class__(Module.PRODUCTION, other.id, FROM, TODAY),
        )


def test_inventory_xlsx_and_pdf_equal_the_ledger(demo: Demo, tmp_path: Path) -> None:
    q = query(demo, Module.INVENTORY, start=TODAY - timedelta(days=6))
    ledger = demo.services.ledger.ledger(demo.actors.admin, demo.site.id, q.date_from, TODAY)
    xlsx = write_xlsx(
        build_table(demo.services, demo.actors.admin, q), tmp_path / "i.xlsx", RecordingProgress()
    )
    ws = openpyxl.load_workbook(xlsx.path)["Inventory"]
    header, *body = ws.iter_rows(values_only=True)
    closing = header.index("Closing")
    assert header[closing - 2 : closing] == ("Fed", "Adjustment")
    closings = [Decimal(str(r[closing])) for r in body]
    assert closings == [r.closing for r in ledger.rows]
    pdf = write_pdf(
        build_table(demo.services, demo.actors.admin, q), tmp_path / "i.pdf", RecordingProgress()
    )
    text = " ".join(" ".join((p.extract_text() or "").split()) for p in PdfReader(pdf.path).pages)
    for r in ledger.rows[:40]:
        assert f"{r.material.code} {r.material.name}" in text
        assert f"{r.closing:,.3f} {r.level.value}" in text


def test_reports_use_form_labels_where_files_keep_import_headers(demo: Demo) -> None:
    table = build_table(demo.services, demo.actors.admin, query(demo, Module.DISPATCH))
    headers = [c.header for c in table.columns]
    titles = [c.title for c in table.columns]
    assert "Owner" in headers  # csv/xlsx: the import contract
    assert "Customer" in titles  # pdf: what the clerk's form says
    assert titles[headers.index("Reference")] == "DR No."
