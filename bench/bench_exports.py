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
   platypus ``LongTable`` over N rows, the naive approach, to show why the writer draws per page;
4. ``--pdf-text N`` dispatch rows (default 20,000) whose customer and notes are Arabic, mixed
   Arabic/English/numbers and emoji, to pdf: with the writer's shaping (``arabic-reshaper`` +
   ``python-bidi``), with HarfBuzz shaping instead (``uharfbuzz`` through reportlab, the
   alternative that was measured; skipped when uharfbuzz is not installed), and the same rows in
   Latin text, so the ratios say what shaping costs and which shaper is faster.

``--pdf-only`` runs the pdf cases only.

Rows come from one deterministic generator (pools of dates, materials and quantities cycled), so
both sides of a comparison consume identical values and the generator cost is in both timings.
Every figure is wall time (``time.perf_counter``) of one run: on a shared machine, run it when the
machine is otherwise quiet.
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
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

from deskops_desktop.export.table import (  # noqa: E402
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


TEXT_COLUMNS = (
    Column("Date", "date", ColumnKind.DATE, 10),
    Column("Material Code", "material_code", width=14),
    Column("Owner", "owner", label="Customer"),
    Column("Quantity", "quantity", ColumnKind.QUANTITY),
    Column("Trips", "trips", ColumnKind.INTEGER),
    Column("Reference", "reference", width=10),
    Column("Notes", "notes"),
)
# What clerks at Saudi and Emirati sites type: Arabic names, names mixing scripts and numbers,
# notes with emoji, symbols and harakat. The Latin set has strings of about the same lengths.
ARABIC_CUSTOMERS = ("مؤسسة الراجحي للمقاولات", "شركة البناء الحديث", "Saudi Binladin Group",
                    "نسما للمقاولات Nesma", "مصنع جدة للخرسانة 2", "مؤسسة عبدالله الغامدي",
                    "El Seif Engineering", "شركة الطرق المتحدة")  # fmt: skip
ARABIC_NOTES = ("تسليم الموقع", "شاحنة 🚚 رقم", "توقف بسبب المطر ⚠", "Order تسليم الموقع",
                "الكمية ✓ طن", "مُحَمَّد: لا بأس")  # fmt: skip
LATIN_CUSTOMERS = ("Al Rajhi Contracting Est.", "Modern Building Company", "Saudi Binladin Group",
                   "Nesma Contracting Nesma", "Jeddah Concrete Factory 2", "Abdullah Ghamdi Est.",
                   "El Seif Engineering", "United Roads Company")  # fmt: skip
LATIN_NOTES = ("Site delivery", "Truck number", "Stopped for rain", "Order site delivery",
               "Quantity ok ton", "Mohammed: fine")  # fmt: skip


def text_table(n: int, *, arabic: bool) -> ExportTable:
    """``n`` dispatch rows; every note is new (``… 1234``), so each one is shaped afresh."""
    customers = ARABIC_CUSTOMERS if arabic else LATIN_CUSTOMERS
    notes = ARABIC_NOTES if arabic else LATIN_NOTES
    materials = [m.code for m in ref.MATERIALS]

    def rows() -> Iterator[tuple[Any, ...]]:
        for i in range(n):
            yield (START + timedelta(days=i // 40), materials[i % len(materials)],
                   customers[i % len(customers)], Decimal(5000 + (i * 7919) % 60000).scaleb(-3),
                   1 + i % 9, f"DR-{100000 + i}", f"{notes[i % len(notes)]} {i}")  # fmt: skip

    totals = TotalsTable((Column("Category", "c"), Column("Records", "n", ColumnKind.INTEGER)),
                         (("All", n),))  # fmt: skip
    return ExportTable(meta(Module.DISPATCH, n), TEXT_COLUMNS, rows(), n, lambda: totals)


def use_harfbuzz_shaping() -> None:
    """Swap the writer's shaping for HarfBuzz (uharfbuzz, through reportlab's ``shapeStr``).

    Same bidi order (python-bidi) and font fallback; Arabic runs are shaped by HarfBuzz with the
    Arabic fonts' own GSUB/GPOS instead of being replaced by presentation forms. Enough to time
    it and to look at it, not a finished writer: glyphs that have no code point get private-use
    code points in the ToUnicode map, and mirrored brackets inside an Arabic run mirror twice.
    """
    import unicodedata
    from functools import lru_cache

    import uharfbuzz  # noqa: F401  (fails early when it is not installed)
    from bidi import get_base_level, get_display
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import shapeStr

    from deskops_desktop.export import pdf_text as pt

    pt.register_fonts()
    arabic_fonts = (pt.ARABIC, pt.ARABIC_BOLD)
    for name in arabic_fonts:
        pdfmetrics.getFont(name).shapable = True
    cmaps = pt._fonts().cmaps
    plain_layout = pt.layout

    def strong_rtl(text: str) -> bool:
        return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)

    @lru_cache(maxsize=8192)
    def layout(text: str, bold: bool = False) -> pt.Line:
        if pt.plain(text):
            return plain_layout(text, bold)
        rtl = strong_rtl(text)
        visual = get_display(text) if rtl else text
        visual = "".join(ch for ch in visual if ord(ch) not in pt._INVISIBLE)
        runs = []
        for run in pt._font_runs(visual, pt.BOLD_CHAIN if bold else pt.REGULAR_CHAIN, cmaps):
            if run.font in arabic_fonts and strong_rtl(run.text):
                # The run is in visual order; HarfBuzz takes it logical and gives it back visual.
                shaped = shapeStr(run.text[::-1], run.font, 1000, force=True)
                width = sum(d.x_advance for d in shaped.__shapeData__)
                run = pt.Run(run.font, shaped, width)
            runs.append(run)
        actual = None if visual == text else text
        return pt.Line(tuple(runs), sum(r.width for r in runs), actual,
                       rtl and get_base_level(text) == 1)  # fmt: skip

    pt.layout = layout  # type: ignore[assignment]


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


def case_pdf_arabic(n: int, out: Path) -> None:
    from deskops_desktop.export.pdf_writer import write_pdf

    write_pdf(text_table(n, arabic=True), out, NullProgress())


def case_pdf_arabic_harfbuzz(n: int, out: Path) -> None:
    use_harfbuzz_shaping()
    case_pdf_arabic(n, out)


def case_pdf_latin(n: int, out: Path) -> None:
    from deskops_desktop.export.pdf_writer import write_pdf

    write_pdf(text_table(n, arabic=False), out, NullProgress())


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
    from deskops_desktop.export.rows import build_table
    from deskops_desktop.export.table import ExportQuery
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
    "pdf-arabic": case_pdf_arabic, "pdf-arabic-harfbuzz": case_pdf_arabic_harfbuzz,
    "pdf-latin": case_pdf_latin,
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
    parser.add_argument("--pdf-text", type=int, default=20_000, metavar="N",
                        help="rows of the Arabic/Latin text cases (0: skip them)")  # fmt: skip
    parser.add_argument("--pdf-only", action="store_true", help="skip the xlsx and csv cases")
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
    text_rows = args.pdf_text
    if args.quick:
        rows, pdf_rows, text_rows = 100_000, (2_000, 5_000), min(text_rows, 2_000)
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
    for case in () if args.pdf_only else ("xlsx-bare", "xlsx-deskops", "csv-bare", "csv-deskops"):
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
    if text_rows:
        text_cases = ["pdf-latin", "pdf-arabic"]
        if importlib.util.find_spec("uharfbuzz"):
            text_cases.append("pdf-arabic-harfbuzz")
        else:
            print(
                "  pdf-arabic-harfbuzz skipped: uharfbuzz is not installed (pip install uharfbuzz)"
            )
        for case in text_cases:
            results[case] = run_child(case, text_rows, folder)
            print(f"  {case:<20} {text_rows:>9,} rows {results[case]['seconds']:8.2f} s "
                  f"file {results[case]['bytes'] / 1e6:5.1f} MB", flush=True)  # fmt: skip
    small, large = (results[f"pdf-{n}"]["seconds"] for n in pdf_rows)
    pdf_ratio = large / small
    t = TARGETS
    lines: list[tuple[str, str, str, bool | None]] = []
    if not args.pdf_only:
        xlsx_ratio = results["xlsx-deskops"]["seconds"] / results["xlsx-bare"]["seconds"]
        csv_ratio = results["csv-deskops"]["seconds"] / results["csv-bare"]["seconds"]
        peak = results["xlsx-deskops"]["peak_mb"]
        lines += [
            ("xlsx vs openpyxl", f"{xlsx_ratio:.2f}x", f"<= {t['xlsx']}x", xlsx_ratio <= t["xlsx"]),
            ("xlsx peak memory", f"{peak:.0f} MB", f"< {t['xlsx_mb']:.0f} MB", peak < t["xlsx_mb"]),
            ("csv vs csv module", f"{csv_ratio:.2f}x", f"<= {t['csv']}x", csv_ratio <= t["csv"]),
        ]  # fmt: skip
    lines += [
        (f"pdf {pdf_rows[0]:,} rows", f"{small:.2f} s", f"<= {t['pdf20k_seconds']:.0f} s",
         small <= t["pdf20k_seconds"]),
        (f"pdf {pdf_rows[1]:,} / {pdf_rows[0]:,}", f"{pdf_ratio:.2f}x",
         f"<= {t['pdf_linear']}x", pdf_ratio <= t["pdf_linear"]),
    ]  # fmt: skip
    if text_rows:
        latin, arabic = results["pdf-latin"]["seconds"], results["pdf-arabic"]["seconds"]
        lines.append(("pdf Arabic / Latin text", f"{arabic / latin:.2f}x", "-", None))
        if "pdf-arabic-harfbuzz" in results:
            harfbuzz = results["pdf-arabic-harfbuzz"]["seconds"]
            lines.append(("pdf HarfBuzz / reshaper", f"{harfbuzz / arabic:.2f}x", "-", None))
    print()
    print(f"  {'measure':<26} {'result':>10}  {'target':>10}  verdict")
    for name, value, target, ok in lines:
        verdict = "" if ok is None else "ok" if ok else "MISSED"
        print(f"  {name:<26} {value:>10}  {target:>10}  {verdict}")
    folder.rmdir()


if __name__ == "__main__":
    main()
