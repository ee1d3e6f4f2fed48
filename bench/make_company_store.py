"""Build the company benchmark store once: 30 sites x 3 years, on SQLite and on PostgreSQL.

Usage: ``.venv/bin/python bench/make_company_store.py [--pg URL] [--force]``
(``--pg`` defaults to ``$DESKOPS_BENCH_PG_URL``, else ``$DESKOPS_TEST_PG_URL``: a superuser's
URL of the server; the benchmark database ``deskops_bench_company`` is created on it.)

Why it is built this way:

- **The data is the demo plant's** (``services.demo.generate_demo``: feed, fates, dated
  conversion factors, breakdowns, stock counts), so the overview's deemed tons, yield and
  diversion have something real to compute. It is written once into SQLite through
  ``RecordService.create_many`` — the validation, ledger and change log of a clerk's entry — with
  the clock pinned to ``NOW``. About 3 million records: ~4 minutes on the 2-core development
  machine, so it is cached: the file is reused while its sidecar ``.meta.json`` matches.
- **The change log is dropped** after generation (and the file vacuumed): no read measured here
  touches it, and it is half the file.
- **PostgreSQL gets the same rows.** ``init_server`` secures a fresh database exactly as
  ``deskops db init-server`` would (roles, forced row-level security), then the rows are copied
  from the SQLite file with ``COPY`` as the superuser (who is not bound by row-level security),
  ids included, so both backends hold identical stores. The users are made through the services:
  ``bench.admin`` (ADMIN), ``bench.moderator`` (MODERATOR, every site: the same rows as the
  admin, read through the policies) and ``bench.operator`` (OPERATOR, ``ALASLA-29`` only). The
  database's comment holds the same meta data, so it is reused while it matches too.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

import psycopg  # noqa: E402
from sqlalchemy.engine import URL, make_url  # noqa: E402

from deskops_desktop.models.clock import FixedClock  # noqa: E402
from deskops_desktop.models.enums import Role  # noqa: E402
from deskops_desktop.services import pg_security  # noqa: E402
from deskops_desktop.services.access import SYSTEM  # noqa: E402
from deskops_desktop.services.bundle import build_services  # noqa: E402
from deskops_desktop.services.demo import generate_demo  # noqa: E402
from deskops_desktop.services.store import Store, open_store  # noqa: E402

FORMAT_VERSION = 1  # bump when the build changes, so cached stores are rebuilt
NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
SITES = 30
DAYS = 1096  # three years
SEED = 2026
DEFAULT_DIR = Path(tempfile.gettempdir()) / "deskops-bench" / "company"
PG_DATABASE = "deskops_bench_company"
ADMIN, MODERATOR, OPERATOR = "bench.admin", "bench.moderator", "bench.operator"
PASSWORD = "bench-pass-123"
OPERATOR_SITE = "ALASLA-29"
# Copied in this order (references first); everything the reads touch.
TABLES = (
    "sites",
    "materials",
    "equipment",
    "manpower_roles",
    "conversion_factors",
    "production_targets",
    "production",
    "dispatches",
    "received",
    "feed",
    "equipment_logs",
    "manpower_logs",
    "inventory_adjustments",
    "stock_days",
)
RECORDS = TABLES[6:13]


@dataclass(frozen=True)
class Meta:
    format_version: int
    sites: int
    days: int
    seed: int
    now: str
    rows: dict[str, int]

    def same_build(self, other: Meta | None) -> bool:
        return other is not None and asdict(self) == asdict(other)

    @property
    def records(self) -> int:
        return sum(self.rows[t] for t in RECORDS)


def _wanted(rows: dict[str, int] | None = None) -> Meta:
    return Meta(FORMAT_VERSION, SITES, DAYS, SEED, NOW.isoformat(), rows or {})


def _counts(con: sqlite3.Connection) -> dict[str, int]:
    return {t: int(con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in TABLES}


# ------------------------------------------------------------------------------ SQLite
def ensure_sqlite(folder: Path = DEFAULT_DIR, *, force: bool = False) -> tuple[Path, Meta]:
    """The SQLite store (built when missing, stale or forced) and its meta data."""
    folder = folder.resolve()
    if folder.is_relative_to(REPO):
        raise SystemExit(f"refusing to write a benchmark store inside the repository: {folder}")
    path = folder / "company.sqlite3"
    sidecar = path.with_name(path.name + ".meta.json")
    if not force and path.exists() and sidecar.exists():
        try:
            meta = Meta(**json.loads(sidecar.read_text()))
            with sqlite3.connect(path) as con:
                counts = _counts(con)
            con.close()
            if meta.same_build(_wanted(counts)) and meta.rows == counts:
                print(
                    f"reusing {path}: {meta.records:,} records, {counts['stock_days']:,} stock days"
                )
                return path, meta
        except (OSError, ValueError, TypeError, sqlite3.Error):
            pass
    for suffix in ("", "-wal", "-shm", ".meta.json"):
        Path(str(path) + suffix).unlink(missing_ok=True)
    folder.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    store = open_store(f"sqlite:///{path}", clock=FixedClock(NOW))
    try:
        services = build_services(store)
        services.users.create(None, ADMIN, PASSWORD, Role.ADMIN)
        print(f"generating {SITES} sites x {DAYS} days of demo records (about 4 minutes) ...")
        summary = generate_demo(services, sites=SITES, days=DAYS, seed=SEED)
        print(summary)
    finally:
        store.dispose()
    con = sqlite3.connect(path, isolation_level=None)
    con.execute("DELETE FROM change_log")
    con.execute("VACUUM")
    con.execute("ANALYZE")
    counts = _counts(con)
    con.close()
    meta = _wanted(counts)
    sidecar.write_text(json.dumps(asdict(meta), indent=2) + "\n")
    took = time.perf_counter() - started
    print(f"built {path} in {took:.0f} s: {meta.records:,} records, {path.stat().st_size:,} bytes")
    return path, meta


# ---------------------------------------------------------------------------- PostgreSQL
def pg_server_url(explicit: str | None = None) -> URL:
    text_url = (
        explicit or os.environ.get("DESKOPS_BENCH_PG_URL") or os.environ.get("DESKOPS_TEST_PG_URL")
    )
    if not text_url:
        raise SystemExit("give --pg URL (a superuser's), or set DESKOPS_BENCH_PG_URL")
    return make_url(text_url)


def _connect(url: URL, database: str) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=url.host,
        port=url.port,
        user=url.username,
        password=url.password,
        dbname=database,
        autocommit=True,
    )


def ensure_postgres(server: URL, sqlite_path: Path, meta: Meta, *, force: bool = False) -> URL:
    """The secured benchmark database (built when missing, stale or forced): its URL."""
    target = server.set(database=PG_DATABASE)
    with _connect(server, "postgres") as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s",
            (PG_DATABASE,),
        ).fetchone()
        if row is not None and not force:
            try:
                if Meta(**json.loads(str(row[0]))).same_build(meta):
                    print(f"reusing PostgreSQL database {PG_DATABASE}")
                    return target
            except (ValueError, TypeError):
                pass
        started = time.perf_counter()
        admin.execute(f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)')
        roles = pg_security.roles_for(target)
        store = Store(server.set(database="postgres"))
        try:
            with store.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                pg_security.drop_server_roles(conn, roles.prefix)
        finally:
            store.dispose()
        admin.execute(f'CREATE DATABASE "{PG_DATABASE}"')
    pg_security.init_server(target, admin=(ADMIN, PASSWORD), clock=FixedClock(NOW))
    _copy(sqlite_path, target)
    _users(target)
    with _connect(server, PG_DATABASE) as conn:
        conn.execute("ANALYZE")
        comment = json.dumps(asdict(meta)).replace("'", "''")
        conn.execute(f"COMMENT ON DATABASE \"{PG_DATABASE}\" IS '{comment}'")
    print(f"built PostgreSQL database {PG_DATABASE} in {time.perf_counter() - started:.0f} s")
    return target


def _copy(sqlite_path: Path, target: URL) -> None:
    """Every table of ``TABLES`` from the SQLite file, ids included (the seeded reference rows
    of the fresh database are replaced by the file's)."""
    source = sqlite3.connect(sqlite_path)
    try:
        with _connect(target, PG_DATABASE) as conn, conn.transaction():
            conn.execute("SET TIME ZONE 'UTC'")  # SQLite keeps naive UTC timestamps
            conn.execute(f"TRUNCATE {', '.join(TABLES)} CASCADE")
            for table in TABLES:
                columns = [r[1] for r in source.execute(f"PRAGMA table_info({table})")]
                names = ", ".join(columns)
                started = time.perf_counter()
                rows = source.execute(f"SELECT {names} FROM {table}")
                count = 0
                with conn.cursor().copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
                print(f"  copied {table}: {count:,} rows in {time.perf_counter() - started:.1f} s")
    finally:
        source.close()


def _users(target: URL) -> None:
    """The moderator (every site) and the operator (one site), made through the services so
    their login roles are synced as in production."""
    store = Store(target, clock=FixedClock(NOW))
    try:
        services = build_services(store)
        boss_id = next(u.id for u in services.users.list(SYSTEM) if u.username == ADMIN)
        boss = services.users.actor(boss_id)
        codes = [s.code for s in services.master.sites(boss)]
        services.users.create(boss, MODERATOR, PASSWORD, Role.MODERATOR, codes)
        services.users.create(boss, OPERATOR, PASSWORD, Role.OPERATOR, [OPERATOR_SITE])
    finally:
        store.dispose()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--pg", metavar="URL", help="a PostgreSQL superuser's URL of the server")
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR, help=f"default {DEFAULT_DIR}")
    parser.add_argument("--force", action="store_true", help="rebuild both stores")
    parser.add_argument("--sqlite-only", action="store_true")
    args = parser.parse_args(argv)
    path, meta = ensure_sqlite(args.dir, force=args.force)
    if not args.sqlite_only:
        ensure_postgres(pg_server_url(args.pg), path, meta, force=args.force)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
