"""Import benchmark: xlsx read by python-calamine and by openpyxl, and whole imports, one run.

Usage: ``.venv/bin/python bench/bench_imports.py [--rows 100000] [--reps 3] [--no-calc]``
(about 6 minutes; ``--quick`` runs 10,000 rows once, to check the script itself).

Issue 14: take python-calamine for reading imports if it reads at least 3x faster than openpyxl
with identical cell values (the values are proven by tests/test_xlsx_reading.py; here they are
checked again on the generated files). Measured on the same files, in one run:

1. **read, cells only**: every cell of the first sheet, nothing else. openpyxl read-only with
   cached values (``iter_rows(values_only=True)``, what DeskOps read with before) against
   python-calamine (``iter_rows()``). The issue's ratio.
2. **read_xlsx**: DeskOps's reader, cells mapped onto the module's columns (``SheetData``):
   before (openpyxl, as on main), now (the sheet scan, calamine and openpyxl's values), and
   now with calamine disabled (the fallback openpyxl reader, which also marks error cells).
   The scan (one pass over the sheet's XML before calamine may read it) is also timed alone.
3. **import**: ``ImportService.import_file``, what ``deskops import`` runs (read, validate every
   row, write all in one transaction) into a fresh SQLite store, for the csv of the same rows
   (reference), the xlsx read as before (openpyxl), and the xlsx read now (calamine).

The files: a production and a dispatch table of ``--rows`` rows from one seeded generator
(dates as date-formatted numbers, quantities as numbers with up to 3 decimals and a
``#,##0.000`` format, text with leading zeros such as "007" and "00123", empty cells), written
by openpyxl and then opened and saved again by LibreOffice Calc when ``soffice`` is installed, so
they hold what a spreadsheet application writes (shared strings, styles); ``--no-calc`` keeps
openpyxl's files. They are built once into ``$TMPDIR/deskops-bench/imports/`` (never inside the
repository) and reused while their ``.meta.json`` matches.

Each read runs in a fresh child process, so its peak memory (``ru_maxrss``) is its own; the
cases take turns rep by rep, so changing machine load hits each alike, and the figure is the
median. The imports run in this process, each into a fresh copy of one migrated store, with the
clock pinned to 2026-11-27 (no date in the files is later). openpyxl runs without lxml
(``OPENPYXL_LXML=False``), as in the frozen app, which does not ship lxml.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENPYXL_LXML", "False")  # before openpyxl is imported anywhere

import argparse
import csv
import gc
import hashlib
import json
import platform
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime, timedelta
from importlib.metadata import version
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from deskops_desktop.models import reference_data as ref  # noqa: E402
from deskops_desktop.models.clock import FixedClock  # noqa: E402
from deskops_desktop.models.enums import Module  # noqa: E402
from deskops_desktop.services import imports  # noqa: E402
from deskops_desktop.services.access import SYSTEM  # noqa: E402
from deskops_desktop.services.bundle import build_services  # noqa: E402
from deskops_desktop.services.imports import ImportService, SheetData  # noqa: E402
from deskops_desktop.services.store import Store, open_store  # noqa: E402

GENERATOR_VERSION = 1  # bump when the files change, so old ones are rebuilt
SEED = 14
TARGET_RATIO = 3.0
FOLDER = Path(tempfile.gettempdir()) / "deskops-bench" / "imports"
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
START = date(2023, 1, 1)
MATERIALS = [m.code for m in ref.MATERIALS if m.code.split("-")[0] != "RAW"]
SHIFTS = ("MORNING", "AFTERNOON", "NIGHT")
OPERATIONS = ("CRU-PRO", "CRU-OP")
NOTES = (None, None, None, None, "007", "belt change", "rain, stopped 2 h", "كسارة متوقفة")
OWNERS = ("Acme Roads", "007 Trading", "Gulf Builders", None)
HEADERS = {
    Module.PRODUCTION: ("Date", "Shift", "Operation", "Material Code", "Quantity", "Notes"),
    Module.DISPATCH: (
        "Date", "Reference", "Material Code", "Quantity", "Trips", "Owner", "Operation", "Notes",
    ),
}  # fmt: skip
QUANTITY_FORMAT = "#,##0.000"


# ---------------------------------------------------------------------------- the files
def production_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """One record per day x shift x operation x material; every 50th without a shift."""
    rnd = random.Random(SEED)
    per_day = len(SHIFTS) * len(OPERATIONS) * len(MATERIALS)
    for i in range(n):
        day, j = divmod(i, per_day)
        shift = SHIFTS[j // (len(OPERATIONS) * len(MATERIALS))]
        operation = OPERATIONS[j // len(MATERIALS) % len(OPERATIONS)]
        quantity = rnd.randint(1, 999_999) / 1000  # up to 3 decimals, as typed
        yield (START + timedelta(days=day), None if i % 50 == 0 else shift, operation,
               MATERIALS[j % len(MATERIALS)], quantity, rnd.choice(NOTES))  # fmt: skip


def dispatch_rows(n: int) -> Iterator[tuple[Any, ...]]:
    """100 truck loads a day; references as text with leading zeros, some typed as numbers."""
    rnd = random.Random(SEED + 1)
    for i in range(n):
        reference: object = f"{i:07d}" if i % 3 else 100_000 + i  # "0000123" or 100123
        trips = None if i % 7 == 0 else rnd.randint(1, 3)
        operation = None if i % 4 == 0 else "CRU-PRO"
        yield (START + timedelta(days=i // 100), reference, rnd.choice(MATERIALS),
               rnd.randint(5_000, 30_000) / 1000, trips, rnd.choice(OWNERS), operation,
               rnd.choice(NOTES))  # fmt: skip


ROWS: dict[Module, Callable[[int], Iterator[tuple[Any, ...]]]] = {
    Module.PRODUCTION: production_rows,
    Module.DISPATCH: dispatch_rows,
}


@dataclass(frozen=True)
class Meta:
    generator: int
    rows: int
    calc: str  # LibreOffice's version line, or "" for openpyxl's own file

    @classmethod
    def read(cls, path: Path) -> Meta | None:
        try:
            return cls(**json.loads(path.read_text()))
        except (OSError, ValueError, TypeError):
            return None


def write_xlsx(module: Module, n: int, path: Path) -> None:
    import openpyxl
    from openpyxl.cell import WriteOnlyCell

    workbook = openpyxl.Workbook(write_only=True)
    sheet = workbook.create_sheet(module.value.title())
    sheet.append(list(HEADERS[module]))
    quantity_at = HEADERS[module].index("Quantity")
    for row in ROWS[module](n):
        cells: list[object] = list(row)
        date_cell = WriteOnlyCell(sheet, row[0])
        date_cell.number_format = "yyyy-mm-dd"
        quantity_cell = WriteOnlyCell(sheet, row[quantity_at])
        quantity_cell.number_format = QUANTITY_FORMAT
        cells[0], cells[quantity_at] = date_cell, quantity_cell
        sheet.append(cells)
    workbook.save(path)


def write_csv(module: Module, n: int, path: Path) -> None:
    """The same rows as a clerk's csv: dates ISO, numbers as typed, empty cells empty."""
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(HEADERS[module])
        for row in ROWS[module](n):
            writer.writerow(["" if v is None else v for v in row])


def calc_version() -> str:
    soffice = shutil.which("soffice")
    if soffice is None:
        return ""
    result = subprocess.run([soffice, "--version"], capture_output=True, text=True, check=False)
    return result.stdout.strip() or "LibreOffice"


def save_with_calc(source: Path, target: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run(
            ["soffice", f"-env:UserInstallation=file://{tmp}/profile", "--headless", "--calc",
             "--convert-to", "xlsx:Calc MS Excel 2007 XML", "--outdir", tmp, str(source)],
            check=True, capture_output=True,
        )  # fmt: skip
        shutil.move(Path(tmp) / source.name, target)


def ensure_files(n: int, use_calc: bool) -> tuple[dict[Module, tuple[Path, Path]], Meta]:
    """The xlsx and csv of each module, built unless the meta says they are already there."""
    FOLDER.mkdir(parents=True, exist_ok=True)
    meta = Meta(GENERATOR_VERSION, n, calc_version() if use_calc else "")
    files = {m: (FOLDER / f"{m.value}-{n}.xlsx", FOLDER / f"{m.value}-{n}.csv") for m in ROWS}
    meta_file = FOLDER / f"files-{n}.meta.json"
    if Meta.read(meta_file) == meta and all(p.exists() for pair in files.values() for p in pair):
        return files, meta
    meta_file.unlink(missing_ok=True)
    for module, (xlsx, csv_path) in files.items():
        started = time.perf_counter()
        write_csv(module, n, csv_path)
        raw = xlsx.with_name(f"raw-{xlsx.name}")
        write_xlsx(module, n, raw)
        if meta.calc:
            save_with_calc(raw, raw.with_name(f"calc-{xlsx.name}"))
            raw.unlink()
            raw = raw.with_name(f"calc-{xlsx.name}")
        raw.replace(xlsx)
        print(f"  built {xlsx.name} and {csv_path.name} in {time.perf_counter() - started:.0f} s")
    meta_file.write_text(json.dumps(asdict(meta)))
    return files, meta


# ----------------------------------------------------------------------------- the reads
def read_openpyxl_cells(path: Path) -> tuple[int, int]:
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    sheet = workbook.worksheets[0]
    sheet.reset_dimensions()
    rows = cells = 0
    for row in sheet.iter_rows(values_only=True):
        rows += 1
        cells += sum(v is not None for v in row)
    workbook.close()
    return rows, cells


def read_calamine_cells(path: Path) -> tuple[int, int]:
    import python_calamine

    with python_calamine.CalamineWorkbook.from_path(path) as workbook:
        sheet = workbook.get_sheet_by_index(0)
    rows = cells = 0
    for row in sheet.iter_rows():
        rows += 1
        cells += sum(v != "" for v in row)
    return rows, cells


def read_xlsx_before(path: Path, module: Module) -> SheetData:
    """``read_xlsx`` as it was on main before calamine: openpyxl, values only."""
    import openpyxl

    imports._check_file(path)
    imports._check_zip(path)
    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = workbook.worksheets[0]
        sheet.reset_dimensions()
        rows = sheet.iter_rows(min_row=1, min_col=1, values_only=True)
        return imports._guarded_rows(rows, module, name=path.name, header_optional=False)
    finally:
        workbook.close()


def read_xlsx_fallback(path: Path, module: Module) -> SheetData:
    imports._calamine_rows = lambda file: None  # only in this child process: openpyxl reads
    return imports.read_xlsx(path, module)


def scan_only(path: Path) -> bool:
    """The XML pass that decides whether calamine may read the sheet (part of "now")."""
    import python_calamine

    with python_calamine.CalamineWorkbook.from_path(path) as workbook:
        names = workbook.sheet_names
    return imports._scan_sheet(path, names[0], names)


def digest(sheet: SheetData) -> str:
    return hashlib.sha256(repr((sheet.rows, sheet.row_numbers, sheet.ignored)).encode()).hexdigest()


READS: dict[str, Callable[[Path, Module], object]] = {
    "cells: openpyxl": lambda path, module: read_openpyxl_cells(path),
    "cells: calamine": lambda path, module: read_calamine_cells(path),
    "read_xlsx: before (openpyxl)": lambda path, module: digest(read_xlsx_before(path, module)),
    "read_xlsx: now (calamine)": lambda path, module: digest(imports.read_xlsx(path, module)),
    "read_xlsx: now, fallback (openpyxl)": lambda p, m: digest(read_xlsx_fallback(p, m)),
    "scan of the sheet's XML": lambda path, module: scan_only(path),
}


def child(case: str, path: Path, module: Module) -> None:
    import openpyxl  # noqa: F401 - imported before timing, as in a running app
    import python_calamine  # noqa: F401

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    gc.collect()
    started = time.perf_counter()
    check = READS[case](path, module)
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"seconds": seconds, "peak_mb": (peak - before) / 1024, "check": check}))


def run_child(case: str, path: Path, module: Module) -> dict[str, Any]:
    cmd = [sys.executable, __file__, "--child", case, "--file", str(path), "--module", module]
    result = subprocess.run(cmd, check=True, capture_output=True, text=True)
    data: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return data


# --------------------------------------------------------------------------- the imports
def import_csv(services: Any, site_id: str, module: Module, xlsx: Path, csv_path: Path) -> int:
    return (
        ImportService(services.records).import_file(SYSTEM, module, site_id, csv_path).value.count
    )


def import_xlsx_before(services: Any, site_id: str, module: Module, xlsx: Path, _: Path) -> int:
    sheet = read_xlsx_before(xlsx, module)
    return ImportService(services.records).import_sheet(SYSTEM, site_id, sheet).value.count


def import_xlsx_now(services: Any, site_id: str, module: Module, xlsx: Path, _: Path) -> int:
    return ImportService(services.records).import_file(SYSTEM, module, site_id, xlsx).value.count


IMPORTS = {
    "import: csv": import_csv,
    "import: xlsx before (openpyxl)": import_xlsx_before,
    "import: xlsx now (calamine)": import_xlsx_now,
}


def stored(services: Any, site_id: str, module: Module) -> str:
    """A digest of every stored record of the site, to compare the imports."""
    records = services.records.list(SYSTEM, module, site_id, START, NOW.date(), sort="date")
    rows = sorted(repr((r.date, r.ref_code, sorted(r.values.items()))) for r in records)
    return hashlib.sha256("\n".join(rows).encode()).hexdigest()


def timed_import(template: Path, work: Path, case: str, module: Module,
                 files: tuple[Path, Path], check: bool) -> tuple[float, str]:  # fmt: skip
    shutil.copyfile(template, work)
    store = Store(f"sqlite:///{work}", clock=FixedClock(NOW))
    services = build_services(store)
    site = services.master.site_by_code(SYSTEM, ref.DEFAULT_SITE_CODE)
    gc.collect()
    started = time.perf_counter()
    IMPORTS[case](services, site.id, module, *files)
    seconds = time.perf_counter() - started
    result = stored(services, site.id, module) if check else ""
    store.dispose()
    return seconds, result


# ------------------------------------------------------------------------------ reporting
def fmt(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms" if seconds < 1 else f"{seconds:.2f} s"


def span(values: list[float]) -> str:
    return f"{fmt(min(values))}-{fmt(max(values))}"


def table(header: tuple[str, ...], lines: list[tuple[str, ...]]) -> str:
    """A markdown table, first column left-aligned, the others right-aligned."""
    widths = [max(len(row[k]) for row in [header, *lines]) for k in range(len(header))]

    def cells(row: tuple[str, ...]) -> str:
        pairs = enumerate(zip(row, widths, strict=True))
        padded = [c.ljust(w) if k == 0 else c.rjust(w) for k, (c, w) in pairs]
        return "| " + " | ".join(padded) + " |"

    rule = "|" + "|".join("-" * (w + 1) + ("-" if k == 0 else ":") for k, w in enumerate(widths))
    return "\n".join([cells(header), rule + "|", *(cells(row) for row in lines)])


def measure_reads(files: dict[Module, tuple[Path, Path]], reps: int) -> dict[Any, list[Any]]:
    reads: dict[tuple[Module, str], list[dict[str, Any]]] = {}
    for _ in range(reps):
        for module, (xlsx, _csv) in files.items():
            for case in READS:
                reads.setdefault((module, case), []).append(run_child(case, xlsx, module))
    return reads


def measure_imports(
    files: dict[Module, tuple[Path, Path]], reps: int
) -> tuple[dict[Any, list[float]], dict[Any, str]]:
    seconds: dict[tuple[Module, str], list[float]] = {}
    digests: dict[tuple[Module, str], str] = {}
    with tempfile.TemporaryDirectory(prefix="deskops-bench-imports-") as tmp:
        template = Path(tmp) / "template.sqlite3"
        open_store(f"sqlite:///{template}").dispose()
        work = Path(tmp) / "work.sqlite3"
        for rep in range(reps):
            for module, pair in files.items():
                for case in IMPORTS:
                    took, check = timed_import(template, work, case, module, pair, rep == 0)
                    seconds.setdefault((module, case), []).append(took)
                    if check:
                        digests[(module, case)] = check
    return seconds, digests


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--no-calc", action="store_true", help="keep openpyxl's own files")
    parser.add_argument("--quick", action="store_true", help="10,000 rows, one repetition")
    parser.add_argument("--child", choices=sorted(READS))
    parser.add_argument("--file", type=Path)
    parser.add_argument("--module", type=Module)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.file, args.module)
        return
    rows, reps = (10_000, 1) if args.quick else (args.rows, args.reps)

    import openpyxl

    print(f"\nDeskOps import benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    load_start = os.getloadavg()[0]
    files, meta = ensure_files(rows, use_calc=not args.no_calc)
    made_by = f"saved by {meta.calc}" if meta.calc else "written by openpyxl (--no-calc)"
    print(f"  files: {rows:,} rows each in {FOLDER}, {made_by}")
    for xlsx, csv_path in files.values():
        print(f"    {xlsx.name}: {xlsx.stat().st_size / 1e6:.1f} MB; "
              f"{csv_path.name}: {csv_path.stat().st_size / 1e6:.1f} MB")  # fmt: skip
    print(f"  Python {platform.python_version()}, openpyxl {openpyxl.__version__} (lxml off, as "
          f"in the frozen app), python-calamine {version('python-calamine')}")  # fmt: skip
    print(f"  each figure: median of {reps}, cases taking turns; reads in a fresh process each "
          f"(memory: growth of ru_maxrss during the read); {os.cpu_count()} CPUs, "
          f"load average {load_start:.2f} at start")  # fmt: skip

    reads = measure_reads(files, reps)
    loads, digests = measure_imports(files, reps)

    failed = False
    print()
    for module in files:
        cells = {reads[(module, c)][0]["check"][1] for c in ("cells: openpyxl", "cells: calamine")}
        sheets = {
            r["check"] for c in READS if c.startswith("read_xlsx") for r in reads[(module, c)]
        }
        records = {digests[(module, c)] for c in IMPORTS}
        verdicts = [
            f"non-empty cells {'identical' if len(cells) == 1 else 'DIFFER'} ({sorted(cells)})",
            f"SheetData of the three read_xlsx {'identical' if len(sheets) == 1 else 'DIFFER'}",
            f"records of the three imports {'identical' if len(records) == 1 else 'DIFFER'}",
        ]
        if {r["check"] for r in reads[(module, "scan of the sheet's XML")]} != {True}:
            verdicts.append("the scan sent the file to openpyxl: 'now' DIFFERS from calamine")
        failed |= any("DIFFER" in v for v in verdicts)
        print(f"  check {module.value}: " + "; ".join(verdicts))

    median = statistics.median
    lines: list[tuple[str, ...]] = []
    for module in files:
        took = {c: [x["seconds"] for x in reads[(module, c)]] for c in READS}
        mb = {c: median([x["peak_mb"] for x in reads[(module, c)]]) for c in READS}
        slow, fast = median(took["cells: openpyxl"]), median(took["cells: calamine"])
        ratio = slow / fast
        failed |= ratio < TARGET_RATIO
        lines.append((
            f"read, cells only, {module.value}",
            f"{fmt(slow)}, {mb['cells: openpyxl']:.0f} MB",
            f"{fmt(fast)}, {mb['cells: calamine']:.0f} MB",
            f"{ratio:.1f}x", f">= {TARGET_RATIO:.0f}x", "PASS" if ratio >= TARGET_RATIO else "FAIL",
            "",
        ))  # fmt: skip
        slow = median(took["read_xlsx: before (openpyxl)"])
        fast = median(took["read_xlsx: now (calamine)"])
        fallback = median(took["read_xlsx: now, fallback (openpyxl)"])
        scan = median(took["scan of the sheet's XML"])
        lines.append((
            f"read_xlsx, {module.value}",
            f"{fmt(slow)}, {mb['read_xlsx: before (openpyxl)']:.0f} MB",
            f"{fmt(fast)}, {mb['read_xlsx: now (calamine)']:.0f} MB",
            f"{slow / fast:.1f}x", "", "", f"scan {fmt(scan)}; fallback {fmt(fallback)}",
        ))  # fmt: skip
        i = {c: median(loads[(module, c)]) for c in IMPORTS}
        slow, fast = i["import: xlsx before (openpyxl)"], i["import: xlsx now (calamine)"]
        lines.append((f"import, {module.value}", fmt(slow), fmt(fast), f"{slow / fast:.1f}x",
                      "", "", f"csv {fmt(i['import: csv'])}"))  # fmt: skip
    header = ("measurement", "openpyxl", "calamine", "ratio", "target", "result", "reference")
    print()
    print(table(header, lines))
    print()
    for module in files:
        parts = [f"{c} {span([x['seconds'] for x in reads[(module, c)]])}" for c in READS]
        parts += [f"{c} {span(loads[(module, c)])}" for c in IMPORTS]
        print(f"  {module.value} (n={reps}): " + "; ".join(parts))
    print(f"  load average {os.getloadavg()[0]:.2f} at end")
    if failed:
        sys.exit(1)


if __name__ == "__main__":
    main()
