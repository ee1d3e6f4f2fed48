"""The store: one database (SQLite file by default, PostgreSQL when configured).

Invariants a newcomer must not break:
- A session lives for one unit of work, in the thread that uses it (``read()`` / ``write()``).
- On SQLite, write units start with ``BEGIN IMMEDIATE`` so the writer takes the lock up front and
  waits (busy timeout) instead of failing half-way with "database is locked" on upgrade from a
  read lock. WAL keeps readers from blocking the writer.
- Schema changes happen only through Alembic (``upgrade()``); the app calls it on every start.
- A SQLite file store is refused on a network share or in a synced cloud folder
  (``store_location``): their locking breaks SQLite and corrupts the database.
- The store carries the app's one clock (``models.clock``): every service built over it, every
  timestamp its sessions stamp and every change-log row read that clock, so a test or the
  command line pins "now" in one place.
"""

from __future__ import annotations

import contextvars
import os
import shutil
import sqlite3
import subprocess
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import create_engine, event, select
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

from deskops_desktop.models import reference_data as ref
from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock
from deskops_desktop.models.reference import Equipment, ManpowerRole, Material, Site
from deskops_desktop.services.outbox import is_replica
from deskops_desktop.services.paths import data_dir, default_db_url
from deskops_desktop.services.secrets import with_keyring_password
from deskops_desktop.services.store_location import check_store_location

ENV_DB_URL = "DESKOPS_DB_URL"
SQLITE_BUSY_TIMEOUT_MS = 10_000

_write_intent: contextvars.ContextVar[bool] = contextvars.ContextVar("write_intent", default=False)


def resolve_db_url(explicit: str | None = None) -> str:
    """``--db`` wins, then ``DESKOPS_DB_URL``, then the SQLite file in the user data folder."""
    return explicit or os.environ.get(ENV_DB_URL) or default_db_url()


def sqlite_file(url: str | URL) -> Path | None:
    """The database file of a SQLite file URL; None for PostgreSQL, ``:memory:`` and URIs.

    Backups and the start-up integrity check work on this file before a ``Store`` exists.
    """
    parsed = make_url(url) if isinstance(url, str) else url
    db = parsed.database
    if parsed.get_backend_name() != "sqlite" or not db or db == ":memory:":
        return None
    if db.startswith("file:"):
        return None
    return Path(db)


def _is_local_host(host: str | None) -> bool:
    return host in (None, "", "localhost", "127.0.0.1", "::1") or (host or "").startswith("/")


def _postgres_url(url: URL) -> URL:
    """Normalise the driver to psycopg 3 and default to verified TLS for remote servers."""
    if url.drivername in ("postgresql", "postgres"):
        url = url.set(drivername="postgresql+psycopg")
    if "sslmode" not in url.query and not _is_local_host(url.host):
        url = url.update_query_dict({"sslmode": "verify-full"})
    return url


class Store:
    """Engine, sessions, migrations, seeding and backup for one database.

    ``clock`` is the app's clock (the operating system's unless a test or the CLI pins one);
    services read "now" and "today" from ``store.clock``.
    """

    def __init__(self, url: str | URL, *, clock: Clock = SYSTEM_CLOCK) -> None:
        self.clock = clock
        # str(URL) masks the password as "***": render it in full so a URL object keeps its own.
        text = url.render_as_string(hide_password=False) if isinstance(url, URL) else url
        parsed = with_keyring_password(text)
        self.is_sqlite = parsed.get_backend_name() == "sqlite"
        kwargs: dict[str, Any] = {}
        if self.is_sqlite:
            db = parsed.database
            if db and db != ":memory:" and not db.startswith("file:"):
                # Before anything touches the folder: no store on a share or in a synced folder.
                check_store_location(db, data_dir())
                Path(db).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {
                "check_same_thread": False,
                "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000,
            }
        else:
            parsed = _postgres_url(parsed)
            kwargs.update(pool_pre_ping=True, pool_size=5, max_overflow=5, pool_recycle=1800)
        self.url = parsed
        # A PostgreSQL URL without a user name is a secured company store (pg_security): each
        # clerk connects as their own role, so nothing can be read before sign-in.
        self.sign_in_by_role = not self.is_sqlite and not parsed.username
        self._engine_kwargs = kwargs
        self.engine: Engine = create_engine(parsed, **kwargs)
        if self.is_sqlite:
            event.listen(self.engine, "connect", _sqlite_on_connect)
            event.listen(self.engine, "begin", _sqlite_on_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False, info={"clock": clock})

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @property
    def sqlite_file(self) -> Path | None:
        """The database file when this is a SQLite file store (backups work on it)."""
        return sqlite_file(self.url)

    @property
    def display_url(self) -> str:
        return self.url.render_as_string(hide_password=True)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; rolled back at the end (reads never commit)."""
        with self._sessions() as session:
            try:
                yield session
            finally:
                session.rollback()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One write unit of work: commits on success, rolls back on any exception."""
        token = _write_intent.set(True)
        try:
            with self._sessions() as session, session.begin():
                yield session
        finally:
            _write_intent.reset(token)

    @property
    def needs_sign_in(self) -> bool:
        """A secured store nobody has signed in to yet: no connection is possible."""
        return self.sign_in_by_role and not self.url.username

    def use_credentials(self, username: str, password: str) -> None:
        """Connect as another PostgreSQL role from now on (a clerk signing in to their own).

        Services keep this ``Store``; only its engine changes, so they all follow.
        """
        url = self.url.set(username=username, password=password)
        old = self.engine
        self.engine = create_engine(url, **self._engine_kwargs)
        self.url = url
        self._sessions.configure(bind=self.engine)
        old.dispose()

    def upgrade(self) -> None:
        if self.needs_sign_in:
            return  # a secured store's schema is kept by `deskops db init-server`, not clerks
        from deskops_desktop.services.migrate import upgrade_to_head

        upgrade_to_head(self.engine)

    def seed_reference_data(self) -> None:
        """Add missing reference rows by code; never overwrite an admin's edits."""
        if self.needs_sign_in:
            return
        with self.write() as session:
            if is_replica(session):
                return  # a remote-site replica's master data comes from head office only
            _seed(session)

    def backup(self, target: Path) -> Path:
        """A consistent online copy of the store (SQLite backup API / pg_dump)."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        if self.is_sqlite:
            return self._sqlite_backup(target)
        return self._pg_dump(target)

    def _sqlite_backup(self, target: Path) -> Path:
        tmp = target.with_name(target.name + ".partial")
        raw = self.engine.raw_connection()
        try:
            source = raw.driver_connection
            assert isinstance(source, sqlite3.Connection)
            with sqlite3.connect(tmp) as dest:
                source.backup(dest)
            dest.close()
        finally:
            raw.close()
        os.replace(tmp, target)
        return target

    def _pg_dump(self, target: Path) -> Path:
        exe = shutil.which("pg_dump")
        if exe is None:
            raise RuntimeError("pg_dump is not installed; install the PostgreSQL client tools")
        url = self.url.set(drivername="postgresql")
        env = dict(os.environ)
        if url.password:
            env["PGPASSWORD"] = str(url.password)
        dsn = url.set(password=None).render_as_string(hide_password=False)
        tmp = target.with_name(target.name + ".partial")
        subprocess.run(
            [exe, "--format=custom", f"--file={tmp}", f"--dbname={dsn}"], check=True, env=env
        )
        os.replace(tmp, target)
        return target

    def dispose(self) -> None:
        self.engine.dispose()


def _sqlite_on_connect(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module; _sqlite_on_begin issues BEGIN.
    dbapi_conn.isolation_level = None
    cursor = dbapi_conn.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=FULL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def _sqlite_on_begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if _write_intent.get() else "BEGIN")


def _seed(session: Session) -> None:
    """Add the reference rows a new store starts with; a row already there (by code) is kept."""
    _seed_by_code(session, Material, ref.MATERIALS)
    _seed_by_code(session, Equipment, ref.EQUIPMENT)
    _seed_by_code(session, ManpowerRole, ref.ROLES)
    if session.scalar(select(Site.id).where(Site.code == ref.DEFAULT_SITE_CODE)) is None:
        session.add(
            Site(
                code=ref.DEFAULT_SITE_CODE,
                name=ref.DEFAULT_SITE_NAME,
                location=ref.DEFAULT_SITE_LOCATION,
                timezone=ref.DEFAULT_TIMEZONE,
            )
        )


def _seed_by_code(
    session: Session,
    table: type[Material] | type[Equipment] | type[ManpowerRole],
    seeds: Sequence[ref.MaterialSeed | ref.EquipmentSeed | ref.RoleSeed],
) -> None:
    """The missing seeds as rows, in the seeds' order: a seed's fields are the table's columns."""
    have = set(session.scalars(select(table.code)))
    for order, seed in enumerate(seeds):
        if seed.code not in have:
            session.add(table(**seed._asdict(), sort_order=order))


class StoreService:
    """Base of the services over one store: the store, and "now" from the store's clock.

    A service never keeps a session: each public call opens one unit of work
    (``self._store.read()`` / ``write()``) and returns plain values.
    """

    def __init__(self, store: Store) -> None:
        self._store = store

    def _now(self) -> datetime:
        return self._store.clock.now()


def open_store(
    url: str | None = None, *, migrate: bool = True, clock: Clock = SYSTEM_CLOCK
) -> Store:
    """Open (and by default upgrade and seed) the configured store."""
    store = Store(resolve_db_url(url), clock=clock)
    if migrate:
        store.upgrade()
        store.seed_reference_data()
    return store


def describe_url(url: str) -> str:
    return make_url(url).render_as_string(hide_password=True)
