"""Head office's reads on a 30-site x 3-year store: PostgreSQL as an admin and through row-level
security, next to SQLite and to bare SQL on the same server.

    .venv/bin/python bench/make_company_store.py     # once (cached): both stores
    .venv/bin/python bench/bench_company.py [--pg URL] [--reps 9] [--warmup 2]

What is timed (each call a fresh service call: one session, no cache), for the period the
landing page opens on (the last 30 days of the store) and for a year:

- **company overview**: ``OverviewService.overview`` — every site, this period and the one
  before; the admin sees 30 sites, the moderator (assigned every site) the same 30 through the
  policies, the operator their one site;
- **inventory page**: ``LedgerService.ledger`` of one site (what the page reads on a site or
  range change) and ``LedgerService.page`` (the first 50 rows of three years);
- **dashboard**: ``DashboardService.snapshot`` of one site.

Columns: SQLite (the same rows, the admin's view); PostgreSQL as ``bench.admin``; PostgreSQL as a
clerk — ``bench.moderator`` for the overview (the same 30 sites, so the ratio is the policies'
cost alone), ``bench.operator`` of ``ALASLA-29`` for the one-site reads (the same rows again);
and **bare SQL** on the same server as the admin's login role: a hand-written statement that
fetches the rows each read is built from, with no DeskOps code — the floor the service's own
work stands on: for the overview the service's five statements written by hand (grouped TON sums
and LOAD records, crusher hours, closings by index seeks, the stock rows' day keys), for the
ledger its stock rows, for the dashboard its stock window and equipment and manpower sums.

Ratios: PostgreSQL admin ÷ SQLite, clerk ÷ admin (the row-level security overhead, target ≤ 1.5),
admin ÷ bare SQL. Target for every read: ≤ 300 ms. Every figure is the median of ``--reps`` calls
after ``--warmup``, taking turns between the columns call by call, each after ``gc.collect()``.
The machine has 2 cores and is shared: the header prints the load average; judge by the spread.
"""

from __future__ import annotations

import argparse
import gc
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
for folder in (REPO, REPO / "bench"):
    if str(folder) not in sys.path:
        sys.path.insert(0, str(folder))

import make_company_store as mk  # noqa: E402
import psycopg  # noqa: E402
from sqlalchemy.engine import URL  # noqa: E402

from deskops_desktop.models.clock import FixedClock  # noqa: E402
from deskops_desktop.services import pg_security  # noqa: E402
from deskops_desktop.services.access import Actor  # noqa: E402
from deskops_desktop.services.bundle import Services, build_services  # noqa: E402
from deskops_desktop.services.store import Store  # noqa: E402

TARGET_MS = 300.0
RLS_TARGET = 1.5


@dataclass
class Column:
    """One way of doing a read, and its samples (seconds)."""

    name: str
    call: Callable[[], object]
    samples: list[float] = field(default_factory=list)

    @property
    def ms(self) -> float:
        return statistics.median(self.samples) * 1000

    @property
    def spread(self) -> str:
        return f"{min(self.samples) * 1000:.1f}-{max(self.samples) * 1000:.1f}"


def interleaved(columns: Sequence[Column], reps: int, warmup: int) -> None:
    for _ in range(warmup):
        for column in columns:
            column.call()
    for _ in range(reps):
        for column in columns:
            gc.collect()
            started = time.perf_counter()
            column.call()
            column.samples.append(time.perf_counter() - started)


# ------------------------------------------------------------------------- the stores
@dataclass
class Side:
    """Services and the signed-in actor of one store."""

    services: Services
    actor: Actor

    def site(self, code: str) -> str:
        return self.services.master.site_by_code(self.actor, code).id


def sqlite_side(path: Path) -> Side:
    store = Store(f"sqlite:///{path}", clock=FixedClock(mk.NOW))
    services = build_services(store)
    return Side(services, services.users.authenticate(mk.ADMIN, mk.PASSWORD))


def pg_side(url: URL, username: str) -> Side:
    """Signed in as ``username``'s own login role, as the desktop app does."""
    store = Store(pg_security.clerk_url(url), clock=FixedClock(mk.NOW))
    services = build_services(store)
    return Side(services, services.users.authenticate(username, mk.PASSWORD))


# ------------------------------------------------------------------------ bare SQL
# The overview by hand, both periods in each statement (split by CASE), the same strategy as
# the service: grouped TON sums, grouped LOAD records, crusher hours, one seek per site and
# material for the closings, and the stock rows' (site, day) keys for the entered days.
_PERIOD = "CASE WHEN date >= %(cur)s THEN 0 ELSE 1 END"
_OVERVIEW_SQL = (
    " UNION ALL ".join(
        f"SELECT '{table}', site_id, {split}, {_PERIOD}, SUM(quantity) FROM {table}"
        " WHERE site_id = ANY(%(sites)s) AND date BETWEEN %(lo)s AND %(hi)s"
        " AND material_id = ANY(%(tons)s) GROUP BY 1, 2, 3, 4"
        for table, split in (
            ("production", "''"),
            ("received", "''"),
            ("feed", "''"),
            ("dispatches", "fate"),
        )
    ),
    " UNION ALL ".join(
        f"SELECT '{table}', site_id, {split}, {_PERIOD}, material_id, quantity, COUNT(*),"
        f" MIN(date) FROM {table} WHERE site_id = ANY(%(sites)s)"
        " AND date BETWEEN %(lo)s AND %(hi)s AND material_id = ANY(%(loads)s)"
        " GROUP BY 1, 2, 3, 4, 5, 6"
        for table, split in (
            ("production", "''"),
            ("received", "''"),
            ("feed", "''"),
            ("dispatches", "fate"),
        )
    ),
    "SELECT l.site_id, CASE WHEN l.date >= %(cur)s THEN 0 ELSE 1 END, SUM(l.hours * l.count)"
    " FROM equipment_logs l JOIN equipment e ON e.id = l.equipment_id"
    " WHERE e.type = 'CRUSHING_SCREENING' AND l.site_id = ANY(%(sites)s)"
    " AND l.date BETWEEN %(lo)s AND %(hi)s GROUP BY 1, 2",
    "SELECT s.id, m.id, (SELECT closing FROM stock_days d WHERE d.site_id = s.id"
    " AND d.material_id = m.id AND d.day <= %(hi)s ORDER BY d.day DESC LIMIT 1),"
    " (SELECT closing FROM stock_days d WHERE d.site_id = s.id AND d.material_id = m.id"
    " AND d.day < %(cur)s ORDER BY d.day DESC LIMIT 1)"
    " FROM sites s CROSS JOIN materials m WHERE s.id = ANY(%(sites)s)",
    "SELECT DISTINCT site_id, day FROM stock_days WHERE site_id = ANY(%(sites)s)"
    " AND day BETWEEN %(lo)s AND %(hi)s",
)
_LEDGER_SQL = (
    "SELECT material_id, day, produced, received, dispatched, fed, adjustment, closing"
    " FROM stock_days WHERE site_id = %(s)s AND day BETWEEN %(a)s AND %(b)s ORDER BY day"
)
_PAGE_SQL = _LEDGER_SQL + " LIMIT 50"
_DASHBOARD_SQL = (
    _LEDGER_SQL,
    "SELECT equipment_id, SUM(hours * count), COUNT(*) FROM equipment_logs"
    " WHERE site_id = %(s)s AND date BETWEEN %(a)s AND %(b)s GROUP BY equipment_id",
    "SELECT role_id, shift, SUM(headcount), SUM(headcount * hours) FROM manpower_logs"
    " WHERE site_id = %(s)s AND date BETWEEN %(a)s AND %(b)s GROUP BY role_id, shift",
)


class Bare:
    """psycopg on the benchmark database as the admin's login role (no DeskOps code)."""

    def __init__(self, url: URL) -> None:
        roles = pg_security.roles_for(url)
        self.conn = psycopg.connect(
            host=url.host,
            port=url.port,
            dbname=url.database,
            user=roles.login(mk.ADMIN),
            password=mk.PASSWORD,
            autocommit=True,
        )
        self.site_ids = [r[0] for r in self.conn.execute("SELECT id FROM sites WHERE active")]
        materials = self.conn.execute("SELECT id, uom FROM materials").fetchall()
        self.ton_ids = [m for m, uom in materials if uom == "TON"]
        self.load_ids = [m for m, uom in materials if uom != "TON"]

    def fetch(self, statements: Sequence[str], **params: object) -> int:
        rows = 0
        for sql in statements:
            rows += len(self.conn.execute(sql, params).fetchall())
        return rows

    def overview(self, first: date, last: date) -> int:
        days = (last - first).days + 1
        params = {
            "sites": self.site_ids,
            "tons": self.ton_ids,
            "loads": self.load_ids,
            "lo": first - timedelta(days=days),
            "cur": first,
            "hi": last,
        }
        return self.fetch(_OVERVIEW_SQL, **params)


# --------------------------------------------------------------------------- the run
@dataclass
class Row:
    label: str
    columns: dict[str, Column]
    clerk: str

    def ms(self, name: str) -> float | None:
        column = self.columns.get(name)
        return column.ms if column is not None and column.samples else None


def _ratio(a: float | None, b: float | None) -> str:
    return "-" if a is None or b is None or b == 0 else f"{a / b:.2f}"


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} ms"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL superuser's URL of the server")
    parser.add_argument("--reps", type=int, default=9)
    parser.add_argument("--warmup", type=int, default=2)
    args = parser.parse_args(argv)
    path, meta = mk.ensure_sqlite()
    url = mk.ensure_postgres(mk.pg_server_url(args.pg), path, meta)

    lite = sqlite_side(path)
    admin = pg_side(url, mk.ADMIN)
    moderator = pg_side(url, mk.MODERATOR)
    operator = pg_side(url, mk.OPERATOR)
    bare = Bare(url)
    code = mk.OPERATOR_SITE
    site = {name: side.site(code) for name, side in (("lite", lite), ("pg", admin))}
    end = mk.NOW.date()
    month = (end - timedelta(days=29), end)
    year = (end - timedelta(days=364), end)
    three = (end - timedelta(days=3 * 365 - 1), end)

    def overview(side: Side, span: tuple[date, date]) -> Callable[[], object]:
        return lambda: side.services.overview.overview(side.actor, *span)

    def ledger(side: Side, sid: str, span: tuple[date, date]) -> Callable[[], object]:
        return lambda: side.services.ledger.ledger(side.actor, sid, *span)

    def page(side: Side, sid: str) -> Callable[[], object]:
        return lambda: side.services.ledger.page(side.actor, sid, *three, 0, 50)

    def snapshot(side: Side, sid: str, span: tuple[date, date]) -> Callable[[], object]:
        return lambda: side.services.dashboard.snapshot(side.actor, sid, *span)

    def bare_overview(span: tuple[date, date]) -> Callable[[], object]:
        return lambda: bare.overview(*span)

    def bare_rows(statements: Sequence[str], span: tuple[date, date]) -> Callable[[], object]:
        return lambda: bare.fetch(statements, s=site["pg"], a=span[0], b=span[1])

    rows: list[Row] = []
    for label, span in (("30 days", month), ("1 year", year)):
        rows.append(
            Row(
                f"company overview, 30 sites, {label}",
                {
                    "sqlite": Column("sqlite", overview(lite, span)),
                    "admin": Column("admin", overview(admin, span)),
                    "clerk": Column("clerk", overview(moderator, span)),
                    "bare": Column("bare", bare_overview(span)),
                },
                "moderator",
            )
        )
    rows.append(
        Row(
            "company overview, operator's 1 site, 30 days",
            {"clerk": Column("clerk", overview(operator, month))},
            "operator",
        )
    )
    for label, span in (("30 days", month), ("1 year", year)):
        rows.append(
            Row(
                f"inventory page: ledger, 1 site, {label}",
                {
                    "sqlite": Column("sqlite", ledger(lite, site["lite"], span)),
                    "admin": Column("admin", ledger(admin, site["pg"], span)),
                    "clerk": Column("clerk", ledger(operator, site["pg"], span)),
                    "bare": Column("bare", bare_rows([_LEDGER_SQL], span)),
                },
                "operator",
            )
        )
    rows.append(
        Row(
            "inventory page: first 50 rows of 3 years",
            {
                "sqlite": Column("sqlite", page(lite, site["lite"])),
                "admin": Column("admin", page(admin, site["pg"])),
                "clerk": Column("clerk", page(operator, site["pg"])),
                "bare": Column(
                    "bare", bare_rows([_PAGE_SQL], (three[0], three[0] + timedelta(days=2)))
                ),
            },
            "operator",
        )
    )
    for label, span in (("30 days", month), ("1 year", year)):
        rows.append(
            Row(
                f"dashboard snapshot, 1 site, {label}",
                {
                    "sqlite": Column("sqlite", snapshot(lite, site["lite"], span)),
                    "admin": Column("admin", snapshot(admin, site["pg"], span)),
                    "clerk": Column("clerk", snapshot(operator, site["pg"], span)),
                    "bare": Column("bare", bare_rows(_DASHBOARD_SQL, span)),
                },
                "operator",
            )
        )

    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(
        f"DeskOps company benchmark: {meta.sites} sites x {meta.days} days,"
        f" {meta.records:,} records, {meta.rows['stock_days']:,} stock days"
    )
    print(f"  SQLite {path}; PostgreSQL {url.render_as_string(hide_password=True)}")
    print(
        f"  median of {args.reps} after {args.warmup} warm-up calls, columns taking turns;"
        f" 2 CPUs shared, load average {load:.2f} at start"
    )
    # The same figures on both backends, and the clerk's overview is the admin's.
    same = lite.services.overview.overview(lite.actor, *month)
    theirs = admin.services.overview.overview(admin.actor, *month)
    mods = moderator.services.overview.overview(moderator.actor, *month)
    assert [(x.site.code, x.current) for x in same.sites] == [
        (x.site.code, x.current) for x in theirs.sites
    ], "SQLite and PostgreSQL overviews differ"
    assert [x.current for x in mods.sites] == [x.current for x in theirs.sites]
    print("  check: the overview is identical on SQLite, as the admin and as the moderator")

    failed = False
    header = (
        "| read | SQLite | PG admin | PG clerk | bare SQL | admin/SQLite | clerk/admin |"
        " admin/bare | target | result |"
    )
    lines = [header, "|" + "---|" * 10]
    for row in rows:
        interleaved(list(row.columns.values()), args.reps, args.warmup)
        worst = max(c.ms for c in row.columns.values() if c.name != "bare")
        rls = None
        if row.ms("admin") and row.ms("clerk"):
            rls = (row.ms("clerk") or 0) / (row.ms("admin") or 1)
        ok = worst <= TARGET_MS and (rls is None or rls <= RLS_TARGET)
        failed |= not ok
        lines.append(
            f"| {row.label} ({row.clerk}) | {_fmt(row.ms('sqlite'))} | {_fmt(row.ms('admin'))}"
            f" | {_fmt(row.ms('clerk'))} | {_fmt(row.ms('bare'))}"
            f" | {_ratio(row.ms('admin'), row.ms('sqlite'))}"
            f" | {_ratio(row.ms('clerk'), row.ms('admin'))}"
            f" | {_ratio(row.ms('admin'), row.ms('bare'))}"
            f" | <= {TARGET_MS:.0f} ms, RLS <= {RLS_TARGET} | {'PASS' if ok else 'FAIL'} |"
        )
        print(lines[-1], flush=True)
    print()
    print("\n".join(lines))
    print()
    for row in rows:
        spreads = "; ".join(f"{c.name} {c.spread}" for c in row.columns.values())
        print(f"  {row.label}: {spreads} ms (n={args.reps})")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
