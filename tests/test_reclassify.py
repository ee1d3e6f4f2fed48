"""Reclassifying mis-booked dispatches (``services.reclassify``), both backends: every
"Crusher feed (internal)" dispatch becomes a Feed record in one transaction, stock unchanged,
the ledger and the change log exact; rejects get their DISPOSAL fate; a released store's feed
dispatches move after its upgrade."""

from __future__ import annotations

import shutil
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import PermissionDenied, ValidationError
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import Area
from deskops_desktop.services.reclassify import TO_FEED
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store, open_store
from tests.fixtures import make_fixture_stores as fx
from tests.helpers import default_site

pytestmark = pytest.mark.usefixtures("example_day")

FEED_OWNER = "Crusher feed (internal)"
NOV = (date(2026, 11, 1), date(2026, 11, 27))


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def site(services: Services) -> SiteInfo:
    return default_site(services)


def dispatch(
    services: Services, site: SiteInfo, day: str, material: str, q: str, owner: str
) -> str:
    raw = {"date": day, "material": material, "quantity": q, "owner": owner}
    return services.records.create(SYSTEM, Module.DISPATCH, site.id, raw).value.id


def closings(services: Services, site: SiteInfo) -> list[tuple[str, date, Decimal]]:
    ledger = services.ledger.ledger(SYSTEM, site.id, *NOV)
    return [(r.material.code, r.day, r.closing) for r in ledger.rows]


def test_feed_dispatches_become_feed_records(services: Services, site: SiteInfo) -> None:
    received = {"date": "2026-11-01", "material": "RAW-MIXED", "quantity": "40"}
    services.records.create(SYSTEM, Module.RECEIVED, site.id, received)
    ids = [
        dispatch(services, site, "2026-11-03", "RAW-MIXED", "12", FEED_OWNER),
        dispatch(services, site, "2026-11-04", "RAW-MIXED", "7.5", " crusher FEED  (internal) "),
    ]
    sale = dispatch(services, site, "2026-11-04", "RAW-MIXED", "2", "Acme Roads")
    before = closings(services, site)

    preview = services.reclassify.preview(SYSTEM, site.id, FEED_OWNER, TO_FEED)
    assert (preview.count, preview.quantities) == (2, (("RAW-MIXED", "LOAD", Decimal("19.5")),))
    assert services.records.count(SYSTEM, Module.FEED, site.id, *NOV) == 0  # nothing written

    moved = services.reclassify.reclassify(SYSTEM, site.id, FEED_OWNER, TO_FEED)
    assert moved.value == preview
    assert str(moved.value) == (
        "ALASLA-29: 2 dispatches to 'Crusher feed (internal)' from 2026-11-03 to 2026-11-04"
        " → Feed records (19.500 load RAW-MIXED)"
    )
    assert {Area.DISPATCH, Area.FEED, Area.LEDGER} <= moved.changes.areas
    feed = services.records.list(SYSTEM, Module.FEED, site.id, *NOV, descending=False)
    assert [(r.date.day, r.values["quantity"], r.values["notes"]) for r in feed] == [
        (3, Decimal("12.000"), "was a dispatch to Crusher feed (internal)"),
        (4, Decimal("7.500"), "was a dispatch to crusher FEED  (internal)"),
    ]
    left = services.records.list(SYSTEM, Module.DISPATCH, site.id, *NOV)
    assert [r.id for r in left] == [sale]
    assert closings(services, site) == before  # stock moved from Dispatched to Fed, unchanged
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 11, 3), date(2026, 11, 3), material_codes=["RAW-MIXED"]
    )
    assert (ledger.rows[0].dispatched, ledger.rows[0].fed) == (Decimal(0), Decimal("12.000"))
    assert services.ledger.verify(SYSTEM, site.id) == []
    with services.store.read() as session:
        log = session.execute(
            select(ChangeLog.table_name, ChangeLog.action, ChangeLog.record_id).where(
                ChangeLog.action != "INSERT", ChangeLog.table_name == "dispatches"
            )
        ).all()
        inserted = session.scalars(
            select(ChangeLog.record_id).where(ChangeLog.table_name == "feed")
        ).all()
    assert sorted(r.record_id for r in log) == sorted(ids)
    assert {r.action for r in log} == {"DELETE"}
    assert sorted(inserted) == sorted(r.id for r in feed)
    # Again: nothing left to move.
    assert services.reclassify.reclassify(SYSTEM, site.id, FEED_OWNER, TO_FEED).value.count == 0


def test_rejects_get_their_fate_and_stock_does_not_move(services: Services, site: SiteInfo) -> None:
    services.records.create(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        {"date": "2026-11-01", "material": "RAW-MIXED", "quantity": "9"},
    )
    dispatch(services, site, "2026-11-02", "RAW-MIXED", "3", "Municipal landfill")
    dispatch(services, site, "2026-11-05", "RAW-MIXED", "2", "Municipal landfill")
    before = closings(services, site)
    first = services.reclassify.reclassify(
        SYSTEM, site.id, "municipal landfill", "DISPOSAL", date_to=date(2026, 11, 3)
    ).value
    assert (first.count, first.already, first.last_day) == (1, 0, date(2026, 11, 2))
    second = services.reclassify.reclassify(SYSTEM, site.id, "Municipal landfill", "DISPOSAL").value
    assert (second.count, second.already) == (1, 1)
    fates = [
        r.values["fate"] for r in services.records.list(SYSTEM, Module.DISPATCH, site.id, *NOV)
    ]
    assert fates == ["DISPOSAL", "DISPOSAL"]
    assert closings(services, site) == before
    mb = services.mass_balance.mass_balance(SYSTEM, site.id, *NOV)
    assert mb.disposal_m == 0  # no factor for RAW-MIXED: the loads are not tons …
    assert mb.out.no_factor_m == 5000  # … and are said to be missing


def test_only_raw_feed_can_be_moved_to_feed_and_nothing_half_moves(
    services: Services, site: SiteInfo
) -> None:
    dispatch(services, site, "2026-11-03", "RAW-MIXED", "1", FEED_OWNER)
    dispatch(services, site, "2026-11-03", "AGG-G1", "1", FEED_OWNER)
    with pytest.raises(ValidationError, match="include AGG-G1"):
        services.reclassify.reclassify(SYSTEM, site.id, FEED_OWNER, TO_FEED)
    assert services.records.count(SYSTEM, Module.DISPATCH, site.id, *NOV) == 2
    assert services.records.count(SYSTEM, Module.FEED, site.id, *NOV) == 0
    with pytest.raises(ValidationError) as info:
        services.reclassify.reclassify(SYSTEM, site.id, " ", "GIFT")
    assert {p.field for p in info.value.problems} == {"owner", "fate"}


def test_only_administrators_reclassify(services: Services, site: SiteInfo) -> None:
    services.users.create(SYSTEM, "mod", "correct horse", Role.MODERATOR, [site.code])
    moderator = services.users.authenticate("mod", "correct horse")
    with pytest.raises(PermissionDenied):
        services.reclassify.preview(moderator, site.id, FEED_OWNER, TO_FEED)


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_released_stores_feed_dispatches_move_after_the_upgrade(
    backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    if backend == "sqlite":
        copy = tmp_path / "store_0002.sqlite3"
        shutil.copyfile(fx.FIXTURE_0002, copy)
        url = f"sqlite:///{copy}"
    else:
        url = request.getfixturevalue("empty_pg_url")
        fx.build(url, "0002")
    store = open_store(url)
    try:
        services = build_services(store)
        site = services.master.site_by_code(SYSTEM, "ALASLA-29")
        may = (date(2026, 5, 1), date(2026, 5, 31))
        before = services.ledger.ledger(SYSTEM, site.id, *may, material_codes=["RAW-MIXED"])
        moved = services.reclassify.reclassify(SYSTEM, site.id, fx.CRUSHER_FEED_OWNER, TO_FEED)
        assert (moved.value.count, moved.value.quantities) == (
            2,
            (("RAW-MIXED", "LOAD", Decimal("5.500")),),
        )
        after = services.ledger.ledger(SYSTEM, site.id, *may, material_codes=["RAW-MIXED"])
        assert [r.closing for r in after.rows] == [r.closing for r in before.rows]
        assert sum(r.fed for r in after.rows) == Decimal("5.500")
        assert sum(r.dispatched for r in after.rows) == 0
        assert services.ledger.verify(SYSTEM, site.id) == []
    finally:
        store.dispose()
