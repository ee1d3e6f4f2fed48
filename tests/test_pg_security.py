"""A secured company store: the PostgreSQL server itself refuses what a clerk's role may not do.

One database per module, secured once by ``init_server`` (like ``deskops db init-server``), with
two sites and an operator and a moderator of the first. The refusals are shown with plain psycopg
connected as the clerk's own login role — no DeskOps code between the clerk and the data — so
they hold for psql, Excel or Power BI as much as for the app.

The test server trusts loopback connections (no password check), which is fine here: what is
under test is what the server lets each role see and change, not how it checks a password.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta

import psycopg
import pytest
from psycopg import errors
from sqlalchemy import text
from sqlalchemy.engine import URL, make_url

from deskops_desktop.cli import main
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import (
    NotFound,
    PermissionDenied,
    StoreOfflineError,
    ValidationError,
)
from deskops_desktop.models.tables import Base
from deskops_desktop.services import pg_security
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.pg_security import ServerRoles, init_server, roles_for
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from tests.conftest import pg_url_or_skip
from tests.helpers import production

pytestmark = pytest.mark.postgres

ADMIN_PASSWORD = "boss-pass-123"
CLERK_PASSWORD = "clerk-pass-123"


@dataclass
class Plant:
    url: URL
    roles: ServerRoles
    services: Services
    boss: Actor
    site_a: SiteInfo
    site_b: SiteInfo
    recent_a: str
    old_a: str
    recent_b: str

    def clerk(self, username: str) -> psycopg.Connection[tuple[object, ...]]:
        """Plain psycopg, connected as the clerk's own login role."""
        return psycopg.connect(
            host=self.url.host,
            port=self.url.port,
            dbname=self.url.database,
            user=self.roles.login(username),
            password=CLERK_PASSWORD,
            autocommit=True,
        )

    def superuser(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(
            host=self.url.host,
            port=self.url.port,
            dbname=self.url.database,
            user=self.url.username,
            autocommit=True,
        )


def _site_today(store: Store, site: SiteInfo) -> date:
    """The site's date by the *server's* clock: its policies decide the operator window by it."""
    with store.read() as session:
        day = session.execute(
            text("SELECT (now() AT TIME ZONE :tz)::date"), {"tz": site.timezone}
        ).scalar_one()
    assert isinstance(day, date)
    return day


@pytest.fixture(scope="module")
def plant() -> Iterator[Plant]:
    server = make_url(pg_url_or_skip())
    name = f"deskops_sec_{os.getpid()}"
    maintenance = Store(server.set(database="postgres"))
    with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    roles = roles_for(url)
    store: Store | None = None
    try:
        report = init_server(url, admin=("boss", ADMIN_PASSWORD))
        assert report.admin_created
        # The superuser's own store: builds the plant through the services (RLS does not bind a
        # superuser), and role changes still go through deskops_sync_login.
        store = Store(url)
        services = build_services(store)
        boss_id = next(u.id for u in services.users.list(_system_admin()) if u.username == "boss")
        boss = services.users.actor(boss_id)
        site_a = services.master.add_site(boss, "SITE-A", "Site A").value
        site_b = services.master.add_site(boss, "SITE-B", "Site B").value
        services.users.create(boss, "op1", CLERK_PASSWORD, Role.OPERATOR, ["SITE-A"])
        services.users.create(boss, "mod1", CLERK_PASSWORD, Role.MODERATOR, ["SITE-A"])
        today_a, today_b = _site_today(store, site_a), _site_today(store, site_b)
        records = services.records
        recent_a = records.create(boss, Module.PRODUCTION, site_a.id, production(today_a)).value.id
        old_a = records.create(
            boss, Module.PRODUCTION, site_a.id, production(today_a - timedelta(days=10))
        ).value.id
        recent_b = records.create(boss, Module.PRODUCTION, site_b.id, production(today_b)).value.id
        yield Plant(url, roles, services, boss, site_a, site_b, recent_a, old_a, recent_b)
    finally:
        if store is not None:
            store.dispose()
        with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_security.drop_server_roles(conn, roles.prefix)
        maintenance.dispose()


def _system_admin() -> Actor:
    from deskops_desktop.services.access import SYSTEM

    return SYSTEM


def _row_count(conn: psycopg.Connection[tuple[object, ...]], sql: str, *args: object) -> int:
    cur = conn.execute(sql, args)
    return cur.rowcount


# ----------------------------------------------------------------- the server refuses
def test_operator_reads_only_own_sites_rows(plant: Plant) -> None:
    with plant.clerk("op1") as conn:
        seen = {r[0] for r in conn.execute("SELECT id FROM production")}
        assert plant.recent_a in seen
        assert plant.recent_b not in seen
        assert conn.execute(
            "SELECT count(*) FROM production WHERE site_id = %s", (plant.site_b.id,)
        ).fetchone() == (0,)
        assert {r[0] for r in conn.execute("SELECT code FROM sites")} == {"SITE-A"}
        assert conn.execute(
            "SELECT count(*) FROM stock_days WHERE site_id = %s", (plant.site_b.id,)
        ).fetchone() == (0,)


def test_operator_cannot_write_another_sites_rows(plant: Plant) -> None:
    with plant.clerk("op1") as conn:
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO production (id, site_id, date, notes, version, shift, material_id,"
                " quantity, operation, created_at, updated_at)"
                " SELECT 'x-b', %s, %s, '', 1, '', id, 1000, 'CRU-PRO', now(), now()"
                " FROM materials WHERE code = 'AGG-G1'",
                (plant.site_b.id, _site_today(plant.services.store, plant.site_b)),
            )
        # Another site's rows are not there to update or delete.
        assert (
            _row_count(
                conn, "UPDATE production SET notes = 'hacked' WHERE site_id = %s", plant.site_b.id
            )
            == 0
        )
        assert _row_count(conn, "DELETE FROM production WHERE id = %s", plant.recent_b) == 0
        # Moving an own record to another site is refused too.
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "UPDATE production SET site_id = %s WHERE id = %s",
                (plant.site_b.id, plant.recent_a),
            )
    with plant.superuser() as su:
        assert su.execute(
            "SELECT notes FROM production WHERE id = %s", (plant.recent_b,)
        ).fetchone() == ("",)


def test_operator_cannot_change_master_data_or_users(plant: Plant) -> None:
    with plant.clerk("op1") as conn:
        for sql in (
            "UPDATE materials SET name = 'cheap' WHERE code = 'AGG-G1'",
            "INSERT INTO sites (id, code, name, location, timezone, active, created_at,"
            " updated_at) VALUES ('s', 'NEW', 'n', '', 'UTC', true, now(), now())",
            "UPDATE equipment SET active = false",
            "DELETE FROM production_targets",
            "UPDATE users SET role = 'ADMIN'",
            "UPDATE report_packs SET destination = '/tmp/elsewhere'",
            "DELETE FROM report_packs",
            f"INSERT INTO user_sites (user_id, site_id) SELECT id, '{plant.site_b.id}' FROM users",
            f"SELECT deskops_sync_login('op1', '{plant.roles.group('admin')}', true, NULL)",
        ):
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute(sql)


def test_password_hashes_are_not_readable_by_clerks(plant: Plant) -> None:
    for clerk in ("op1", "mod1"):
        with plant.clerk(clerk) as conn:
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT password_hash FROM users")
            with pytest.raises(errors.InsufficientPrivilege):
                conn.execute("SELECT * FROM users")
            # Names are fine (who changed what); the hash is not even stored on a server store.
            names = {r[0] for r in conn.execute("SELECT username FROM users")}
            assert {"boss", "op1", "mod1"} <= names
    with plant.superuser() as su:
        hashes = {r[0] for r in su.execute("SELECT password_hash FROM users")}
        assert hashes == {pg_security.PLACEHOLDER_HASH}


def test_operator_cannot_change_records_older_than_7_days(plant: Plant) -> None:
    today = _site_today(plant.services.store, plant.site_a)
    with plant.clerk("op1") as conn:
        assert (
            _row_count(conn, "UPDATE production SET notes = 'late' WHERE id = %s", plant.old_a) == 0
        )
        assert _row_count(conn, "DELETE FROM production WHERE id = %s", plant.old_a) == 0
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "UPDATE production SET date = %s WHERE id = %s",
                (today - timedelta(days=7), plant.recent_a),
            )
        with pytest.raises(errors.InsufficientPrivilege, match="row-level security"):
            conn.execute(
                "INSERT INTO production (id, site_id, date, notes, version, shift, material_id,"
                " quantity, operation, created_at, updated_at)"
                " SELECT 'x-old', %s, %s, '', 1, '', id, 1000, 'CRU-PRO', now(), now()"
                " FROM materials WHERE code = 'AGG-S1'",
                (plant.site_a.id, today - timedelta(days=8)),
            )
        # Stock adjustments are for supervisors.
        with pytest.raises(errors.InsufficientPrivilege):
            conn.execute("DELETE FROM inventory_adjustments")
        # Within the window the same operator may change its own site's record (control).
        assert (
            _row_count(conn, "UPDATE production SET notes = 'fine' WHERE id = %s", plant.recent_a)
            == 1
        )
    with plant.superuser() as su:
        assert su.execute(
            "SELECT notes FROM production WHERE id = %s", (plant.old_a,)
        ).fetchone() == ("",)


def test_moderator_changes_any_date_of_own_sites_only(plant: Plant) -> None:
    with plant.clerk("mod1") as conn:
        assert (
            _row_count(conn, "UPDATE production SET notes = 'checked' WHERE id = %s", plant.old_a)
            == 1
        )
        assert (
            _row_count(conn, "UPDATE production SET notes = 'x' WHERE id = %s", plant.recent_b) == 0
        )


def test_owner_cannot_bypass_row_level_security(plant: Plant) -> None:
    with plant.superuser() as su:
        su.execute(f'SET ROLE "{plant.roles.owner}"')
        assert su.execute("SELECT count(*) FROM production").fetchone() == (0,)
        assert su.execute("SELECT count(*) FROM users").fetchone() == (0,)
        su.execute("RESET ROLE")
        forced = su.execute(
            "SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
            " WHERE n.nspname = 'public' AND c.relkind = 'r' AND c.relrowsecurity"
            " AND c.relforcerowsecurity"
        ).fetchone()
        assert forced == (len(Base.metadata.tables),)
        logins = su.execute(
            "SELECT rolname FROM pg_roles WHERE rolcanlogin AND rolname LIKE %s",
            (plant.roles.prefix + "%",),
        ).fetchall()
        assert plant.roles.owner not in {r[0] for r in logins}


def test_every_table_has_rules() -> None:
    assert set(Base.metadata.tables) == set(pg_security.TABLE_RULES)


# ------------------------------------------------------------- the app over the server
def test_clerk_signs_in_as_own_role_and_the_service_checks_still_apply(plant: Plant) -> None:
    store = Store(pg_security.clerk_url(plant.url))
    try:
        assert store.needs_sign_in
        services = build_services(store)
        store.upgrade()  # a no-op before sign-in: clerks do not migrate a server store
        actor = services.users.authenticate("op1", CLERK_PASSWORD)
        assert actor.role is Role.OPERATOR
        assert actor.site_ids == {plant.site_a.id}
        assert store.url.username == plant.roles.login("op1")
        today = _site_today(plant.services.store, plant.site_a)
        row = services.records.create(
            actor, Module.PRODUCTION, plant.site_a.id, production(today, "AGG-3/4")
        ).value
        assert services.ledger.verify(actor, plant.site_a.id) == []
        # The other site does not even exist for this clerk.
        with pytest.raises((PermissionDenied, NotFound)):
            services.records.create(actor, Module.PRODUCTION, plant.site_b.id, production(today))
        # Who changed a record is readable (names), and the row is there for the clerk.
        assert services.records.get(actor, Module.PRODUCTION, row.id).version == 1
        assert services.users.usernames([plant.boss.user_id or ""]) == {plant.boss.user_id: "boss"}
        # Export queue locking (SELECT … FOR UPDATE of the own users row) works for a clerk.
        with store.write() as session:
            session.execute(
                text("SELECT id FROM users WHERE id = :i FOR UPDATE"), {"i": actor.user_id}
            ).one()
    finally:
        store.dispose()


def test_command_line_signs_in_as_the_clerks_role(
    plant: Plant, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = pg_security.clerk_url(plant.url).render_as_string(hide_password=False)
    monkeypatch.setenv("DESKOPS_USER", "op1")
    monkeypatch.setenv("DESKOPS_PASSWORD", CLERK_PASSWORD)
    assert main(["--db", url, "site", "list"]) == 0
    out = capsys.readouterr().out
    assert "SITE-A" in out
    assert "SITE-B" not in out


def test_the_company_overview_of_an_operator_is_their_sites_by_the_servers_rules(
    plant: Plant,
) -> None:
    """Even asked for every site, a clerk's overview holds what the server lets them read."""
    store = Store(pg_security.clerk_url(plant.url))
    try:
        services = build_services(store)
        actor = services.users.authenticate("op1", CLERK_PASSWORD)
        today = _site_today(plant.services.store, plant.site_a)
        ids = [plant.site_a.id, plant.site_b.id]
        view = services.overview.overview(actor, today - timedelta(days=6), today, site_ids=ids)
        assert [line.site.code for line in view.sites] == ["SITE-A"]
        mine = view.sites[0].current
        assert mine.produced_m > 0
        # The same figures as the administrator's line for that site.
        boss_view = plant.services.overview.overview(plant.boss, today - timedelta(days=6), today)
        theirs = {line.site.code: line.current for line in boss_view.sites}
        assert theirs["SITE-A"] == mine
        assert "SITE-B" in theirs
        # Report packs are listed to clerks; defining one is the administrators' (the server
        # refuses the write above, the service before it).
        assert isinstance(services.packs.packs(actor), list)
    finally:
        store.dispose()


def test_sign_in_to_an_unreachable_server_says_so(plant: Plant) -> None:
    store = Store(pg_security.clerk_url(plant.url).set(port=1))
    try:
        with pytest.raises(StoreOfflineError, match="cannot be reached"):
            build_services(store).users.authenticate("op1", CLERK_PASSWORD)
    finally:
        store.dispose()


def test_user_changes_follow_into_login_roles(plant: Plant) -> None:
    users, boss = plant.services.users, plant.boss
    info = users.create(boss, "temp1", CLERK_PASSWORD, Role.OPERATOR, ["SITE-B"]).value
    login = plant.roles.login("temp1")

    def role_state() -> tuple[bool, set[str], bool]:
        with plant.superuser() as su:
            can_login, has_password = su.execute(
                "SELECT rolcanlogin, rolpassword LIKE 'SCRAM-SHA-256$%%' FROM pg_authid"
                " WHERE rolname = %s",
                (login,),
            ).fetchone() or (None, None)
            groups = {
                r[0]
                for r in su.execute(
                    "SELECT g.rolname FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid"
                    " JOIN pg_roles u ON u.oid = m.member WHERE u.rolname = %s",
                    (login,),
                )
            }
        return bool(can_login), groups, bool(has_password)

    assert role_state() == (True, {plant.roles.group("operator")}, True)
    users.update(boss, info.id, role=Role.MODERATOR)
    assert role_state()[1] == {plant.roles.group("moderator")}
    users.update(boss, info.id, active=False)
    assert role_state()[0] is False
    users.update(boss, info.id, active=True, role=Role.ADMIN)
    assert role_state() == (True, {plant.roles.group("admin")}, True)
    users.set_password(boss, info.id, "another-pass-456")
    assert role_state()[2] is True


def test_too_long_user_name_is_refused_on_a_server_store(plant: Plant) -> None:
    name = "x" * (plant.roles.max_username_length + 1)
    with pytest.raises(ValidationError, match="at most"):
        plant.services.users.create(plant.boss, name, CLERK_PASSWORD, Role.OPERATOR, ["SITE-A"])


def test_init_server_twice_changes_nothing(
    plant: Plant, capsys: pytest.CaptureFixture[str]
) -> None:
    url = plant.url.render_as_string(hide_password=False)
    # The command line also installs remote-site sync (its feed's owner policies): run it once
    # so the plant has everything the command line sets up, then again to compare.
    assert main(["db", "init-server", url]) == 0
    capsys.readouterr()
    with plant.superuser() as su:
        before = su.execute("SELECT count(*) FROM pg_policies").fetchone()
        rows = su.execute("SELECT count(*) FROM production").fetchone()
    assert main(["db", "init-server", url]) == 0
    out = capsys.readouterr().out
    assert "forced row-level security" in out
    assert "no user name" in out
    with plant.superuser() as su:
        assert su.execute("SELECT count(*) FROM pg_policies").fetchone() == before
        assert su.execute("SELECT count(*) FROM production").fetchone() == rows
    with plant.clerk("op1") as conn:
        assert conn.execute("SELECT count(*) FROM sites").fetchone() == (1,)


def test_init_server_refuses_sqlite_and_non_superusers(
    plant: Plant, tmp_path: os.PathLike[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "init-server", f"sqlite:///{tmp_path}/x.sqlite3"]) == 1
    assert "PostgreSQL" in capsys.readouterr().err
    clerk_url = plant.url.set(username=plant.roles.login("op1")).render_as_string(False)
    assert main(["db", "init-server", clerk_url]) == 1
    assert "superuser" in capsys.readouterr().err


def test_demo_fills_a_secured_server_signed_in_as_its_administrator(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """`deskops demo` on a company server: the same DESKOPS_USER/DESKOPS_PASSWORD as every other
    command, no "fe_sendauth: no password supplied" from counting users before the sign-in."""
    server = make_url(pg_url_or_skip())
    name = f"deskops_demo_{os.getpid()}"
    maintenance = Store(server.set(database="postgres"))
    with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name)
    roles = roles_for(url)
    try:
        init_server(url, admin=("boss", ADMIN_PASSWORD))
        clerks = pg_security.clerk_url(url).render_as_string(hide_password=False)
        monkeypatch.setenv("DESKOPS_USER", "boss")
        monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)
        code = main(["--db", clerks, "demo", "--sites", "1", "--days", "3"])
        out, err = capsys.readouterr()
        assert (code, "fe_sendauth" in err) == (0, False), err
        assert "Demo data (seed 1) for 1 site(s): ALASLA-29" in out
        monkeypatch.setenv("DESKOPS_USER", "demo.operator")
        monkeypatch.setenv("DESKOPS_PASSWORD", "demo-pass-123")
        assert main(["--db", clerks, "site", "list"]) == 0  # its login role was made too
        assert "ALASLA-29" in capsys.readouterr().out
    finally:
        with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_security.drop_server_roles(conn, roles.prefix)
        maintenance.dispose()
