"""Migrations: released stores upgrade with their data intact, new stores upgrade to head, and
the models agree with the migrations (an ``alembic check`` on SQLite and PostgreSQL).

``tests/fixtures/store_0001.sqlite3`` and ``store_0002.sqlite3`` are stores of the first release
(schemas 0001 and 0002), made by ``tests/fixtures/make_fixture_stores.py``. On PostgreSQL the same
builder makes the same store in a fresh database. Each test gets its own database, never the
shared test store.
"""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine, func, inspect, select

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Level, Module, Role
from deskops_desktop.models.jobs import ExportAudit, ExportJob
from deskops_desktop.models.tables import Base
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.migrate import alembic_config, current_revision, head_revision
from deskops_desktop.services.store import Store, open_store
from tests.conftest import FIXED_NOW
from tests.fixtures import make_fixture_stores as fx

EXPECTED_COUNTS_0001 = {
    "sites": 2,
    "materials": 17,
    "equipment": 9,
    "manpower_roles": 5,
    "users": 2,
    "user_sites": 1,
    "production": 4,
    "dispatches": 2,
    "received": 2,
    "equipment_logs": 2,
    "manpower_logs": 2,
    "inventory_adjustments": 2,
    "production_targets": 2,
    "stock_days": 8,
    "change_log": 14,
    "export_jobs": 1,
    "export_audits": 1,
}
# Tables later releases added (mass balance, report packs, remote-site sync): empty after an
# upgrade (nothing invented, e.g. no factors).
NEW_TABLES = dict.fromkeys(set(Base.metadata.tables) - set(EXPECTED_COUNTS_0001), 0)
EXPECTED_COUNTS = {
    "0001": {**EXPECTED_COUNTS_0001, **NEW_TABLES},
    # Two more dispatches (the crusher feed) on two more stock days, each logged.
    "0002": {
        **EXPECTED_COUNTS_0001,
        **NEW_TABLES,
        "dispatches": 4,
        "stock_days": 10,
        "change_log": 16,
    },
}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an empty database of its own, on each backend."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'fresh.sqlite3'}"
    return str(request.getfixturevalue("empty_pg_url"))


@pytest.fixture(params=sorted(fx.FIXTURES))
def release(request: pytest.FixtureRequest) -> str:
    """The schema revision of a released store."""
    return str(request.param)


@pytest.fixture
def released_store(release: str, empty_url: str, tmp_path: Path) -> str:
    """A released store with data: the committed file (SQLite) or the builder (PostgreSQL)."""
    if empty_url.startswith("sqlite"):
        copy = tmp_path / fx.FIXTURES[release].name
        shutil.copyfile(fx.FIXTURES[release], copy)
        return f"sqlite:///{copy}"
    fx.build(empty_url, release)
    return empty_url


def _revision(url: str) -> str | None:
    engine = create_engine(url)
    try:
        return current_revision(engine)
    finally:
        engine.dispose()


def _counts(store: Store) -> dict[str, int]:
    with store.read() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(table)) or 0)
            for name, table in Base.metadata.tables.items()
        }


# ------------------------------------------------------------------ released stores upgrade
@pytest.mark.parametrize("revision", sorted(fx.FIXTURES))
def test_committed_fixtures_are_their_release(revision: str) -> None:
    path = fx.FIXTURES[revision]
    assert path.exists()
    assert path.stat().st_size < 1_000_000
    assert _revision(f"sqlite:///{path}") == revision


def test_released_store_upgrades_with_its_data_intact(release: str, released_store: str) -> None:
    assert _revision(released_store) == release
    # As the app starts: upgrade, seed.
    store = open_store(released_store, clock=FixedClock(FIXED_NOW))
    try:
        assert current_revision(store.engine) == head_revision(store.engine)
        assert _counts(store) == EXPECTED_COUNTS[release]  # nothing lost, nothing re-seeded
        services = build_services(store)
        site = services.master.site_by_code(SYSTEM, "ALASLA-29")
        assert site.id == fx.SITE_ID
        north = services.master.site_by_code(SYSTEM, "NORTH-01")
        assert (north.timezone, north.location) == ("Asia/Dubai", "Rabigh")

        # Master data, including an admin's edits, as they were.
        materials = {m.code: m for m in services.master.reference().materials}
        g1 = materials["AGG-G1"]
        assert (g1.name, g1.low_threshold, g1.high_threshold) == (
            "G1 Gravel",
            Decimal("150.000"),
            Decimal("750.500"),
        )
        assert materials["RAW-ASPHALT"].active is False  # the re-seed did not reactivate it
        assert [m.code for m in services.master.reference().materials][:2] == ["AGG-G1", "AGG-3/4"]

        # Records: exact quantities, hours, text, timestamps.
        may = (date(2026, 5, 1), date(2026, 5, 31))
        production = services.records.list(
            SYSTEM, Module.PRODUCTION, site.id, *may, descending=False
        )
        assert [(r.ref_code, r.values["shift"], r.values["quantity"]) for r in production] == [
            ("AGG-G1", "MORNING", Decimal("120.500")),
            ("AGG-G1", "NIGHT", Decimal("80.250")),
            ("BASE-CRUSHED", "", Decimal("300.000")),
        ]
        first = next(r for r in production if r.values["shift"] == "MORNING")
        assert first.values["notes"] == "first crusher run – ok"
        assert first.created_at == fx.T0
        assert first.created_by == fx.CLERK_ID
        assert first.version == 1
        dispatches = services.records.list(SYSTEM, Module.DISPATCH, site.id, *may, sort="quantity")
        sales = [r for r in dispatches if r.values["owner"] != fx.CRUSHER_FEED_OWNER]
        assert [(r.values["quantity"], r.values["trips"], r.values["owner"]) for r in sales] == [
            (Decimal("999999.999"), None, ""),
            (Decimal("150.125"), 6, "Acme Roads"),
        ]
        # Every dispatch an earlier release stored is a sale until an admin says otherwise.
        assert {r.values["fate"] for r in dispatches} == {"SALE"}
        equipment = services.records.list(
            SYSTEM, Module.EQUIPMENT, site.id, *may, sort="hours", descending=False
        )
        assert [
            (r.ref_code, r.values["hours"], r.values["count"], r.values["status"])
            for r in equipment
        ] == [
            ("CRUSHER-01", Decimal("7.50"), 1, "OPERATIONAL"),
            ("LOADER-01", Decimal("24.00"), 2, "BREAKDOWN"),
        ]
        manpower = services.records.list(SYSTEM, Module.MANPOWER, site.id, *may, sort="headcount")
        assert [(r.ref_code, r.values["headcount"], r.values["hours"]) for r in manpower] == [
            ("LABORER", 12, Decimal("8.00")),
            ("SECURITY", 2, Decimal("12.00")),
        ]
        adjustments = services.records.list(
            SYSTEM, Module.ADJUSTMENTS, site.id, *may, descending=False
        )
        assert [(r.values["quantity"], r.values["reason"]) for r in adjustments] == [
            (Decimal("1000.000"), "OPENING_BALANCE"),
            (Decimal("-2.626"), "STOCK_COUNT"),
        ]

        # The maintained ledger still equals a recomputation, and reads right.
        assert services.ledger.verify(SYSTEM, site.id) == []
        assert services.ledger.verify(SYSTEM, north.id) == []
        ledger = services.ledger.ledger(SYSTEM, site.id, date(2026, 5, 14), date(2026, 5, 14))
        closing = {r.material.code: (r.closing, r.level) for r in ledger.rows}
        assert closing["AGG-G1"] == (Decimal("1048.000"), Level.HEALTHY)  # above its own 750.5
        assert closing["BASE-CRUSHED"] == (Decimal("-999699.999"), Level.LOW)
        fed_as_dispatch = {"0001": Decimal(0), "0002": Decimal("5.500")}[release]
        assert closing["RAW-MIXED"] == (Decimal("14.000") - fed_as_dispatch, Level.LOW)

        # Users sign in with their old hashes; sites and roles kept.
        clerk = services.users.authenticate("clerk", fx.PASSWORD)
        assert (clerk.role, clerk.site_ids) == (Role.OPERATOR, frozenset({fx.SITE_ID}))
        assert services.users.authenticate("hq.admin", fx.PASSWORD).role is Role.ADMIN

        # Targets, export jobs and audits.
        targets = services.master.targets(SYSTEM, site.id)
        assert [(t.material_code, t.daily_tons, t.from_date) for t in targets] == [
            (None, Decimal("1200.000"), date(2026, 1, 1)),
            ("AGG-G1", Decimal("300.500"), date(2026, 5, 1)),
        ]
        with store.read() as session:
            job = session.scalars(select(ExportJob)).one()
            assert (job.status, job.filters, job.size_bytes, job.date_to) == (
                "completed",
                {"category": "AGGREGATES"},
                12_345,
                date(2026, 5, 31),
            )
            assert job.completed_at == fx.T0
            audit = session.scalars(select(ExportAudit)).one()
            assert (audit.job_id, audit.download_count) == (job.id, 3)

        # The upgraded store takes new work, back-dated included.
        services.records.create(
            SYSTEM,
            Module.PRODUCTION,
            site.id,
            {"date": "2026-05-09", "operation": "CRU-PRO", "material": "AGG-G1", "quantity": "2"},
        )
        ledger = services.ledger.ledger(
            SYSTEM, site.id, date(2026, 5, 14), date(2026, 5, 14), material_codes=["AGG-G1"]
        )
        assert ledger.rows[0].closing == Decimal("1050.000")
        assert services.ledger.verify(SYSTEM, site.id) == []
    finally:
        store.dispose()


def test_opening_an_upgraded_store_again_changes_nothing(release: str, released_store: str) -> None:
    first = open_store(released_store)
    counts = _counts(first)
    first.dispose()
    again = open_store(released_store)
    try:
        assert _counts(again) == counts == EXPECTED_COUNTS[release]
    finally:
        again.dispose()


# ------------------------------------------------------------------ new stores
def test_empty_store_upgrades_to_head_and_is_seeded(empty_url: str) -> None:
    assert _revision(empty_url) is None
    store = open_store(empty_url)
    try:
        assert current_revision(store.engine) == head_revision(store.engine)
        tables = set(inspect(store.engine).get_table_names())
        assert tables == set(Base.metadata.tables) | {"alembic_version"}
        counts = _counts(store)
        assert (
            counts["materials"],
            counts["equipment"],
            counts["manpower_roles"],
            counts["sites"],
        ) == (17, 9, 5, 1)
        assert counts["users"] == 0
    finally:
        store.dispose()


def test_models_and_migrations_agree(empty_url: str) -> None:
    """The ``alembic check`` of this project: autogenerate finds nothing to add or change.

    Compared with types and server defaults on. No difference is tolerated on either backend: the
    TypeDecorators (Milli, Centi, UTCDateTime) compare as their BigInteger/Integer/DateTime impls,
    which is exactly what 0001 creates.
    """
    store = open_store(empty_url, migrate=False)
    try:
        store.upgrade()
        with store.engine.connect() as conn:
            context = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            assert compare_metadata(context, Base.metadata) == []
    finally:
        store.dispose()


def test_migrations_downgrade_and_upgrade_again(empty_url: str) -> None:
    engine = create_engine(empty_url)
    try:
        config = alembic_config(engine)
        command.upgrade(config, "head")
        command.downgrade(config, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        assert current_revision(engine) is None
        command.upgrade(config, "head")
        assert current_revision(engine) == head_revision(engine)
    finally:
        engine.dispose()


def test_one_linear_history() -> None:
    engine = create_engine("sqlite://")
    try:
        scripts = ScriptDirectory.from_config(alembic_config(engine))
    finally:
        engine.dispose()
    assert len(scripts.get_heads()) == 1
    revisions = list(scripts.walk_revisions())
    assert revisions[-1].revision == "0001"
    assert revisions[-1].down_revision is None
    for rev in revisions:
        assert rev.module.downgrade is not None
        # 0001, 0002, ... in order of release (the sync protocol compares them as text).
        assert rev.revision.isdigit()
        assert len(rev.revision) == 4
