"""Generate the benchmark store: 3 sites x 17 materials x 3 years, over a million movements.

Usage: ``.venv/bin/python bench/make_store.py [PATH] [--seed N] [--force]``
(default PATH: ``$TMPDIR/deskops-bench/store.sqlite3`` — never inside the repository).

Why it is built this way (and not through ``RecordService``): a million service calls would take
hours. The schema comes from Alembic (``open_store``), sites through ``MasterDataService``; then
the records are inserted with raw ``sqlite3`` ``executemany`` in big batches, day by day (the order
a real store fills in, so table pages interleave sites and materials as they would), and
``stock_days`` is written in one pass from cumulative sums kept while generating.

Invariants this script must keep:
- The result satisfies the ``stock_days`` invariant of ``models/stock.py`` (one row per site,
  material and day with movement; ``closing`` = cumulative net flow). It is checked after
  generation for every site with one SQL window query, and for one site with
  ``LedgerService.verify`` (the application's own recomputation).
- Deterministic: the same seed gives the same rows, ids included (UUIDv7 built from the record's
  day and the seeded generator).
- A store already there is reused when its sidecar ``<path>.meta.json`` matches the parameters and
  its row counts match; otherwise it is rebuilt.

No change-log rows are written for generated records (the change log does not affect the ledger).
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sqlite3
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from deskops_desktop.models import reference_data as ref  # noqa: E402
from deskops_desktop.services.access import SYSTEM  # noqa: E402
from deskops_desktop.services.bundle import build_services  # noqa: E402
from deskops_desktop.services.store import open_store  # noqa: E402

FORMAT_VERSION = 2  # bump when the generator changes, so old stores are rebuilt
DEFAULT_PATH = Path(tempfile.gettempdir()) / "deskops-bench" / "store.sqlite3"
DEFAULT_SEED = 20250101
START = date(2023, 1, 1)
END = date(2025, 12, 31)  # 1,096 days (2024 is a leap year)
MIN_RECORDS = 1_000_000
BATCH = 50_000
RECORD_TABLES = ("production", "dispatches", "received", "inventory_adjustments")

# The seeded default site plus two more; codes are 3-20 chars of [A-Z0-9-_].
SITES = (
    (ref.DEFAULT_SITE_CODE, ref.DEFAULT_SITE_NAME, ref.DEFAULT_SITE_LOCATION),
    ("RIYADH-07", "Riyadh East Recycling Yard", "Riyadh"),
    ("DAMMAM-12", "Dammam Port C&D Plant", "Dammam"),
)
# Operations used by generated production. SEG-OP and CRU-DIS stay free so the benchmark can add
# back-dated production rows without clashing with the unique key (site, date, shift, material, op).
PRODUCTION_OPS = ("CRU-PRO", "CRU-OP")
SHIFTS = ("MORNING", "AFTERNOON", "NIGHT")
CUSTOMERS = (
    "Al Rajhi Contracting",
    "Saudi Binladin Group",
    "Nesma & Partners",
    "El Seif Engineering",
    "Almabani",
    "China Harbour KSA",
    "Red Sea Global",
    "Jeddah Municipality",
)
SOURCES = (
    "Demolition - Al Hamra",
    "Tahlia St. works",
    "Airport expansion",
    "Private contractor",
    "Municipality sweep",
    "Road rehabilitation",
)


@dataclass(frozen=True)
class Meta:
    seed: int
    start: str
    end: str
    format_version: int
    records: int
    stock_days: int
    per_table: dict[str, int]

    def matches(self, seed: int) -> bool:
        return (self.seed, self.start, self.end, self.format_version) == (
            seed,
            START.isoformat(),
            END.isoformat(),
            FORMAT_VERSION,
        )


def meta_path(path: Path) -> Path:
    return path.with_name(path.name + ".meta.json")


def read_meta(path: Path) -> Meta | None:
    try:
        return Meta(**json.loads(meta_path(path).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def count_rows(path: Path) -> dict[str, int]:
    with sqlite3.connect(path) as con:
        counts = {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in RECORD_TABLES}
        counts["stock_days"] = con.execute("SELECT COUNT(*) FROM stock_days").fetchone()[0]
    con.close()
    return counts


def reusable(path: Path, seed: int) -> Meta | None:
    """The store's meta if the file exists, was made with these parameters and is intact."""
    meta = read_meta(path)
    if not path.exists() or meta is None or not meta.matches(seed):
        return None
    try:
        counts = count_rows(path)
    except sqlite3.Error:
        return None
    if counts.pop("stock_days") != meta.stock_days or counts != meta.per_table:
        return None
    return meta


# --------------------------------------------------------------------------- ids
class IdMaker:
    """Deterministic UUIDv7 strings: the record day's timestamp plus seeded random bits."""

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._last_ms = 0
        self._counter = 0

    def __call__(self, moment_ms: int) -> str:
        if moment_ms <= self._last_ms:
            moment_ms = self._last_ms
            self._counter += 1
            if self._counter > 0xFFF:
                moment_ms += 1
                self._counter = 0
        else:
            self._counter = 0
        self._last_ms = moment_ms
        value = (moment_ms & ((1 << 48) - 1)) << 80 | 0x7 << 76 | self._counter << 64
        value |= 0b10 << 62 | self._rng.getrandbits(62)
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


# --------------------------------------------------------------------- generator
@dataclass
class MaterialPlan:
    id: str
    code: str
    raw: bool
    base_shift_milli: (
        int  # typical production per shift and operation (final) / loads per day (raw)
    )
    target_stock_milli: int


def _plans(materials: list[tuple[str, str, str]], rng: random.Random) -> list[MaterialPlan]:
    plans = []
    for mat_id, code, category in materials:
        raw = category == "RAW_FEED"
        if raw:
            plans.append(
                MaterialPlan(
                    mat_id, code, True, rng.randint(40, 65) * 1000, rng.randint(60, 160) * 1000
                )
            )
        else:
            base = rng.randint(25_000, 70_000)  # 25-70 t per shift and operation
            plans.append(MaterialPlan(mat_id, code, False, base, base * rng.randint(8, 30)))
    return plans


def generate(
    site_ids: list[str], materials: list[tuple[str, str, str]], seed: int
) -> Iterator[tuple[str, tuple[object, ...]]]:
    """Yield ``(table, row)`` day by day: each site/material's records, then its stock_days row.

    A plant works six days a week (Fridays mostly off), output follows a mild season, and sales
    and crusher feed steer each stock towards a per-material target, so levels cover LOW,
    WARNING and HEALTHY. The stock row's ``closing`` is the running sum kept here.
    """
    rng = random.Random(seed)
    make_id = IdMaker(random.Random(seed + 1))
    plans = [_plans(materials, rng) for _ in site_ids]
    stock = [[0] * len(materials) for _ in site_ids]
    dr_seq = [0] * len(site_ids)
    for day_i in range((END - START).days + 1):
        day = START + timedelta(days=day_i)
        iso = day.isoformat()
        stamp = f"{iso} 15:00:00.000000"
        moment = int(datetime(day.year, day.month, day.day, 15, tzinfo=UTC).timestamp() * 1000)
        season = 1.0 + 0.15 * math.cos(2 * math.pi * (day.timetuple().tm_yday - 30) / 365.25)
        month_end = (day + timedelta(days=1)).day == 1
        for s, site_id in enumerate(site_ids):
            working = day.weekday() != 4 or rng.random() < 0.2  # Friday: mostly closed

            # site_id, date, notes, version, created_at, updated_at, created_by (after the id)
            common = (site_id, iso, "", 1, stamp, stamp, None)
            counted = (site_id, iso, "Month-end count", 1, stamp, stamp, None)

            for m, plan in enumerate(plans[s]):
                flows = [0, 0, 0, 0]  # produced, received, dispatched, adjustment
                if day_i == 0:
                    spread = plan.target_stock_milli // 4
                    q = plan.target_stock_milli + rng.randint(-spread, spread)
                    flows[3] += q
                    opening = (site_id, iso, "Opening balance from spreadsheet", *common[3:])
                    row: tuple[object, ...] = (
                        make_id(moment),
                        *opening,
                        plan.id,
                        q,
                        "OPENING_BALANCE",
                    )
                    yield "inventory_adjustments", row
                if working and plan.raw:
                    loads = plan.base_shift_milli // 1000
                    for _ in range(rng.randint(loads * 7 // 10, loads * 13 // 10)):
                        q = 2000 if rng.random() < 0.08 else 1000
                        flows[1] += q
                        source = SOURCES[rng.randrange(len(SOURCES))]
                        truck = f"TRK-{rng.randint(100, 999)}"
                        yield "received", (make_id(moment), *common, plan.id, q, source, truck)
                    # Crusher feed, one dispatch per shift, steering the stock to its target.
                    have = stock[s][m] + flows[3] + flows[1]
                    want = plan.base_shift_milli + (have - plan.target_stock_milli) // 5
                    for _shift in SHIFTS:
                        q = max(0, round(want / 3000 * rng.uniform(0.8, 1.2))) * 1000
                        if q:
                            flows[2] += q
                            row = (make_id(moment), *common, plan.id, q, None, "", "", "CRU-OP")
                            yield "dispatches", row
                elif working:
                    for shift in SHIFTS:
                        for op, chance in zip(PRODUCTION_OPS, (0.93, 0.75), strict=True):
                            if rng.random() < chance:
                                noise = rng.lognormvariate(0, 0.25)
                                q = max(1, int(plan.base_shift_milli * season * noise))
                                flows[0] += q
                                row = (make_id(moment), *common, shift, plan.id, q, op)
                                yield "production", row
                    # Sales: roughly today's output, more when the stock is above target.
                    have = stock[s][m] + flows[3] + flows[0]
                    desired = flows[0] + (have - plan.target_stock_milli) // 8
                    for _ in range(max(0, round(desired / 21_000) + rng.randint(-2, 2))):
                        q = rng.randint(12_000, 30_000)
                        flows[2] += q
                        dr_seq[s] += 1
                        owner = CUSTOMERS[rng.randrange(len(CUSTOMERS))]
                        reference = f"DR-{s + 1}{dr_seq[s]:07d}"
                        row = (make_id(moment), *common, plan.id, q, 1, owner, reference, "CRU-PRO")
                        yield "dispatches", row
                if month_end and day_i > 0 and rng.random() < 0.3:
                    book = stock[s][m] + flows[0] + flows[1] - flows[2] + flows[3]
                    q = round(abs(book) * rng.uniform(-0.02, 0.01)) or -1000
                    flows[3] += q
                    if rng.random() < 0.85:
                        reason = "STOCK_COUNT"
                    else:
                        reason = "LOSS" if q < 0 else "CORRECTION"
                    yield "inventory_adjustments", (make_id(moment), *counted, plan.id, q, reason)
                if any(flows):
                    stock[s][m] += flows[0] + flows[1] - flows[2] + flows[3]
                    yield "stock_days", (site_id, plan.id, iso, *flows, stock[s][m])


_HEAD = ("id", "site_id", "date", "notes", "version", "created_at", "updated_at", "created_by")
COLUMNS = {
    "production": (*_HEAD, "shift", "material_id", "quantity", "operation"),
    "dispatches": (*_HEAD, "material_id", "quantity", "trips", "owner", "reference", "operation"),
    "received": (*_HEAD, "material_id", "quantity", "source", "vehicle_ref"),
    "inventory_adjustments": (*_HEAD, "material_id", "quantity", "reason"),
    "stock_days": ("site_id", "material_id", "day", "produced", "received", "dispatched",
                   "adjustment", "closing"),
}  # fmt: skip
INSERTS = {
    table: f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
    for table, cols in COLUMNS.items()
}


# The check every site gets: stock_days against a recomputation in one SQL statement.
CHECK_SQL = """
WITH flows AS (
    SELECT site_id, material_id, date AS day, quantity AS p, 0 AS r, 0 AS x, 0 AS a FROM production
    UNION ALL SELECT site_id, material_id, date, 0, quantity, 0, 0 FROM received
    UNION ALL SELECT site_id, material_id, date, 0, 0, quantity, 0 FROM dispatches
    UNION ALL SELECT site_id, material_id, date, 0, 0, 0, quantity FROM inventory_adjustments
), daily AS (
    SELECT site_id, material_id, day, SUM(p) p, SUM(r) r, SUM(x) x, SUM(a) a
    FROM flows GROUP BY site_id, material_id, day
), expected AS (
    SELECT site_id, material_id, day, p, r, x, a,
           SUM(p + r - x + a) OVER (PARTITION BY site_id, material_id ORDER BY day) AS closing
    FROM daily
)
SELECT
    (SELECT COUNT(*) FROM expected),
    (SELECT COUNT(*) FROM stock_days),
    (SELECT COUNT(*) FROM expected e JOIN stock_days s USING (site_id, material_id, day)
      WHERE (e.p, e.r, e.x, e.a, e.closing)
          = (s.produced, s.received, s.dispatched, s.adjustment, s.closing))
"""


def check_all_sites(path: Path) -> tuple[bool, str]:
    with sqlite3.connect(path) as con:
        expected, stored, equal = con.execute(CHECK_SQL).fetchone()
    con.close()
    ok = expected == stored == equal
    return ok, f"{equal:,} of {expected:,} recomputed rows equal the {stored:,} stored rows"


def build(path: Path, seed: int) -> Meta:
    for suffix in ("", "-wal", "-shm", ".meta.json"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    services = build_services(store)
    site_ids = []
    for code, name, location in SITES:
        existing = [s for s in services.master.sites(SYSTEM) if s.code == code]
        site = (
            existing[0]
            if existing
            else services.master.add_site(SYSTEM, code, name, location=location).value
        )
        site_ids.append(site.id)
    materials = [(m.id, m.code, m.category) for m in services.master.reference().materials]
    store.dispose()
    print(f"schema and sites ready in {time.perf_counter() - t0:.1f} s; generating ...", flush=True)

    con = sqlite3.connect(path, isolation_level=None)
    con.execute("PRAGMA journal_mode=MEMORY")  # one big transaction; WAL is restored at the end
    con.execute("PRAGMA synchronous=OFF")
    con.execute("PRAGMA cache_size=-400000")
    con.execute("PRAGMA foreign_keys=OFF")
    con.execute("BEGIN")
    buffers: dict[str, list[tuple[object, ...]]] = {t: [] for t in INSERTS}
    per_table = dict.fromkeys(RECORD_TABLES, 0)
    n_stock = 0
    for table, row in generate(site_ids, materials, seed):
        buf = buffers[table]
        buf.append(row)
        if len(buf) >= BATCH:
            con.executemany(INSERTS[table], buf)
            buf.clear()
        if table == "stock_days":
            n_stock += 1
        else:
            per_table[table] += 1
    for table, buf in buffers.items():
        if buf:
            con.executemany(INSERTS[table], buf)
    con.execute("COMMIT")
    con.execute("ANALYZE")
    con.execute("PRAGMA journal_mode=WAL")
    con.close()
    records = sum(per_table.values())
    took = time.perf_counter() - t0
    print(f"inserted {records:,} records and {n_stock:,} stock_days rows in {took:.1f} s")
    meta = Meta(
        seed, START.isoformat(), END.isoformat(), FORMAT_VERSION, records, n_stock, per_table
    )
    return meta


def verify(path: Path) -> None:
    t0 = time.perf_counter()
    ok, detail = check_all_sites(path)
    took = time.perf_counter() - t0
    verdict = "PASSED" if ok else "FAILED"
    print(
        f"stock_days invariant, all sites (SQL recomputation): {verdict}: {detail} ({took:.1f} s)"
    )
    if not ok:
        raise SystemExit("the generated stock_days rows do not match the records")
    t0 = time.perf_counter()
    store = open_store(f"sqlite:///{path}")
    try:
        services = build_services(store)
        site = services.master.site_by_code(SYSTEM, SITES[0][0])
        problems = services.ledger.verify(SYSTEM, site.id)
    finally:
        store.dispose()
    verdict = (
        "PASSED" if not problems else f"FAILED ({len(problems)} differences, first: {problems[0]})"
    )
    print(
        f"stock_days invariant, site {SITES[0][0]} (LedgerService.verify): {verdict}"
        f" ({time.perf_counter() - t0:.1f} s)"
    )
    if problems:
        raise SystemExit("LedgerService.verify found differences")


def ensure_store(
    path: Path = DEFAULT_PATH, seed: int = DEFAULT_SEED, *, force: bool = False
) -> Meta:
    """Return the store's meta, building (and verifying) the store first when needed."""
    path = Path(path).resolve()
    if path.is_relative_to(REPO):
        raise SystemExit(f"refusing to write a benchmark store inside the repository: {path}")
    meta = None if force else reusable(path, seed)
    if meta is not None:
        counts = f"{meta.records:,} records, {meta.stock_days:,} stock_days rows"
        print(f"reusing {path}: {counts} (seed {seed})")
        return meta
    meta = build(path, seed)
    if meta.records < MIN_RECORDS:
        raise SystemExit(
            f"only {meta.records:,} records generated; the benchmark needs {MIN_RECORDS:,}"
        )
    verify(path)
    meta_path(path).write_text(json.dumps(meta.__dict__, indent=2) + "\n")
    return meta


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "path", nargs="?", type=Path, default=DEFAULT_PATH, help=f"default {DEFAULT_PATH}"
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument(
        "--force", action="store_true", help="rebuild even if a matching store exists"
    )
    args = parser.parse_args(argv)
    t0 = time.perf_counter()
    meta = ensure_store(args.path, args.seed, force=args.force)
    tables = ", ".join(f"{t} {n:,}" for t, n in meta.per_table.items())
    print(
        f"store {Path(args.path).resolve()}: {meta.records:,} movement records ({tables});"
        f" {meta.stock_days:,} stock_days rows; {time.perf_counter() - t0:.1f} s in all"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
