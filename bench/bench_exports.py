"""Export benchmark: DeskOps writers against the bare libraries doing the same work, same run.

Usage: ``.venv/bin/python bench/bench_exports.py [--rows 1000000] [--pdf-rows 20000 50000]``
(``--quick`` runs 100,000 / 2,000 / 5,000 rows to check the script itself).

What it measures (issue 5, "Benchmarks"), each case in a fresh child process so its peak memory
(``ru_maxrss``) is its own:

1. a daily production export of ``--rows`` rows to xlsx with ``write_xlsx`` (styled header, frozen
   pane, auto-filter, number formats, widths, Summary sheet, injection guard), against plain
   openpyxl write-only mode (lxml installed) appending the *same values* (dates, text, Decimals)
   and saving; target: ≤ 1.25x the bare time and peak memory < 300 MB;
2. the same rows to csv with ``write_csv`` (BOM, CRLF, guard) against ``csv.writer`` writing the
   same row tuples; target ≤ 1.5x;
3. ``--pdf-rows`` inventory rows (20,000 and 50,000) to pdf with ``write_pdf``; targets: 20k in
   ≤ 10 s, and 50k ≤ 2.7x the 20k time (linear). ``--pdf-reference N`` also times one reportlab
   platypus ``LongTable`` over N rows, the naive approach, to show why the writer draws per page.

Rows come from one deterministic generator (pools of dates, materials and quantities cycled), so
both sides of a comparison consume identical values and the generator cost is in both timings.
Every figure is wall time (``time.perf_counter``) of one run: on a shared machine, run it when the
machine is otherwise quiet.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from deskops_desktop.export.rows import (  # noqa: E402
    Column,
    ColumnKind,
    ExportMeta,
    ExportTable,
    TotalsTable,
)
from deskops_desktop.models import reference_data as ref  # noqa: E402
from deskops_desktop.models.enums import Granularity, Module  # noqa: E402
from deskops_desktop.models.progress import NullProgress  # noqa: E402

TARGETS = {"xlsx": 1.25, "csv": 1.5, "pdf20k_seconds": 10.0, "pdf_linear": 2.7, "xlsx_mb": 300.0}
START = date(2000, 1, 1)
SHIFTS = ("MORNING", "AFTERNOON", "NIGHT")
OPERATIONS = ("CRU-PRO", "CRU-PRO", "SEG-OP", "CRU-OP")
NOTES = (None, None, None, "belt change", "rain, stopped 2 h", "-5 t short (weighbridge)", None,
         'supervisor said "ok"', None, "كسارة متوقفة")  # fmt: skip

PRODUCTION_COLUMNS = (
    Column("Date", "date", ColumnKind.DATE, 10),
    Column("Shift", "shift", width=9, guard=False),
    Column("Operation", "operation", width=9, guard=False),
    Column("Material Code", "material_code", width=14),
    Column("Material Name", "material_name", width=19),
    Column("Category", "material_category", width=14, guard=False),
    Column("UOM", "uom", width=4, guard=False),
    Column("Quantity", "quantity", ColumnKind.QUANTITY),
    Column("Notes", "notes"),
)


def production_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """``n`` daily production rows: per day every shift x material x operation combination."""
    materials = [(m.code, m.name, m.category, m.uom) for m in ref.MATERIALS]
    quantities = [Decimal(5000 + (i * 7919) % 60000).scaleb(-3) for i in range(4096)]
    per_day = len(SHIFTS) * len(materials) * len(OPERATIONS)
    day = START
    for i in range(n):
        if i % per_day == 0 and i:
            day += timedelta(days=1)
        k = i % per_day
        code, name, category, uom = materials[(k // 3) % len(materials)]
        yield (day, SHIFTS[k % 3], OPERATIONS[k // (3 * len(materials))], code, name, category, uom,
               quantities[i & 4095], NOTES[i % len(NOTES)])  # fmt: skip


def meta(module: Module, n: int) -> ExportMeta:
    end = START + timedelta(days=max(n // 216, 1))
    return ExportMeta(module, Granularity.DAILY, "ALASLA-29", "Al Asla Recycling Facility",
                      "Asia/Riyadh", START, end, datetime.now(UTC), "bench",
                      (("Granularity", "Daily"),))  # fmt: skip


def production_table(n: int) -> ExportTable:
    totals = TotalsTable((Column("Category", "c"), Column("Records", "n", ColumnKind.INTEGER)),
                         (("All", n),))  # fmt: skip
    return ExportTable(meta(Module.PRODUCTION, n), PRODUCTION_COLUMNS, production_rows(n), n,
                       lambda: totals)  # fmt: skip


INVENTORY_COLUMNS = (
    Column("Date", "date", ColumnKind.DATE, 10),
    Column("Material Code", "material_code", width=14),
    Column("Material Name", "material_name", width=19),
    Column("Category", "material_category", width=14),
    Column("UOM", "uom", width=4),
    *(Column(n, n.lower(), ColumnKind.QUANTITY)
      for n in ("Opening", "Produced", "Received", "Dispatched", "Adjustment", "Closing")),
    Column("Level", "level", ColumnKind.LEVEL, 7),
    Column("Low Threshold", "low_threshold", ColumnKind.QUANTITY),
    Column("High Threshold", "high_threshold", ColumnKind.QUANTITY),
)  # fmt: skip


def inventory_table(n: int) -> ExportTable:
    """``n`` ledger rows (17 materials per day) with balances that swing across the levels."""
    materials = list(ref.MATERIALS)
    low, high = Decimal("100.000"), Decimal("500.000")

    def rows() -> Iterator[tuple[Any, ...]]:
        balance = [Decimal("250.000")] * len(materials)
        for i in range(n):
            mi = i % len(materials)
            day = START + timedelta(days=i // len(materials))
            m = materials[mi]
            produced = Decimal((i * 37) % 90_000).scaleb(-3)
            dispatched = Decimal((i * 53) % 95_000).scaleb(-3)
            opening = balance[mi]
            closing = opening + produced - dispatched
            balance[mi] = closing
            level = "LOW" if closing < low else "WARNING" if closing <= high else "HEALTHY"
            zero = Decimal("0.000")
            yield (day, m.code, m.name, m.category, m.uom, opening, produced, zero, dispatched,
                   zero, closing, level, low, high)  # fmt: skip

    totals = TotalsTable(
        (Column("Category", "c"), Column("UOM", "u"), Column("Closing", "x", ColumnKind.QUANTITY)),
        (("AGGREGATES", "TON", Decimal("1.000")), ("All TON", "TON", Decimal("1.000"))),
    )
    return ExportTable(meta(Module.INVENTORY, n), INVENTORY_COLUMNS, rows(), n,
                       lambda: totals, (10, 12, 13))  # fmt: skip


# ---------------------------------------------------------------------------------- cases
def case_xlsx_bare(n: int, out: Path) -> None:
    from openpyxl import Workbook

    wb = Workbook(write_only=True)
    ws = wb.create_sheet("Production")
    ws.append([c.header for c in PRODUCTION_COLUMNS])
    for row in production_rows(n):
        ws.append(row)
    wb.save(out)


def case_xlsx_deskops(n: int, out: Path) -> None:
    from deskops_desktop.export.xlsx_writer import write_xlsx

    write_xlsx(production_table(n), out, NullProgress())


def case_csv_bare(n: int, out: Path) -> None:
    with out.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow([c.header for c in PRODUCTION_COLUMNS])
        for row in production_rows(n):
            writer.writerow(row)


def case_csv_deskops(n: int, out: Path) -> None:
    from deskops_desktop.export.csv_writer import write_csv

    write_csv(production_table(n), out, NullProgress())


def case_pdf_deskops(n: int, out: Path) -> None:
    from deskops_desktop.export.pdf_writer import write_pdf

    write_pdf(inventory_table(n), out, NullProgress())


def case_pdf_longtable(n: int, out: Path) -> None:
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.units import mm
    from reportlab.platypus import LongTable, SimpleDocTemplate

    data: list[list[Any]] = [[c.header for c in INVENTORY_COLUMNS]]
    data += [[str(v) for v in row] for row in inventory_table(n)._rows]
    margin = 16 * mm
    doc = SimpleDocTemplate(str(out), pagesize=landscape(A4), leftMargin=margin,
                            rightMargin=margin, topMargin=margin, bottomMargin=margin)  # fmt: skip
    table = LongTable(data, repeatRows=1)
    doc.build([table])


# ------------------------------------------------------------------- end to end (database)
E2E_DAYS = 3660  # the ledger's longest range (10 years): 204 rows a day, about 747,000 rows


def e2e_store_path() -> Path:
    return Path(tempfile.gettempdir()) / "deskops-bench-exports" / "e2e.sqlite3"


def ensure_e2e_store() -> Path:
    """One site with every shift x material x operation produced every day for 10 years.

    Inserted with raw ``executemany`` (a million service calls would take an hour); production
    does not touch the stock ledger's export path, so ``stock_days`` is left empty.
    """
    import sqlite3

    from deskops_desktop.models.ids import new_id
    from deskops_desktop.services.store import open_store

    path = e2e_store_path()
    if path.exists():
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".building")
    tmp.unlink(missing_ok=True)
    open_store(f"sqlite:///{tmp}").dispose()
    con = sqlite3.connect(tmp)
    site_id = con.execute("SELECT id FROM sites").fetchone()[0]
    materials = [r[0] for r in con.execute("SELECT id FROM materials ORDER BY sort_order")]
    now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
    first = date(2010, 1, 1)
    rows = []
    for d in range(E2E_DAYS):
        day = (first + timedelta(days=d)).isoformat()
        for k, (shift, material, op) in enumerate(
            (s, m, o)
            for s in SHIFTS
            for m in materials
            for o in ("CRU-PRO", "CRU-DIS", "SEG-OP", "CRU-OP")
        ):
            note = NOTES[(d + k) % len(NOTES)] or ""
            rows.append((new_id(), site_id, day, shift, material, 5000 + (d * 7919 + k) % 60000,
                         op, note, now, now))  # fmt: skip
        if len(rows) >= 100_000:
            _insert(con, rows)
            rows.clear()
    _insert(con, rows)
    con.commit()
    con.close()
    tmp.rename(path)
    return path


def _insert(con: Any, rows: list[tuple[Any, ...]]) -> None:
    con.executemany(
        "INSERT INTO production (id, site_id, date, shift, material_id, quantity, operation, notes,"
        " created_at, updated_at, version) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)",
        rows,
    )


def _e2e_table(out: Path) -> tuple[Any, ExportTable]:
    from deskops_desktop.export.rows import ExportQuery, build_table
    from deskops_desktop.services.access import SYSTEM
    from deskops_desktop.services.bundle import build_services
    from deskops_desktop.services.store import Store

    store = Store(f"sqlite:///{e2e_store_path()}")
    services = build_services(store)
    site = services.master.sites(SYSTEM)[0]
    query = ExportQuery(Module.PRODUCTION, site.id, date(2010, 1, 1),
                        date(2010, 1, 1) + timedelta(days=E2E_DAYS - 1))  # fmt: skip
    return store, build_table(services, SYSTEM, query)


def case_e2e_xlsx(n: int, out: Path) -> None:
    from deskops_desktop.export.xlsx_writer import write_xlsx

    store, table = _e2e_table(out)
    write_xlsx(table, out, NullProgress())
    store.dispose()


def case_e2e_csv(n: int, out: Path) -> None:
    from deskops_desktop.export.csv_writer import write_csv

    store, table = _e2e_table(out)
    write_csv(table, out, NullProgress())
    store.dispose()


CASES = {
    "xlsx-bare": case_xlsx_bare, "xlsx-deskops": case_xlsx_deskops,
    "csv-bare": case_csv_bare, "csv-deskops": case_csv_deskops,
    "pdf-deskops": case_pdf_deskops, "pdf-longtable": case_pdf_longtable,
    "e2e-xlsx": case_e2e_xlsx, "e2e-csv": case_e2e_csv,
}  # fmt: skip


def run_child(case: str, n: int, folder: Path) -> dict[str, float]:
    """Run one case in a fresh interpreter; returns seconds, peak MB and file size."""
    out = folder / f"{case}-{n}.{case.split('-')[0]}"
    cmd = [sys.executable, __file__, "--child", case, "--n", str(n), "--out", str(out)]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    data: dict[str, float] = json.loads(result.stdout.strip().splitlines()[-1])
    out.unlink(missing_ok=True)
    return data


def child(case: str, n: int, out: Path) -> None:
    started = time.perf_counter()
    CASES[case](n, out)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": peak_kb / 1024, "bytes": out.stat().st_size}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--pdf-rows", type=int, nargs=2, default=(20_000, 50_000))
    parser.add_argument("--pdf-reference", type=int, default=0, metavar="N")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument(
        "--e2e", action="store_true",
        help="only the end-to-end cases: a 10-year, ~747,000-row production export read from "
        "a SQLite store through build_table (the store is generated once in the temp folder)",
    )  # fmt: skip
    parser.add_argument("--child", choices=sorted(CASES))
    parser.add_argument("--n", type=int)
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.n, args.out)
        return
    rows, pdf_rows = args.rows, tuple(args.pdf_rows)
    if args.quick:
        rows, pdf_rows = 100_000, (2_000, 5_000)
    print(f"DeskOps export benchmark · Python {platform.python_version()} · {platform.machine()} · "
          f"{os.cpu_count()} CPUs · load {os.getloadavg()[0]:.1f}")  # fmt: skip
    folder = Path(tempfile.mkdtemp(prefix="deskops-bench-exports-"))
    results: dict[str, dict[str, float]] = {}
    if args.e2e:
        started = time.perf_counter()
        ensure_e2e_store()
        print(f"  e2e store ready in {time.perf_counter() - started:.0f} s: {e2e_store_path()}")
        rows_in_store = E2E_DAYS * 3 * len(ref.MATERIALS) * 4
        for case in ("e2e-csv", "e2e-xlsx"):
            r = run_child(case, rows_in_store, folder)
            print(f"  {case:<14} {rows_in_store:>9,} rows {r['seconds']:8.2f} s "
                  f"({rows_in_store / r['seconds']:,.0f} rows/s) peak {r['peak_mb']:6.0f} MB "
                  f"file {r['bytes'] / 1e6:,.0f} MB", flush=True)  # fmt: skip
        folder.rmdir()
        return
    for case in ("xlsx-bare", "xlsx-deskops", "csv-bare", "csv-deskops"):
        results[case] = run_child(case, rows, folder)
        print(f"  {case:<14} {rows:>9,} rows {results[case]['seconds']:8.2f} s "
              f"peak {results[case]['peak_mb']:6.0f} MB", flush=True)  # fmt: skip
    for n in pdf_rows:
        results[f"pdf-{n}"] = run_child("pdf-deskops", n, folder)
        print(f"  pdf-deskops    {n:>9,} rows {results[f'pdf-{n}']['seconds']:8.2f} s", flush=True)
    if args.pdf_reference:
        ref_case = run_child("pdf-longtable", args.pdf_reference, folder)
        print(f"  pdf-longtable  {args.pdf_reference:>9,} rows {ref_case['seconds']:8.2f} s "
              "(platypus LongTable over all rows, for reference)")  # fmt: skip
    xlsx_ratio = results["xlsx-deskops"]["seconds"] / results["xlsx-bare"]["seconds"]
    csv_ratio = results["csv-deskops"]["seconds"] / results["csv-bare"]["seconds"]
    small, large = (results[f"pdf-{n}"]["seconds"] for n in pdf_rows)
    pdf_ratio = large / small
    peak = results["xlsx-deskops"]["peak_mb"]
    t = TARGETS
    lines = [
        ("xlsx vs openpyxl", f"{xlsx_ratio:.2f}x", f"<= {t['xlsx']}x", xlsx_ratio <= t["xlsx"]),
        ("xlsx peak memory", f"{peak:.0f} MB", f"< {t['xlsx_mb']:.0f} MB", peak < t["xlsx_mb"]),
        ("csv vs csv module", f"{csv_ratio:.2f}x", f"<= {t['csv']}x", csv_ratio <= t["csv"]),
        (f"pdf {pdf_rows[0]:,} rows", f"{small:.2f} s", f"<= {t['pdf20k_seconds']:.0f} s",
         small <= t["pdf20k_seconds"]),
        (f"pdf {pdf_rows[1]:,} / {pdf_rows[0]:,}", f"{pdf_ratio:.2f}x",
         f"<= {t['pdf_linear']}x", pdf_ratio <= t["pdf_linear"]),
    ]  # fmt: skip
    print()
    print(f"  {'measure':<26} {'result':>10}  {'target':>10}  verdict")
    for name, value, target, ok in lines:
        print(f"  {name:<26} {value:>10}  {target:>10}  {'ok' if ok else 'MISSED'}")
    folder.rmdir()


if __name__ == "__main__":
    main()
