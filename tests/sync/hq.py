"""A head office for sync tests: a secured PostgreSQL database with sync installed, two sites,
an administrator, two operators and a moderator (``make_hq``), and a reset between tests.

Used on the shared dev server (one database per test session) and on throw-away durable
servers that fault tests kill. Everything head office does in a test goes through the same
services an online clerk uses, as that clerk's own login role, so the feed triggers and the
row-level security see exactly what production sees.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime

import psycopg
from sqlalchemy import text
from sqlalchemy.engine import URL

from deskops_desktop.models.enums import Role
from deskops_desktop.services import pg_security
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.pg_security import ServerRoles, clerk_url, init_server, roles_for
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from deskops_desktop.sync.server_schema import install

ADMIN_PASSWORD = "boss-pass-123"
CLERK_PASSWORD = "clerk-pass-123"
CLERKS: dict[str, tuple[Role, tuple[str, ...]]] = {
    "op1": (Role.OPERATOR, ("SITE-A",)),
    "op2": (Role.OPERATOR, ("SITE-A",)),
    "mod1": (Role.MODERATOR, ("SITE-A", "SITE-B")),
}
DATA_TABLES = (
    "production, dispatches, received, equipment_logs, manpower_logs, inventory_adjustments, "
    "feed, stock_days, change_log, export_jobs, export_audits, production_targets, "
    "conversion_factors, report_packs, sync_changes, "
    "sync_applied_ops, sync_attention, sync_replicas, sync_horizon"
)


@dataclass
class HQ:
    url: URL
    roles: ServerRoles
    store: Store
    services: Services
    boss: Actor
    site_a: SiteInfo
    site_b: SiteInfo
    _online: dict[str, tuple[Store, Services, Actor]] = field(default_factory=dict)

    @property
    def clerk_url(self) -> URL:
        return clerk_url(self.url)

    def psycopg(self, username: str | None = None) -> psycopg.Connection[tuple[object, ...]]:
        """Plain psycopg: the superuser, or a clerk's own login role (autocommit)."""
        return psycopg.connect(
            host=self.url.host,
            port=self.url.port,
            dbname=self.url.database,
            user=self.roles.login(username) if username else self.url.username,
            password=CLERK_PASSWORD if username else None,
            autocommit=True,
        )

    def server_now(self) -> datetime:
        with self.store.read() as session:
            now = session.execute(text("SELECT now()")).scalar_one()
        assert isinstance(now, datetime)
        return now

    def today(self, site: SiteInfo) -> date:
        """The site's date by the server's clock (its policies decide the operator window)."""
        with self.store.read() as session:
            day = session.execute(
                text("SELECT (now() AT TIME ZONE :tz)::date"), {"tz": site.timezone}
            ).scalar_one()
        assert isinstance(day, date)
        return day

    def online(self, username: str) -> tuple[Services, Actor]:
        """Services of a head-office clerk signed in as their own role (kept per test)."""
        if username not in self._online:
            store = Store(self.clerk_url, clock=self.store.clock)
            services = build_services(store)
            password = ADMIN_PASSWORD if username == "boss" else CLERK_PASSWORD
            actor = services.users.authenticate(username, password)
            self._online[username] = (store, services, actor)
        _, services, actor = self._online[username]
        return services, actor

    def reset(self) -> None:
        """Back to the baseline: no records, no feed, the clerks as created."""
        for store, _, _ in self._online.values():
            store.dispose()
        self._online.clear()
        users = {u.username: u for u in self.services.users.list(SYSTEM)}
        for name, (role, sites) in CLERKS.items():
            user = users[name]
            if (user.role, user.site_codes, user.active) != (role, sites, True):
                self.services.users.update(
                    self.boss, user.id, role=role, site_codes=list(sites), active=True
                )
        with self.store.engine.begin() as conn:
            # A test that leaked an open transaction fails the next one quickly, not forever.
            conn.execute(text("SET LOCAL lock_timeout = '20s'"))
            conn.execute(text(f"TRUNCATE {DATA_TABLES}"))

    def close(self) -> None:
        for store, _, _ in self._online.values():
            store.dispose()
        self.store.dispose()


def make_hq(server: URL, name: str, *, clock: object = None) -> HQ:
    """Create the database ``name`` on ``server`` (a superuser URL), secure it, populate it."""
    admin = Store(server.set(database="postgres"))
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_security.drop_server_roles(conn, pg_security.role_prefix(name))
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    url = server.set(database=name)
    init_server(url, admin=("boss", ADMIN_PASSWORD), extensions=[install])
    store = Store(url, **({"clock": clock} if clock is not None else {}))  # type: ignore[arg-type]
    services = build_services(store)
    boss_id = next(u.id for u in services.users.list(SYSTEM) if u.username == "boss")
    boss = services.users.actor(boss_id)
    site_a = services.master.add_site(boss, "SITE-A", "Site A").value
    site_b = services.master.add_site(boss, "SITE-B", "Site B", timezone="Asia/Dubai").value
    for username, (role, sites) in CLERKS.items():
        services.users.create(boss, username, CLERK_PASSWORD, role, list(sites))
    hq = HQ(url, roles_for(url), store, services, boss, site_a, site_b)
    hq.reset()
    return hq


def drop_hq(hq: HQ) -> None:
    hq.close()
    admin = Store(hq.url.set(database="postgres"))
    try:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{hq.url.database}" WITH (FORCE)'))
            pg_security.drop_server_roles(conn, hq.roles.prefix)
    finally:
        admin.dispose()


@contextmanager
def open_transaction(
    conn: psycopg.Connection[tuple[object, ...]],
) -> Iterator[psycopg.Connection[tuple[object, ...]]]:
    """BEGIN on an autocommit psycopg connection; the caller commits or rolls back."""
    conn.execute("BEGIN")
    yield conn
