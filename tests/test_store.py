"""The store: SQLite settings, where the store lives, PostgreSQL URLs and the keyring, seeding,
backups, units of work and the exact column types."""

from __future__ import annotations

import sqlite3
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import keyring.errors
import platformdirs
import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import IntegrityError

from deskops_desktop.models.enums import Module
from deskops_desktop.models.records import Production
from deskops_desktop.models.reference import Equipment, ManpowerRole, Material, Site
from deskops_desktop.models.types import UTCDateTime, from_milli, to_milli
from deskops_desktop.services import store as store_module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.migrate import current_revision, head_revision
from deskops_desktop.services.paths import default_db_url
from deskops_desktop.services.secrets import get_db_password, set_db_password, with_keyring_password
from deskops_desktop.services.store import (
    SQLITE_BUSY_TIMEOUT_MS,
    Store,
    describe_url,
    open_store,
    resolve_db_url,
)
from tests.conftest import MemoryKeyring
from tests.helpers import default_site, production

REMOTE = "postgresql+psycopg://clerk@hq-server/deskops"


# ------------------------------------------------------------------ SQLite settings
def test_sqlite_pragmas(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as conn:
        pragma = conn.exec_driver_sql
        assert pragma("PRAGMA journal_mode").scalar() == "wal"
        assert pragma("PRAGMA synchronous").scalar() == 2  # FULL
        assert pragma("PRAGMA foreign_keys").scalar() == 1
        assert pragma("PRAGMA busy_timeout").scalar() == SQLITE_BUSY_TIMEOUT_MS
    assert SQLITE_BUSY_TIMEOUT_MS >= 5000


def test_sqlite_enforces_foreign_keys(sqlite_store: Store) -> None:
    material_id = build_services(sqlite_store).master.reference().materials[0].id
    with pytest.raises(IntegrityError), sqlite_store.write() as session:
        session.add(
            Production(
                site_id="no-such-site",
                date=date(2026, 11, 1),
                material_id=material_id,
                quantity=Decimal("1"),
                operation="CRU-PRO",
            )
        )


def test_sqlite_writers_take_the_lock_up_front(sqlite_store: Store) -> None:
    """``write()`` starts with BEGIN IMMEDIATE: a second writer waits instead of failing midway."""
    path = sqlite_store.url.database
    with sqlite_store.write() as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(str(path), timeout=0, isolation_level=None)
        try:
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")
            # Readers are not blocked (WAL).
            assert other.execute("SELECT count(*) FROM materials").fetchone() == (17,)
        finally:
            other.close()
    with sqlite_store.read() as session:
        session.execute(text("SELECT 1"))
        other = sqlite3.connect(str(path), timeout=0, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # a read unit does not hold the write lock
            other.execute("ROLLBACK")
        finally:
            other.close()


# ------------------------------------------------------------------ where the store lives
def test_default_store_is_a_file_in_the_user_data_folder(tmp_path: Path) -> None:
    expected = platformdirs.user_data_path("DeskOps", "DeskOps") / "deskops.sqlite3"
    assert str(expected).startswith(str(tmp_path))  # conftest points XDG_DATA_HOME into tmp
    assert default_db_url() == f"sqlite:///{expected}"
    assert resolve_db_url() == default_db_url()
    assert not expected.exists()
    store = open_store()
    try:
        assert store.dialect == "sqlite"
        assert store.is_sqlite
        assert expected.exists()  # the folder was created too
        with store.read() as session:
            assert session.scalar(select(func.count()).select_from(Material)) == 17
    finally:
        store.dispose()


def test_url_precedence(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from_env = f"sqlite:///{tmp_path / 'env.sqlite3'}"
    explicit = f"sqlite:///{tmp_path / 'explicit.sqlite3'}"
    monkeypatch.setenv("DESKOPS_DB_URL", from_env)
    assert resolve_db_url() == from_env
    assert resolve_db_url(explicit) == explicit  # --db wins over the environment
    store = open_store()
    try:
        assert (tmp_path / "env.sqlite3").exists()
    finally:
        store.dispose()
    monkeypatch.delenv("DESKOPS_DB_URL")
    assert resolve_db_url() == default_db_url()
    assert resolve_db_url("") == default_db_url()


def test_open_store_without_migrating(tmp_path: Path) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'raw.sqlite3'}", migrate=False)
    try:
        assert current_revision(store.engine) is None
        store.upgrade()
        assert current_revision(store.engine) == head_revision(store.engine)
        store.upgrade()  # idempotent
    finally:
        store.dispose()


# ------------------------------------------------------------------ PostgreSQL URLs and secrets
def test_keyring_password_is_injected(_isolated_environment: MemoryKeyring) -> None:  # noqa: PT019
    assert Store(REMOTE).url.password is None
    set_db_password(REMOTE, "s3cret!")
    assert (
        "DeskOps Desktop",
        "postgresql://clerk@hq-server:/deskops",
    ) in _isolated_environment.secrets
    assert get_db_password(REMOTE) == "s3cret!"
    store = Store(REMOTE)
    assert store.url.password == "s3cret!"
    assert "s3cret" not in store.display_url
    assert (
        store.display_url == "postgresql+psycopg://clerk:***@hq-server/deskops?sslmode=verify-full"
    )
    # Stored under the plain driver name, found under psycopg's, and the other way round.
    assert Store("postgresql://clerk@hq-server/deskops").url.password == "s3cret!"
    # A different server or user has no password.
    assert Store("postgresql+psycopg://clerk@other-server/deskops").url.password is None
    assert Store("postgresql+psycopg://admin@hq-server/deskops").url.password is None


def test_a_password_in_the_url_wins_and_survives_a_url_object() -> None:
    set_db_password(REMOTE, "from-keyring")
    assert Store("postgresql+psycopg://clerk:typed@hq-server/deskops").url.password == "typed"
    # A URL object (the setup dialog's connection check) keeps its password, not "***".
    url = make_url(REMOTE).set(password="typed pass")
    assert Store(url).url.password == "typed pass"


def test_keyring_failures_mean_no_password(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(*_: object) -> str:
        raise keyring.errors.KeyringLocked("locked")

    monkeypatch.setattr(keyring, "get_password", broken)
    assert get_db_password(REMOTE) is None
    assert with_keyring_password(REMOTE).password is None


def test_sqlite_urls_never_touch_the_keyring(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def forbidden(*_: object) -> str:
        raise AssertionError("keyring consulted for SQLite")

    monkeypatch.setattr(keyring, "get_password", forbidden)
    Store(f"sqlite:///{tmp_path / 'x.sqlite3'}").dispose()


@pytest.mark.parametrize(
    ("url", "sslmode"),
    [
        ("postgresql+psycopg://clerk@hq-server/deskops", "verify-full"),
        ("postgresql+psycopg://clerk@10.0.0.5:6543/deskops", "verify-full"),
        ("postgresql://clerk@db.example.com/deskops", "verify-full"),
        (
            "postgresql+psycopg://clerk@hq-server/deskops?sslmode=require",
            "require",
        ),  # explicit wins
        ("postgresql+psycopg://clerk@localhost/deskops", None),
        ("postgresql+psycopg://clerk@127.0.0.1:54329/deskops", None),
        ("postgresql+psycopg://clerk@[::1]/deskops", None),
        ("postgresql+psycopg://clerk@/deskops?host=/var/run/postgresql", None),
    ],
)
def test_postgres_url_normalisation(url: str, sslmode: str | None) -> None:
    store = Store(url)
    assert store.url.drivername == "postgresql+psycopg"
    assert store.url.query.get("sslmode") == sslmode
    assert store.dialect == "postgresql"
    assert not store.is_sqlite
    store.dispose()


def test_describe_url_hides_the_password() -> None:
    assert describe_url("postgresql://clerk:pw@hq/deskops") == "postgresql://clerk:***@hq/deskops"


# ------------------------------------------------------------------ seeding
def _counts(store: Store) -> tuple[int, int, int, int]:
    with store.read() as session:
        return tuple(  # type: ignore[return-value]
            session.scalar(select(func.count()).select_from(model))
            for model in (Material, Equipment, ManpowerRole, Site)
        )


def test_seeding_is_idempotent_and_keeps_admin_edits(store: Store) -> None:
    assert _counts(store) == (17, 9, 5, 1)
    store.seed_reference_data()
    store.seed_reference_data()
    assert _counts(store) == (17, 9, 5, 1)
    services = build_services(store)
    g1 = next(m for m in services.master.reference().materials if m.code == "AGG-G1")
    services.master.update_material(SYSTEM, g1.id, name="Gravel G1", low_threshold="42")
    services.master.set_active(SYSTEM, "materials", g1.id, False)
    site = default_site(services)
    services.master.update_site(SYSTEM, site.id, name="Al Asla (renamed)")
    services.master.add_role(SYSTEM, "WELDER", "Welder")
    store.seed_reference_data()
    assert _counts(store) == (17, 9, 6, 1)
    after = next(m for m in services.master.reference().materials if m.code == "AGG-G1")
    assert (after.name, after.low_threshold, after.active) == (
        "Gravel G1",
        Decimal("42.000"),
        False,
    )
    assert default_site(services).name == "Al Asla (renamed)"


def test_seeded_reference_data_matches_the_domain(store: Store) -> None:
    with store.read() as session:
        materials = session.execute(
            select(Material.code, Material.category, Material.uom, Material.is_final).order_by(
                Material.sort_order
            )
        ).all()
        equipment = session.execute(
            select(Equipment.code, Equipment.type).order_by(Equipment.sort_order)
        ).all()
    assert len({code for code, *_ in materials}) == 17
    assert [m for m in materials if m.uom == "LOAD"] == [
        ("RAW-CONCRETE", "RAW_FEED", "LOAD", False),
        ("RAW-MIXED", "RAW_FEED", "LOAD", False),
        ("RAW-ASPHALT", "RAW_FEED", "LOAD", False),
    ]
    assert all(final for code, _, uom, final in materials if uom == "TON")
    assert dict(equipment)["GENERATOR-01"] == "AUXILIARY"
    assert sum(1 for _, kind in equipment if kind == "HAULING") == 2


# ------------------------------------------------------------------ backups
def test_sqlite_backup_is_a_consistent_copy(sqlite_store: Store, tmp_path: Path) -> None:
    services = build_services(sqlite_store)
    site = default_site(services)
    for day in ("2026-11-20", "2026-11-21", "2026-11-22"):
        services.records.create(
            SYSTEM, Module.PRODUCTION, site.id, production(day, quantity="10.125")
        )
    target = tmp_path / "backups" / "copy.sqlite3"
    with sqlite_store.read() as session:  # an open reader does not stop an online backup
        session.execute(text("SELECT 1"))
        assert sqlite_store.backup(target) == target
    assert target.exists()
    assert not (tmp_path / "backups" / "copy.sqlite3.partial").exists()
    raw = sqlite3.connect(target)
    try:
        assert raw.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert raw.execute("SELECT count(*) FROM production").fetchone() == (3,)
        assert raw.execute("SELECT sum(quantity) FROM production").fetchone() == (30375,)
    finally:
        raw.close()
    copy = open_store(f"sqlite:///{target}", clock=sqlite_store.clock)
    try:
        copied = build_services(copy)
        ledger = copied.ledger.ledger(
            SYSTEM, site.id, date(2026, 11, 22), date(2026, 11, 22), material_codes=["AGG-G1"]
        )
        assert ledger.rows[0].closing == Decimal("30.375")
        assert copied.ledger.verify(SYSTEM, site.id) == []
    finally:
        copy.dispose()
    # A second backup replaces the first.
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, production("2026-11-23"))
    sqlite_store.backup(target)
    raw = sqlite3.connect(target)
    try:
        assert raw.execute("SELECT count(*) FROM production").fetchone() == (4,)
    finally:
        raw.close()


@pytest.mark.postgres
def test_postgres_backup_uses_pg_dump(
    pg_store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "deskops.dump"
    assert pg_store.backup(target) == target
    assert target.read_bytes()[:5] == b"PGDMP"  # pg_dump's custom format
    monkeypatch.setattr(store_module.shutil, "which", lambda _: None)
    with pytest.raises(RuntimeError, match="pg_dump is not installed"):
        pg_store.backup(tmp_path / "again.dump")


# ------------------------------------------------------------------ units of work
def test_write_commits_and_rolls_back_on_error(store: Store) -> None:
    with store.write() as session:
        session.add(Site(code="UNIT-01", name="Unit"))
    with pytest.raises(RuntimeError), store.write() as session:  # noqa: PT012
        session.add(Site(code="UNIT-02", name="Unit"))
        session.flush()
        raise RuntimeError("boom")
    with store.read() as session:
        codes = set(session.scalars(select(Site.code)))
    assert "UNIT-01" in codes
    assert "UNIT-02" not in codes


def test_reads_never_commit(store: Store) -> None:
    with store.read() as session:
        session.add(Site(code="READ-01", name="Read"))
        session.flush()
    with store.read() as session:
        assert session.scalar(select(Site.id).where(Site.code == "READ-01")) is None


# ------------------------------------------------------------------ exact column types
def test_quantities_are_exact_and_floats_are_refused(store: Store) -> None:
    services = build_services(store)
    site = default_site(services)
    material_id = services.master.reference().materials[0].id
    with pytest.raises(Exception, match="refusing inexact float"), store.write() as session:
        session.add(
            Production(
                site_id=site.id,
                date=date(2026, 11, 1),
                material_id=material_id,
                quantity=0.1,  # type: ignore[arg-type]
                operation="CRU-PRO",
            )
        )
    with pytest.raises(Exception, match="more than 3 decimals"), store.write() as session:
        session.add(
            Production(
                site_id=site.id,
                date=date(2026, 11, 1),
                material_id=material_id,
                quantity=Decimal("0.0001"),
                operation="CRU-PRO",
            )
        )


def test_milli_conversions() -> None:
    assert to_milli(Decimal("12.345")) == 12345
    assert to_milli(Decimal("-0.001")) == -1
    assert from_milli(12345) == Decimal("12.345")
    assert str(from_milli(5)) == "0.005"
    with pytest.raises(ValueError, match="more than 3 decimals"):
        to_milli(Decimal("1.0005"))


def test_timestamps_are_utc_on_both_backends(store: Store) -> None:
    with store.write() as session:
        site = Site(code="TZ-01", name="Zones")
        session.add(site)
        session.flush()
        site_id = site.id
    with store.read() as session:
        created = session.scalar(select(Site.created_at).where(Site.id == site_id))
    assert created is not None
    assert created.tzinfo is not None
    assert created.utcoffset() == UTC.utcoffset(None)
    assert created == store.clock.now()  # stamped from the store's clock, not the wall
    with pytest.raises(TypeError, match="timezone-aware"):
        UTCDateTime().process_bind_param(datetime(2026, 1, 1), store.engine.dialect)
