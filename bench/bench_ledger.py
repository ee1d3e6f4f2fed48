"""Ledger benchmark: the DeskOps services against a hand-written SQLite window query and DuckDB.

Usage: ``.venv/bin/python bench/make_store.py && .venv/bin/python bench/bench_ledger.py``
(``--help`` for options; ``--profile`` also writes cProfile reports of the DeskOps calls).

What it measures (issue 2, "Benchmarks"), all in one run over the same data:

1. the ledger's first page (50 rows) of one site and one quarter (``LedgerService.page``);
2. the full 3-year daily ledger of one site (``LedgerService.ledger``);
3. a back-dated production record in the first month, then that first page again
   (``RecordService.create`` + ``LedgerService.page``);
4. a bulk import of 100,000 production rows (``RecordService.create_many``).

Each DeskOps figure stands next to references over the same data in the same run: one SQL
statement (daily sums from the raw record tables, densified over a calendar x materials grid,
``SUM(net) OVER (PARTITION BY material ORDER BY day)``) run by SQLite on the same file and by
DuckDB on a copy of the raw record columns; for the bulk import, a plain ``sqlite3``
``executemany`` of the same rows. Every figure is the median of ``--reps`` timed repetitions
after warm-up calls (``time.perf_counter``); every result is fetched into Python objects and the
three results are checked to be identical.

The generated store is never changed: the run works on a fresh copy (``work.sqlite3`` beside it).
"""

from __future__ import annotations

import argparse
import cProfile
import gc
import io
import os
import platform
import pstats
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from make_store import DEFAULT_PATH, DEFAULT_SEED, END, REPO, SITES, START, ensure_store

from deskops_desktop.models.enums import Module
from deskops_desktop.models.ids import new_id
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.ledger import LedgerRow
from deskops_desktop.services.store import open_store

PAGE_SIZE = 50
Q_START, Q_END = date(2025, 10, 1), date(2025, 12, 31)  # the store's last quarter
BULK_ROWS = 100_000
NO_LIMIT = 1_000_000_000
TARGETS_MS = {"page": 20.0, "site": 50.0, "backdated": 50.0, "bulk": 10_000.0}
# Raw movement tables and the flow each one feeds: produced, received, dispatched, adjustment.
MOVEMENTS = (("production", 0), ("received", 1), ("dispatches", 2), ("inventory_adjustments", 3))
SHIFTS = ("MORNING", "AFTERNOON", "NIGHT")


# ------------------------------------------------------------------ reference SQL
def ledger_sql(dialect: str) -> str:
    """The reference: one statement, dense, openings from the site's whole history.

    Parameters: ``s`` site id, ``a``/``b`` first/last day shown, ``n`` row limit. The window
    runs from the site's first record, so every shown opening is right; rows are ordered like
    the service's (day, then material display order).
    """
    p = ":" if dialect == "sqlite" else "$"
    flows = "\n        UNION ALL ".join(
        "SELECT material_id, date AS day, "
        + ", ".join("quantity" if i == flow else "0" for i in range(4))
        + f" FROM {table} WHERE site_id = {p}s AND date <= {p}b"
        for table, flow in MOVEMENTS
    )
    firsts = [f"SELECT MIN(date) AS d FROM {table} WHERE site_id = {p}s" for table, _ in MOVEMENTS]
    if dialect == "sqlite":
        days = (
            "WITH RECURSIVE days(day) AS (\n"
            f"    SELECT MIN(d) FROM ({' UNION ALL '.join(firsts)})\n"
            "    UNION ALL SELECT date(day, '+1 day') FROM days WHERE day < :b\n)"
        )
    else:
        first = "LEAST(" + ", ".join(f"({q})" for q in firsts) + ")"
        days = (
            "WITH days AS (\n    SELECT CAST(unnest(generate_series(\n"
            f"        CAST({first} AS TIMESTAMP),\n"
            "        CAST($b AS TIMESTAMP), INTERVAL 1 DAY)) AS DATE) AS day\n)"
        )
    return f"""{days}, flows(material_id, day, p, r, x, a) AS (
        {flows}
), daily AS (
    SELECT material_id, day, SUM(p) AS p, SUM(r) AS r, SUM(x) AS x, SUM(a) AS a
    FROM flows GROUP BY material_id, day
), grid AS (
    SELECT d.day, m.id AS material_id, m.sort_order, m.code,
           m.low_threshold AS low, m.high_threshold AS high,
           COALESCE(f.p, 0) AS p, COALESCE(f.r, 0) AS r,
           COALESCE(f.x, 0) AS x, COALESCE(f.a, 0) AS a
    FROM days d CROSS JOIN materials m
    LEFT JOIN daily f ON f.material_id = m.id AND f.day = d.day
), ledger AS (
    SELECT *, SUM(p + r - x + a) OVER (PARTITION BY material_id ORDER BY day) AS closing
    FROM grid
)
SELECT day, material_id, closing - (p + r - x + a) AS opening, p, r, x, a, closing,
       CASE WHEN closing < low THEN 'LOW' WHEN closing <= high THEN 'WARNING'
            ELSE 'HEALTHY' END
FROM ledger WHERE day >= {p}a
ORDER BY day, sort_order, code
LIMIT {p}n"""


SQLITE_LEDGER = ledger_sql("sqlite")
DUCK_LEDGER = ledger_sql("duckdb")
PRODUCTION_INSERT = (
    "INSERT INTO production (id, site_id, date, notes, version, created_at, updated_at,"
    " created_by, shift, material_id, quantity, operation) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)"
)


# ------------------------------------------------------------------------ timing
@dataclass
class Timing:
    samples: list[float] = field(default_factory=list)  # seconds

    @property
    def ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def spread(self) -> str:
        low, high = min(self.samples) * 1000, max(self.samples) * 1000
        return f"{low:.1f}-{high:.1f} ms (n={len(self.samples)})"


def measure(fn: Callable[[int], object], reps: int, warmup: int) -> Timing:
    """``fn(i)`` ``warmup`` times untimed, then ``reps`` times timed; ``i`` counts every call."""
    return measure_interleaved([fn], reps, warmup)[0]


def measure_interleaved(
    fns: Sequence[Callable[[int], object]], reps: int, warmup: int
) -> list[Timing]:
    """Several functions taking turns, so drifting machine load hits each of them alike."""
    for i in range(warmup):
        for fn in fns:
            fn(i)
    timings = [Timing() for _ in fns]
    for i in range(warmup, warmup + reps):
        for fn, timing in zip(fns, timings, strict=True):
            # Start each call from a clean collector, so a call pays for the collections its
            # own allocations cause, not for the garbage left by the calls before it.
            gc.collect()
            t0 = time.perf_counter()
            fn(i)
            timing.samples.append(time.perf_counter() - t0)
    return timings


# -------------------------------------------------------------------- comparison
Norm = tuple[Any, ...]


def norm_service(rows: Sequence[LedgerRow]) -> list[Norm]:
    return [
        (
            r.day.isoformat(),
            r.material.id,
            r.opening_m,
            r.produced_m,
            r.received_m,
            r.dispatched_m,
            r.adjustment_m,
            r.closing_m,
            r.level.value,
        )
        for r in rows
    ]


def norm_ref(rows: Sequence[tuple[Any, ...]]) -> list[Norm]:
    return [(str(row[0]), row[1], *(int(v) for v in row[2:8]), row[8]) for row in rows]


def agree(label: str, results: dict[str, list[Norm]]) -> bool:
    (first_name, first), *others = results.items()
    ok = all(rows == first for _, rows in others)
    names = ", ".join(results)
    verdict = "identical" if ok else "DIFFER"
    print(f"  check {label}: {names} results {verdict} ({len(first):,} rows)")
    for name, rows in others:
        if rows != first:
            at = next((i for i, (x, y) in enumerate(zip(first, rows, strict=False)) if x != y), -1)
            print(f"    {name} ({len(rows)} rows) first differs at row {at}:")
            print(f"      {first_name}: {first[at] if at >= 0 else '-'}")
            print(f"      {name}: {rows[at] if at >= 0 else '-'}")
    return ok


# ------------------------------------------------------------------------- setup
def copy_store(source: Path, target: Path) -> float:
    t0 = time.perf_counter()
    for suffix in ("", "-wal", "-shm"):
        Path(str(target) + suffix).unlink(missing_ok=True)
    src, dst = sqlite3.connect(source), sqlite3.connect(target)
    src.backup(dst, pages=65536)
    dst.close()
    src.close()
    return time.perf_counter() - t0


def reference_connection(path: Path) -> sqlite3.Connection:
    """The app's own settings (``store._sqlite_on_connect``); autocommit like its reads."""
    con = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    for pragma in ("journal_mode=WAL", "synchronous=FULL", "foreign_keys=ON", "busy_timeout=10000"):
        con.execute(f"PRAGMA {pragma}")
    return con


def load_duckdb(source: Path, path: Path) -> tuple[duckdb.DuckDBPyConnection, str]:
    """A DuckDB file with the raw movement columns and the materials, loaded once.

    DuckDB's sqlite extension would attach the SQLite file directly, but DuckDB downloads
    extensions on first use and this machine is offline; when it is installed it is used.
    A file database (not ``:memory:``) so the back-dated insert is as durable as SQLite's.
    """
    for suffix in ("", ".wal"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    duck = duckdb.connect(str(path))
    columns = "site_id, material_id, CAST(date AS DATE) AS date, quantity"
    mat_columns = "id, code, sort_order, low_threshold, high_threshold"
    try:
        duck.execute("LOAD sqlite")
        duck.execute(f"ATTACH '{source}' AS src (TYPE sqlite, READ_ONLY)")
        for table, _ in MOVEMENTS:
            duck.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM src.{table}")
        duck.execute(f"CREATE TABLE materials AS SELECT {mat_columns} FROM src.materials")
        duck.execute("DETACH src")
        how = "copied from the SQLite file by DuckDB's sqlite extension"
    except duckdb.Error:
        con = sqlite3.connect(source)
        for table, _ in MOVEMENTS:
            rows = con.execute(f"SELECT site_id, material_id, date, quantity FROM {table}")
            site_ids, material_ids, dates, quantities = zip(*rows.fetchall(), strict=True)
            frame = {  # noqa: F841 - DuckDB reads local variables by name ("FROM frame")
                "site_id": np.array(site_ids, dtype=object),
                "material_id": np.array(material_ids, dtype=object),
                "date": np.array(dates, dtype=object),
                "quantity": np.array(quantities, dtype=np.int64),
            }
            duck.execute(f"CREATE TABLE {table} AS SELECT {columns} FROM frame")
        materials = con.execute(f"SELECT {mat_columns} FROM materials").fetchall()
        con.close()
        duck.execute(
            "CREATE TABLE materials (id VARCHAR, code VARCHAR, sort_order INTEGER,"
            " low_threshold BIGINT, high_threshold BIGINT)"
        )
        duck.executemany("INSERT INTO materials VALUES (?, ?, ?, ?, ?)", materials)
        how = "raw record columns read with sqlite3 into DuckDB tables (its sqlite extension"
        how += " is not installed and this machine is offline)"
    duck.execute("CHECKPOINT")
    return duck, how


# --------------------------------------------------------------------- the bench
@dataclass
class Result:
    key: str
    label: str
    deskops: Timing
    sqlite: Timing | None
    duck: Timing | None
    note: str = ""


class Bench:
    def __init__(
        self,
        services: Services,
        ref: sqlite3.Connection,
        duck: duckdb.DuckDBPyConnection,
        site_id: str,
        reps: int,
        warmup: int,
    ) -> None:
        self.s = services
        self.ref = ref
        self.duck = duck
        self.site = site_id
        self.reps = reps
        self.warmup = warmup
        self.materials = list(services.master.reference().materials)
        self.by_code = {m.code: m.id for m in self.materials}
        n = len(self.materials)
        # The last day the first page reaches; the service computes the same bound.
        self.page_last = Q_START + timedelta(days=(min(PAGE_SIZE, 92 * n) - 1) // n)
        self.ok = True

    # --- the three ways to read
    def sqlite_ledger(self, a: date, b: date, n: int) -> list[tuple[Any, ...]]:
        params = {"s": self.site, "a": a.isoformat(), "b": b.isoformat(), "n": n}
        return self.ref.execute(SQLITE_LEDGER, params).fetchall()

    def duck_ledger(self, a: date, b: date, n: int) -> list[tuple[Any, ...]]:
        return self.duck.execute(DUCK_LEDGER, {"s": self.site, "a": a, "b": b, "n": n}).fetchall()

    def service_page(self) -> tuple[LedgerRow, ...]:
        return self.s.ledger.page(SYSTEM, self.site, Q_START, Q_END, 0, PAGE_SIZE).rows

    def check_page(self, label: str) -> None:
        self.ok &= agree(
            label,
            {
                "DeskOps": norm_service(self.service_page()),
                "SQLite": norm_ref(self.sqlite_ledger(Q_START, self.page_last, PAGE_SIZE)),
                "DuckDB": norm_ref(self.duck_ledger(Q_START, self.page_last, PAGE_SIZE)),
            },
        )

    # --- 1. first page
    def first_page(self) -> Result:
        svc, sq, dk = measure_interleaved(
            (
                lambda _i: self.service_page(),
                lambda _i: self.sqlite_ledger(Q_START, self.page_last, PAGE_SIZE),
                lambda _i: self.duck_ledger(Q_START, self.page_last, PAGE_SIZE),
            ),
            self.reps,
            self.warmup,
        )
        self.check_page("first page")
        label = f"first page ({PAGE_SIZE} rows), 1 site, {Q_START:%Y} Q4"
        return Result("page", label, svc, sq, dk)

    # --- 2. full site ledger
    def full_site(self) -> Result:
        svc, sq, dk = measure_interleaved(
            (
                lambda _i: self.s.ledger.ledger(SYSTEM, self.site, START, END).rows,
                lambda _i: self.sqlite_ledger(START, END, NO_LIMIT),
                lambda _i: self.duck_ledger(START, END, NO_LIMIT),
            ),
            self.reps,
            self.warmup,
        )
        rows = self.s.ledger.ledger(SYSTEM, self.site, START, END).rows
        self.ok &= agree(
            "full site ledger",
            {
                "DeskOps": norm_service(rows),
                "SQLite": norm_ref(self.sqlite_ledger(START, END, NO_LIMIT)),
                "DuckDB": norm_ref(self.duck_ledger(START, END, NO_LIMIT)),
            },
        )
        label = f"full daily ledger, 1 site, {START:%Y}-{END:%Y} ({len(rows):,} rows)"
        return Result("site", label, svc, sq, dk)

    # --- 3. back-dated insert, then the first page
    def _january(self, i: int) -> tuple[str, str, str]:
        """A new (day, shift, material) per call, so each insert is a new unique key."""
        finals = [m.code for m in self.materials if m.uom == "TON"]
        day = START + timedelta(days=i % 31)
        return day.isoformat(), SHIFTS[(i // 31) % 3], finals[(i // 93 + i) % len(finals)]

    def _duck_insert(self, i: int) -> None:
        day, _shift, code = self._january(i)
        self.duck.execute(
            "INSERT INTO production VALUES ($s, $m, $d, 12345)",
            {"s": self.site, "m": self.by_code[code], "d": date.fromisoformat(day)},
        )

    def backdated(self) -> Result:
        split: list[tuple[float, float]] = []

        def service(i: int) -> object:
            day, shift, code = self._january(i)
            raw = {
                "date": day,
                "shift": shift,
                "operation": "SEG-OP",
                "material": code,
                "quantity": "12.345",
                "notes": "bench: back-dated entry",
            }
            t0 = time.perf_counter()
            self.s.records.create(SYSTEM, Module.PRODUCTION, self.site, raw)
            t1 = time.perf_counter()
            rows = self.service_page()
            split.append((t1 - t0, time.perf_counter() - t1))
            return rows

        svc = measure(service, self.reps, self.warmup)
        n_calls = self.reps + self.warmup
        # DuckDB holds a copy of the raw rows: give it what the service wrote (untimed), then
        # the maintained balances must agree with both recomputations.
        for i in range(n_calls):
            self._duck_insert(i)
        self.check_page("first page after the back-dated inserts")
        problems = self.s.ledger.verify(SYSTEM, self.site)
        verdict = "PASSED" if not problems else f"FAILED ({len(problems)} differences)"
        print(f"  check LedgerService.verify after {n_calls} back-dated inserts: {verdict}")
        self.ok &= not problems

        raw_ids: list[str] = []

        def sqlite_ref(i: int) -> object:
            day, shift, code = self._january(i)
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            raw_ids.append(new_id())
            row = (
                raw_ids[-1],
                self.site,
                day,
                "bench: raw",
                1,
                stamp,
                stamp,
                None,
                shift,
                self.by_code[code],
                12_345,
                "CRU-DIS",
            )
            self.ref.execute("BEGIN IMMEDIATE")
            self.ref.execute(PRODUCTION_INSERT, row)
            self.ref.execute("COMMIT")
            return self.sqlite_ledger(Q_START, self.page_last, PAGE_SIZE)

        def duck_ref(i: int) -> object:
            self._duck_insert(n_calls + i)
            return self.duck_ledger(Q_START, self.page_last, PAGE_SIZE)

        sq = measure(sqlite_ref, self.reps, self.warmup)
        dk = measure(duck_ref, self.reps, self.warmup)
        # The raw rows bypassed stock_days: remove them so the working copy stays consistent.
        self.ref.executemany("DELETE FROM production WHERE id = ?", [(r,) for r in raw_ids])
        create_ms = statistics.median(s[0] for s in split[self.warmup :]) * 1000
        page_ms = statistics.median(s[1] for s in split[self.warmup :]) * 1000
        note = f"of which create() {create_ms:.1f} ms, then page() {page_ms:.1f} ms (medians)"
        label = "back-dated insert (first month) + first page"
        return Result("backdated", label, svc, sq, dk, note)

    # --- 4. bulk import
    def bulk(self, reps: int) -> Result:
        rng = random.Random(7)
        finals = [m for m in self.materials if m.uom == "TON"]
        operations = ("CRU-PRO", "CRU-DIS", "SEG-OP", "CRU-OP")
        days = (date(2024, 1, 1) + timedelta(days=d) for d in range(800))
        keys = [(d, sh, m, op) for d in days for sh in SHIFTS for op in operations for m in finals]
        keys = keys[:BULK_ROWS]
        milli = [rng.randint(5_000, 120_000) for _ in keys]
        # As an import hands them over: text cells keyed by field.
        raw_rows = [
            {
                "date": d.isoformat(),
                "shift": sh,
                "operation": op,
                "material": m.code,
                "quantity": f"{q // 1000}.{q % 1000:03d}",
                "notes": "",
            }
            for (d, sh, m, op), q in zip(keys, milli, strict=True)
        ]
        numbers = iter(range(1, 1000))

        def fresh_site(prefix: str) -> str:
            code = f"{prefix}-{next(numbers)}"
            return self.s.master.add_site(SYSTEM, code, f"Benchmark import {code}").value.id

        warm = fresh_site("BULKW")
        self.s.records.create_many(SYSTEM, Module.PRODUCTION, warm, raw_rows[:1000])
        svc = Timing()
        for _ in range(reps):
            site = fresh_site("BULK")
            gc.collect()
            t0 = time.perf_counter()
            result = self.s.records.create_many(SYSTEM, Module.PRODUCTION, site, raw_rows)
            svc.samples.append(time.perf_counter() - t0)
            assert result.value == BULK_ROWS
        problems = self.s.ledger.verify(SYSTEM, site)
        verdict = "PASSED" if not problems else f"FAILED ({len(problems)} differences)"
        print(f"  check LedgerService.verify on an imported site: {verdict}")
        self.ok &= not problems

        sq = Timing()
        for rep in range(reps + 1):  # the first is the warm-up
            site = fresh_site("RAW")
            stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
            tuples = [
                (new_id(), site, d.isoformat(), "", 1, stamp, stamp, None, sh, m.id, q, op)
                for (d, sh, m, op), q in zip(keys, milli, strict=True)
            ]
            gc.collect()
            t0 = time.perf_counter()
            self.ref.execute("BEGIN IMMEDIATE")
            self.ref.executemany(PRODUCTION_INSERT, tuples)
            self.ref.execute("COMMIT")
            if rep:
                sq.samples.append(time.perf_counter() - t0)
            self.ref.execute("DELETE FROM production WHERE site_id = ?", (site,))
        note = (
            "reference: sqlite3 executemany of the same rows in one transaction, tuples built"
            " beforehand; no validation, no stock_days, no change log"
        )
        return Result("bulk", f"bulk import, {BULK_ROWS:,} production rows", svc, sq, None, note)


# ---------------------------------------------------------------------- printing
def fmt(t: Timing | None) -> str:
    if t is None:
        return "-"
    return f"{t.ms / 1000:.2f} s" if t.ms >= 1000 else f"{t.ms:.1f} ms"


def ratio(a: Timing, b: Timing | None) -> str:
    return "-" if b is None else f"{a.ms / b.ms:.2f}"


def table(results: list[Result]) -> str:
    head = (
        "measurement",
        "DeskOps",
        "SQLite window",
        "DuckDB",
        "DeskOps/SQLite",
        "DeskOps/DuckDB",
        "target",
        "result",
    )
    body = []
    for r in results:
        target = TARGETS_MS[r.key]
        limit = f"<= {target / 1000:.0f} s" if target >= 1000 else f"<= {target:.0f} ms"
        verdict = "PASS" if r.deskops.ms <= target else "FAIL"
        body.append(
            (
                r.label,
                fmt(r.deskops),
                fmt(r.sqlite),
                fmt(r.duck),
                ratio(r.deskops, r.sqlite),
                ratio(r.deskops, r.duck),
                limit,
                verdict,
            )
        )
    widths = [max(len(row[i]) for row in (head, *body)) for i in range(len(head))]

    def line(cells: Sequence[str]) -> str:
        pairs = enumerate(zip(cells, widths, strict=True))
        padded = [c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in pairs]
        return "| " + " | ".join(padded) + " |"

    dashes = ["-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths)]
    rule = "|" + "|".join(dashes) + "|"
    return "\n".join([line(head), rule, *(line(b) for b in body)])


def profile(bench: Bench, out_dir: Path) -> None:
    """cProfile of one more call of each DeskOps read/write, top 30 by cumulative time."""
    raw = {
        "date": "2023-01-15",
        "shift": "NIGHT",
        "operation": "CRU-DIS",
        "material": "AGG-G1",
        "quantity": "1.5",
    }
    jobs: dict[str, Callable[[], object]] = {
        "page": bench.service_page,
        "site": lambda: bench.s.ledger.ledger(SYSTEM, bench.site, START, END),
        "backdated": lambda: (
            bench.s.records.create(SYSTEM, Module.PRODUCTION, bench.site, raw),
            bench.service_page(),
        ),
    }
    for name, job in jobs.items():
        prof = cProfile.Profile()
        prof.runcall(job)
        buf = io.StringIO()
        pstats.Stats(prof, stream=buf).sort_stats("cumulative").print_stats(30)
        target = out_dir / f"profile-{name}.txt"
        target.write_text(buf.getvalue())
        print(f"  cProfile of {name}: {target}")


def code_version() -> str:
    """The commit measured, and whether the application code had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "deskops_desktop"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return head + (" + uncommitted changes in deskops_desktop/" if dirty else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="DeskOps ledger benchmark (bench/README.md)")
    parser.add_argument("--store", type=Path, default=DEFAULT_PATH, help="the generated store")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--reps", type=int, default=15, help="timed repetitions per figure")
    parser.add_argument("--warmup", type=int, default=3, help="untimed calls before timing")
    parser.add_argument("--bulk-reps", type=int, default=3, help="timed 100,000-row imports")
    parser.add_argument("--skip-bulk", action="store_true", help="leave out the bulk import")
    parser.add_argument("--profile", action="store_true", help="write cProfile reports too")
    args = parser.parse_args(argv)

    meta = ensure_store(args.store, args.seed)
    store_path = Path(args.store).resolve()
    work = store_path.with_name("work.sqlite3")
    copy_s = copy_store(store_path, work)
    store = open_store(f"sqlite:///{work}")
    services = build_services(store)
    site = services.master.site_by_code(SYSTEM, SITES[0][0])
    ref = reference_connection(work)
    t0 = time.perf_counter()
    duck, duck_how = load_duckdb(work, store_path.with_name("reference.duckdb"))
    duck_s = time.perf_counter() - t0
    threads = (duck.execute("SELECT current_setting('threads')").fetchone() or ("?",))[0]
    load = os.getloadavg()[0]

    print(f"\nDeskOps ledger benchmark, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"  store: {store_path}: {meta.records:,} movement records, {meta.stock_days:,}"
        f" stock_days rows; 3 sites x 17 materials, {START} to {END}"
    )
    print(f"  measured on a copy ({work.name}, made in {copy_s:.1f} s); code {code_version()}")
    print(f"  site {site.code}; first page = rows 0-{PAGE_SIZE - 1} of {Q_START} to {Q_END}")
    print(
        f"  Python {platform.python_version()}, SQLite {sqlite3.sqlite_version}, DuckDB"
        f" {duckdb.__version__} (file database, {threads} threads)"
    )
    print(f"  DuckDB data: {duck_how}; loading took {duck_s:.1f} s, not counted")
    print(
        f"  each figure: median of {args.reps} after {args.warmup} warm-up calls, reads taking"
        f" turns (bulk: median of {args.bulk_reps} after a 1,000-row warm-up); gc.collect()"
        f" before each timed call; {os.cpu_count()} CPUs, load average {load:.2f} at start"
    )
    print("  references are dense (calendar x materials grid: every material every day, as the")
    print("  service returns), take openings from the site's whole history, fetch into tuples\n")

    bench = Bench(services, ref, duck, site.id, args.reps, args.warmup)
    results = [bench.first_page(), bench.full_site(), bench.backdated()]
    if not args.skip_bulk:
        results.append(bench.bulk(args.bulk_reps))
    if args.profile:
        profile(bench, store_path.parent)

    print()
    print(table(results))
    print()
    for r in results:
        spread = f"DeskOps {r.deskops.spread}"
        spread += f"; SQLite {r.sqlite.spread}" if r.sqlite else ""
        spread += f"; DuckDB {r.duck.spread}" if r.duck else ""
        print(f"  {r.label}: {spread}")
        if r.note:
            print(f"    {r.note}")
    print(
        f"  load average {os.getloadavg()[0]:.2f} at end (other work on the machine inflates"
        " every column)"
    )
    print(f"  correctness checks: {'all passed' if bench.ok else 'FAILED'}")
    duck.close()
    ref.close()
    store.dispose()
    failed = any(r.deskops.ms > TARGETS_MS[r.key] for r in results)
    return 1 if failed or not bench.ok else 0


if __name__ == "__main__":
    raise SystemExit(main())
