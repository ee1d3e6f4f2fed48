"""Sync benchmark: push and pull of 10,000 records and a first sync of a site-year, against bare
psycopg writes of the same rows into the same server — ratios in one run (issue 13).

Usage: ``.venv/bin/python bench/bench_sync.py [--records 10000] [--server URL] [--skip-year]``

What it measures, on a PostgreSQL server with durable settings (fsync and synchronous_commit on,
as in production; a throw-away one of its own unless ``--server`` names a superuser URL):

1. **bare write**: the laptop's 10,000 dispatch rows written by plain psycopg into a copy of the
   ``dispatches`` table without triggers or policies, once with ``executemany`` in one
   transaction and once with ``COPY`` — the floor any sync must stand on;
2. **push**: the same 10,000 records, typed offline on a laptop, pushed by ``run_sync`` (as the
   clerk's role, under row-level security, in batches of 200: op ids, the ledger, the change log,
   the feed triggers, then the pull of the echoes and the sanity check);
3. **pull**: 10,000 records entered at head office, pulled by the laptop (ledger rolled forward);
4. **first sync of a site-year**: the demo generator's year of one site at head office, joined
   by a new laptop (download, ledger rebuilt, check), against a bare ``COPY`` of the same rows;
5. **memory**: tracemalloc's peak during a push of ``records / 5`` and of ``records`` records —
   flat means the second is not five times the first.

Bytes are counted by a pass-through TCP proxy between laptop and server. Targets (issue 13):
push within 5x the bare write, 10,000 records within 30 s on a 2-core machine, memory flat.
Exit status 1 when a target is missed. Results also go to ``bench/results/bench_sync.json``.
"""

from __future__ import annotations

import argparse
import io
import json
import platform
import sys
import time
import tracemalloc
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from sqlalchemy import select, text  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402

from deskops_desktop.models.clock import FixedClock  # noqa: E402
from deskops_desktop.models.enums import Module, Role  # noqa: E402
from deskops_desktop.models.records import Dispatch  # noqa: E402
from deskops_desktop.services import passwords  # noqa: E402
from deskops_desktop.services.access import SYSTEM  # noqa: E402
from deskops_desktop.services.bundle import build_services  # noqa: E402
from deskops_desktop.services.demo import generate_demo  # noqa: E402
from deskops_desktop.services.store import Store, open_store  # noqa: E402
from deskops_desktop.sync import Credentials, SyncReport, SyncTuning, join, run_sync  # noqa: E402
from deskops_desktop.sync.link import LinkOptions  # noqa: E402
from tests.pg_throwaway import start_throwaway  # noqa: E402
from tests.sync.hq import CLERK_PASSWORD, HQ, make_hq  # noqa: E402
from tests.sync.proxy import FaultProxy  # noqa: E402

PORT = 54370
RECORD_COLUMNS = [c.name for c in Dispatch.__table__.columns]
OPTIONS = LinkOptions(connect_timeout=10, io_timeout=120.0)


@dataclass
class Row:
    name: str
    seconds: float
    reference: float | None = None
    bytes_moved: int | None = None
    peak_mib: float | None = None
    note: str = ""

    @property
    def ratio(self) -> float | None:
        return self.seconds / self.reference if self.reference else None


@dataclass
class Results:
    rows: list[Row] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)


@contextmanager
def _superuser(url: URL) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
    with psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username
    ) as conn:
        yield conn


def _laptop(hq: HQ, folder: Path, name: str, sites: list[str], via: URL) -> Store:
    clock = FixedClock(hq.server_now())
    store = open_store(f"sqlite:///{folder / f'{name}.sqlite3'}", clock=clock)
    report = join(store, via, "op1", CLERK_PASSWORD, sites, options=OPTIONS)
    if not report.ok:
        raise SystemExit(f"join failed: {report.error}")
    return store


TUNING = SyncTuning()


def _sync(store: Store) -> SyncReport:
    report = run_sync(
        store, Credentials({"op1": CLERK_PASSWORD}, "op1", False), options=OPTIONS, tuning=TUNING
    )
    if not report.ok:
        raise SystemExit(f"sync failed: {report.error}")
    return report


def _type_offline(store: Store, site_id: str, n: int, day: Any) -> float:
    services = build_services(store)
    actor = services.users.authenticate("op1", CLERK_PASSWORD)
    started = time.perf_counter()
    for start in range(0, n, 1000):
        rows = [
            {
                "date": str(day),
                "material": "AGG-G1",
                "quantity": f"{i % 90 + 1}.125",
                "reference": f"DR-{i}",
                "owner": "Acme Roads",
                "trips": 1,
            }
            for i in range(start, min(n, start + 1000))
        ]
        services.records.create_many(actor, Module.DISPATCH, site_id, rows)
    return time.perf_counter() - started


def _laptop_rows(store: Store) -> list[tuple[Any, ...]]:
    """The laptop's dispatch rows as PostgreSQL wants them (the bare write's payload)."""
    table = Dispatch.__table__
    with store.read() as session:
        rows = session.execute(select(table)).mappings().all()
    out = []
    for row in rows:
        values = dict(row)
        values["quantity"] = int(values["quantity"] * 1000)
        out.append(tuple(values[c] for c in RECORD_COLUMNS))
    return out


def _bare(url: URL, rows: list[tuple[Any, ...]], results: Results, label: str) -> float:
    """executemany and COPY of ``rows`` into a trigger-less copy of ``dispatches``."""
    cols = ", ".join(RECORD_COLUMNS)
    marks = ", ".join(["%s"] * len(RECORD_COLUMNS))
    with _superuser(url) as conn:
        conn.execute("DROP TABLE IF EXISTS bench_bare")
        conn.execute(
            "CREATE TABLE bench_bare (LIKE dispatches INCLUDING DEFAULTS INCLUDING INDEXES)"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO bench_bare ({cols}) VALUES ({marks})", rows)
        conn.commit()
        many = time.perf_counter() - started
        conn.execute("TRUNCATE bench_bare")
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cur, cur.copy(f"COPY bench_bare ({cols}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        conn.commit()
        copied = time.perf_counter() - started
        conn.execute("DROP TABLE bench_bare")
        conn.commit()
    results.rows.append(Row(f"bare executemany, {label}", many))
    results.rows.append(Row(f"bare COPY, {label}", copied))
    return many


def _peak(call: Callable[[], Any]) -> tuple[Any, float]:
    tracemalloc.start()
    try:
        value = call()
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return value, peak / 2**20


def _as_clerk(hq: HQ, rows: list[tuple[Any, ...]], results: Results, label: str) -> float:
    """executemany of the same rows into the real ``dispatches`` table as the clerk's role:
    row-level security, foreign keys, indexes and the feed trigger, nothing of the protocol.
    Rolled back afterwards (the commit itself is not timed)."""
    cols = ", ".join(RECORD_COLUMNS)
    marks = ", ".join(["%s"] * len(RECORD_COLUMNS))
    fresh = [
        (*r[: RECORD_COLUMNS.index("id")], f"b{i:035d}", *r[RECORD_COLUMNS.index("id") + 1 :])
        for i, r in enumerate(rows)
    ]
    with psycopg.connect(
        host=hq.url.host,
        port=hq.url.port,
        dbname=hq.url.database,
        user=hq.roles.login("op1"),
        password=CLERK_PASSWORD,
    ) as conn:
        started = time.perf_counter()
        with conn.cursor() as cur:
            cur.executemany(f"INSERT INTO dispatches ({cols}) VALUES ({marks})", fresh)
        seconds = time.perf_counter() - started
        conn.rollback()
    results.rows.append(
        Row(
            f"executemany as the clerk into dispatches, {label}",
            seconds,
            note="RLS + foreign keys + feed trigger, no protocol",
        )
    )
    return seconds


def bench_push_pull(hq: HQ, folder: Path, n: int, results: Results) -> None:
    day = hq.today(hq.site_a)
    laptop = _laptop(hq, folder, "push", ["SITE-A"], hq.clerk_url)
    typed = _type_offline(laptop, hq.site_a.id, n, day)
    results.facts["offline entry of the records on the laptop (create_many) s"] = round(typed, 2)
    rows = _laptop_rows(laptop)
    bare = _bare(hq.url, rows, results, f"{n:,} rows")
    clerk = _as_clerk(hq, rows, results, f"{n:,} rows")
    started = time.perf_counter()
    report = _sync(laptop)
    total = time.perf_counter() - started
    push = report.seconds.get("push", total)
    results.rows.append(
        Row(
            f"push {n:,} records (run_sync: push)",
            push,
            bare,
            None,
            None,
            f"{push / clerk:.1f}x the clerk's own executemany; whole sync {total:.1f} s "
            "incl. the pull of the echoes and the check",
        )
    )
    results.facts["push seconds per step"] = {k: round(v, 2) for k, v in report.seconds.items()}
    if report.push.applied != n:
        results.failures.append(f"push applied {report.push.applied} of {n}")
    if push > 5 * bare:
        results.failures.append(f"push {push:.1f} s is over 5x the bare write {bare:.2f} s")
    if total > 30:
        results.failures.append(f"the sync of {n:,} records took {total:.1f} s (> 30 s)")
    laptop.dispose()

    # Head office enters n records; the laptop pulls them.
    services = build_services(hq.store)
    entered = [
        {
            "date": str(day),
            "material": "AGG-3/4",
            "quantity": f"{i % 70 + 1}.5",
            "reference": f"HQ-{i}",
        }
        for i in range(n)
    ]
    started = time.perf_counter()
    for start in range(0, n, 2000):
        services.records.create_many(
            hq.boss, Module.DISPATCH, hq.site_a.id, entered[start : start + 2000]
        )
    online = time.perf_counter() - started
    results.rows.append(
        Row(
            f"the same write online at head office (create_many), {n:,} records",
            online,
            bare,
            None,
            None,
            f"ledger, change log, policies, feed: DeskOps' own write; push is "
            f"{push / online:.2f}x it",
        )
    )
    reader = Store(f"sqlite:///{folder / 'push.sqlite3'}", clock=FixedClock(hq.server_now()))
    started = time.perf_counter()
    report = _sync(reader)
    total = time.perf_counter() - started
    results.rows.append(
        Row(
            f"pull {n:,} records (run_sync: pull)",
            report.seconds.get("pull", total),
            bare,
            None,
            None,
            f"whole sync {total:.1f} s (ledger rolled forward, check)",
        )
    )
    if report.pull.changes < n:
        results.failures.append(f"pull saw {report.pull.changes} changes of {n}")
    reader.dispose()

    # Memory flat (tracemalloc, which slows Python down: not in the timed runs above), and
    # bytes on the wire through a counting proxy: a fifth of the records, then all of them.
    peaks: dict[int, float] = {}
    for count in (n // 5, n):
        hq.reset()
        proxy = FaultProxy(int(hq.url.port or 5432))
        proxy.start()
        try:
            lap = _laptop(hq, folder, f"mem{count}", ["SITE-A"], hq.clerk_url.set(port=proxy.port))
            _type_offline(lap, hq.site_a.id, count, day)
            before = proxy.stats.bytes_up + proxy.stats.bytes_down
            _, peaks[count] = _peak(lambda lap=lap: _sync(lap))  # type: ignore[misc]
            moved = proxy.stats.bytes_up + proxy.stats.bytes_down - before
            lap.dispose()
        finally:
            proxy.stop()
        results.facts[f"bytes on the wire, sync of {count:,} pushed records (both ways)"] = moved
        results.facts[f"tracemalloc peak, sync of {count:,} pushed records MiB"] = round(
            peaks[count], 1
        )
    results.facts["bytes per pushed record (both ways)"] = round(moved / n)
    growth = peaks[n] / max(peaks[n // 5], 0.1)
    results.facts["memory growth for 5x the records"] = round(growth, 2)
    if growth > 2.5:
        results.failures.append(f"memory grows {growth:.1f}x for 5x the records")


def bench_site_year(hq: HQ, folder: Path, results: Results) -> None:
    hq.reset()
    services = build_services(hq.store)
    summary = generate_demo(services, sites=1, days=365, seed=7)
    site = services.master.site_by_code(SYSTEM, summary.sites[0])
    op1 = next(u for u in services.users.list(SYSTEM) if u.username == "op1")
    services.users.update(hq.boss, op1.id, role=Role.OPERATOR, site_codes=[site.code])
    tables = [
        "production",
        "dispatches",
        "received",
        "equipment_logs",
        "manpower_logs",
        "inventory_adjustments",
    ]
    copied = 0.0
    rows_total = 0
    with _superuser(hq.url) as conn:
        for table in tables:
            data = io.BytesIO()
            with (
                conn.cursor() as cur,
                cur.copy(
                    f"COPY (SELECT * FROM {table} WHERE site_id = %s) TO STDOUT", (site.id,)
                ) as copy,
            ):
                for chunk in copy:
                    data.write(chunk)
            counted = conn.execute(
                f"SELECT count(*) FROM {table} WHERE site_id = %s", (site.id,)
            ).fetchone()
            assert counted is not None
            rows_total += int(counted[0])
            conn.execute(f"CREATE TEMP TABLE bare_{table} (LIKE {table})")
            started = time.perf_counter()
            with conn.cursor() as cur, cur.copy(f"COPY bare_{table} FROM STDIN") as copy:
                copy.write(data.getvalue())
            conn.commit()
            copied += time.perf_counter() - started
    results.rows.append(Row(f"bare COPY of the site-year ({rows_total:,} records)", copied))
    proxy = FaultProxy(int(hq.url.port or 5432))
    proxy.start()
    try:
        clock = FixedClock(hq.server_now())
        store = open_store(f"sqlite:///{folder / 'year.sqlite3'}", clock=clock)
        started = time.perf_counter()
        report, peak = _peak(
            lambda: join(
                store,
                hq.clerk_url.set(port=proxy.port),
                "op1",
                CLERK_PASSWORD,
                [site.code],
                options=OPTIONS,
            )
        )
        total = time.perf_counter() - started
        if not report.ok:
            results.failures.append(f"first sync failed: {report.error}")
        results.rows.append(
            Row(
                f"first sync of the site-year ({report.downloaded:,} rows)",
                total,
                copied,
                proxy.stats.bytes_up + proxy.stats.bytes_down,
                peak,
                "download, ledger rebuilt, pull, check",
            )
        )
        with store.read() as session:
            laptop_rows = sum(
                int(session.execute(text(f"SELECT count(*) FROM {t}")).scalar_one()) for t in tables
            )
        if laptop_rows != rows_total:
            results.failures.append(f"the laptop holds {laptop_rows} of {rows_total} records")
        store.dispose()
    finally:
        proxy.stop()


def print_table(results: Results) -> None:
    print(f"\n{'measure':<58} {'seconds':>8} {'ratio':>7} {'MiB moved':>10} {'peak MiB':>9}")
    for row in results.rows:
        ratio = f"{row.ratio:.1f}x" if row.ratio else ""
        moved = f"{row.bytes_moved / 2**20:.1f}" if row.bytes_moved else ""
        peak = f"{row.peak_mib:.1f}" if row.peak_mib is not None else ""
        print(f"{row.name:<58} {row.seconds:>8.2f} {ratio:>7} {moved:>10} {peak:>9}")
        if row.note:
            print(f"  {row.note}")
    for key, value in results.facts.items():
        print(f"{key}: {value}")
    print("targets: " + ("all met" if not results.failures else "; ".join(results.failures)))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--server", help="a superuser URL of a server to use instead of a new one")
    parser.add_argument("--skip-year", action="store_true", help="skip the site-year first sync")
    parser.add_argument(
        "--batch",
        type=int,
        default=SyncTuning().push_batch,
        help="operations per push transaction (default: the shipped size)",
    )
    args = parser.parse_args(argv)
    global TUNING
    TUNING = SyncTuning(push_batch=args.batch)
    passwords.COST_LOG_N = 14  # verifiers are cached at every sync; keep the bench about sync
    folder = Path("/tmp") / "deskops-bench-sync"
    folder.mkdir(exist_ok=True)
    for old in folder.glob("*.sqlite3*"):
        old.unlink()
    server = None
    if args.server:
        base = make_url(args.server)
    else:
        server = start_throwaway(PORT)
        base = make_url(server.url)
    results = Results()
    results.facts["machine"] = f"{platform.machine()}, {platform.python_version()}"
    hq = make_hq(base, "deskops_bench_sync")
    try:
        bench_push_pull(hq, folder, args.records, results)
        if not args.skip_year:
            bench_site_year(hq, folder, results)
    finally:
        hq.close()
        if server is not None:
            server.remove()
    print_table(results)
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_sync.json").write_text(
        json.dumps(
            {
                "rows": [{**r.__dict__, "ratio": r.ratio} for r in results.rows],
                "facts": results.facts,
                "failures": results.failures,
            },
            indent=2,
        )
    )
    return 1 if results.failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
