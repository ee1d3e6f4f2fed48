"""Record services on both backends: CRUD, unique keys, change log, stale edits, role limits,
listing, and all-or-nothing batches."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import select, text

from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import RECORD_MODULES, Module, Role
from deskops_desktop.models.errors import (
    NotFound,
    PermissionDenied,
    StaleRecordError,
    ValidationError,
)
from deskops_desktop.models.records import Received
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import Area
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from tests.conftest import EXAMPLE_NOW
from tests.helpers import default_site, production

# Hand-computed examples written for 2026-11-27 (see the ``example_day`` fixture).
pytestmark = pytest.mark.usefixtures("example_day")

RAW: dict[Module, dict[str, Any]] = {
    Module.PRODUCTION: {
        "date": "2026-11-25",
        "shift": "MORNING",
        "operation": "CRU-PRO",
        "material": "AGG-G1",
        "quantity": "12.5",
        "notes": "first",
    },
    Module.DISPATCH: {
        "date": "2026-11-25",
        "reference": "DR-100",
        "material": "AGG-S1",
        "quantity": "3.25",
        "trips": "2",
        "owner": "Acme Roads",
        "operation": "CRU-DIS",
        "fate": "SALE",
        "notes": "",
    },
    Module.RECEIVED: {
        "date": "2026-11-25",
        "material": "RAW-MIXED",
        "quantity": "4",
        "source": "Tower B",
        "vehicle_ref": "TRK-9",
        "notes": "",
    },
    Module.EQUIPMENT: {
        "date": "2026-11-25",
        "shift": "NIGHT",
        "equipment": "CRUSHER-01",
        "hours": "7.5",
        "count": "1",
        "status": "OPERATIONAL",
        "notes": "",
    },
    Module.MANPOWER: {
        "date": "2026-11-25",
        "shift": "AFTERNOON",
        "role": "LABORER",
        "headcount": "12",
        "hours": "8",
        "notes": "",
    },
    Module.ADJUSTMENTS: {
        "date": "2026-11-25",
        "material": "AGG-G1",
        "quantity": "-2.5",
        "reason": "STOCK_COUNT",
        "notes": "count",
    },
    Module.FEED: {
        "date": "2026-11-25",
        "shift": "MORNING",
        "material": "RAW-MIXED",
        "quantity": "6",
        "equipment": "CRUSHER-01",
        "notes": "",
    },
}

# One field per module that an edit changes, with the value it is read back as.
EDIT: dict[Module, tuple[str, str, object]] = {
    Module.PRODUCTION: ("quantity", "13.125", Decimal("13.125")),
    Module.DISPATCH: ("trips", "5", 5),
    Module.RECEIVED: ("vehicle_ref", "TRK-10", "TRK-10"),
    Module.EQUIPMENT: ("hours", "6.25", Decimal("6.25")),
    Module.MANPOWER: ("headcount", "14", 14),
    Module.ADJUSTMENTS: ("quantity", "4", Decimal("4.000")),
    Module.FEED: ("equipment", "CRUSHER-02", "CRUSHER-02"),
}


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def site(services: Services) -> SiteInfo:
    return default_site(services)


@pytest.fixture
def other_site(services: Services) -> SiteInfo:
    info = services.master.add_site(SYSTEM, "NORTH-01", "North Yard", timezone="Asia/Riyadh").value
    return info


def make_user(services: Services, name: str, role: Role, *sites: SiteInfo) -> Actor:
    services.users.create(SYSTEM, name, "correct horse", role, [s.code for s in sites])
    return services.users.authenticate(name, "correct horse")


def change_log(store: Store, record_id: str) -> list[Any]:
    """The change-log rows of one record, oldest first, as plain rows."""
    table = ChangeLog.__table__
    with store.read() as session:
        return list(
            session.execute(
                select(table).where(table.c.record_id == record_id).order_by(table.c.at, table.c.id)
            )
        )


# ------------------------------------------------------------------ CRUD
@pytest.mark.parametrize("module", list(RECORD_MODULES))
def test_crud_of_every_module(services: Services, site: SiteInfo, module: Module) -> None:
    created = services.records.create(SYSTEM, module, site.id, RAW[module])
    row = created.value
    assert row.module is module
    assert row.site_id == site.id
    assert row.date == date(2026, 11, 25)
    assert row.version == 1
    assert row.created_at == row.updated_at == EXAMPLE_NOW
    ref_key = {"equipment": "CRUSHER-01", "role": "LABORER"}
    assert row.ref_code == RAW[module].get("material") or row.ref_code in ref_key.values()
    assert row.ref_name
    assert Area(module.value) in created.changes.areas
    assert Area.DASHBOARD in created.changes.areas
    assert created.changes.touches(Area(module.value), site.id)
    moves_stock = module in (
        Module.PRODUCTION,
        Module.DISPATCH,
        Module.RECEIVED,
        Module.ADJUSTMENTS,
        Module.FEED,
    )
    assert (Area.LEDGER in created.changes.areas) is moves_stock

    fetched = services.records.get(SYSTEM, module, row.id)
    assert fetched.values == row.values
    assert (
        services.records.count(SYSTEM, module, site.id, date(2026, 11, 1), date(2026, 11, 27)) == 1
    )

    key, raw_value, read_back = EDIT[module]
    updated = services.records.update(
        SYSTEM, module, row.id, {**fetched.values, key: raw_value}, expected_version=1
    )
    assert updated.value.values[key] == read_back
    assert updated.value.version == 2
    assert services.records.get(SYSTEM, module, row.id).values[key] == read_back

    deleted = services.records.delete(SYSTEM, module, row.id, expected_version=2)
    assert deleted.value.values[key] == read_back  # enough to undo with create()
    with pytest.raises(NotFound):
        services.records.get(SYSTEM, module, row.id)
    assert (
        services.records.count(SYSTEM, module, site.id, date(2026, 11, 1), date(2026, 11, 27)) == 0
    )
    with pytest.raises(NotFound):
        services.records.delete(SYSTEM, module, row.id)
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_values_round_trip_exactly(services: Services, site: SiteInfo) -> None:
    row = services.records.create(SYSTEM, Module.DISPATCH, site.id, RAW[Module.DISPATCH]).value
    assert row.values == {
        "date": date(2026, 11, 25),
        "reference": "DR-100",
        "material": "AGG-S1",
        "quantity": Decimal("3.250"),
        "trips": 2,
        "owner": "Acme Roads",
        "operation": "CRU-DIS",
        "fate": "SALE",
        "notes": "",
    }
    assert row.uom == "TON"
    # The values can be fed straight back (undo after delete).
    services.records.delete(SYSTEM, Module.DISPATCH, row.id)
    again = services.records.create(SYSTEM, Module.DISPATCH, site.id, row.values, record_id=row.id)
    assert again.value.id == row.id
    assert again.value.values == row.values


def test_validation_errors_come_from_the_shared_rules(services: Services, site: SiteInfo) -> None:
    with pytest.raises(ValidationError) as info:
        services.records.create(
            SYSTEM,
            Module.PRODUCTION,
            site.id,
            {**RAW[Module.PRODUCTION], "date": "2026-11-28", "quantity": "1e3", "material": "NOPE"},
        )
    assert {p.field for p in info.value.problems} == {"date", "quantity", "material"}
    assert (
        services.records.count(
            SYSTEM, Module.PRODUCTION, site.id, date(2000, 1, 1), date(2026, 12, 31)
        )
        == 0
    )


def test_future_dates_are_judged_in_the_sites_time_zone(store: Store, clock: FixedClock) -> None:
    # 22:00 UTC on the 27th is already the 28th in Riyadh (UTC+3) but still the 27th in New York.
    clock.set(datetime(2026, 11, 27, 22, 0, tzinfo=UTC))
    late = build_services(store)
    riyadh = default_site(late)
    new_york = late.master.add_site(SYSTEM, "NYC-01", "New York", timezone="America/New_York").value
    raw = production("2026-11-28")
    assert late.records.create(SYSTEM, Module.PRODUCTION, riyadh.id, raw).value.date == date(
        2026, 11, 28
    )
    with pytest.raises(ValidationError, match="must not be in the future"):
        late.records.create(SYSTEM, Module.PRODUCTION, new_york.id, raw)


def test_unknown_site_and_record(services: Services, site: SiteInfo) -> None:
    with pytest.raises(NotFound):
        services.records.create(SYSTEM, Module.PRODUCTION, "no-such-site", RAW[Module.PRODUCTION])
    with pytest.raises(NotFound, match="may have been deleted"):
        services.records.update(SYSTEM, Module.PRODUCTION, "no-such-record", RAW[Module.PRODUCTION])


# ------------------------------------------------------------------ unique keys
@pytest.mark.parametrize(
    ("module", "expected"),
    [
        (
            Module.PRODUCTION,
            "already recorded: production 2026-11-25 MORNING AGG-G1 CRU-PRO"
            " (record {id}, 12.500 ton)",
        ),
        (Module.EQUIPMENT, "already recorded: equipment 2026-11-25 NIGHT CRUSHER-01 (record {id})"),
        (Module.MANPOWER, "already recorded: manpower 2026-11-25 AFTERNOON LABORER (record {id})"),
    ],
)
def test_duplicate_key_names_the_existing_record(
    services: Services, site: SiteInfo, module: Module, expected: str
) -> None:
    first = services.records.create(SYSTEM, module, site.id, RAW[module]).value
    ref_key = SPECS_REF[module]
    with pytest.raises(ValidationError) as info:
        # Same key, different payload, the code typed in lower case: still the same record.
        services.records.create(
            SYSTEM,
            module,
            site.id,
            {**RAW[module], ref_key: RAW[module][ref_key].lower(), "notes": "again"},
        )
    assert [(p.field, p.message) for p in info.value.problems] == [
        (ref_key, expected.format(id=first.id[:8]))
    ]
    # Another shift is another record.
    services.records.create(
        SYSTEM,
        module,
        site.id,
        {**RAW[module], "shift": "MORNING" if module is not Module.PRODUCTION else "NIGHT"},
    )
    # No shift is a key of its own too ("" is stored, so it clashes on both backends).
    services.records.create(SYSTEM, module, site.id, {**RAW[module], "shift": ""})
    with pytest.raises(ValidationError, match="already recorded"):
        services.records.create(SYSTEM, module, site.id, {**RAW[module], "shift": ""})
    # Editing the record itself keeps its own key.
    services.records.update(SYSTEM, module, first.id, {**first.values, "notes": "edited"})


SPECS_REF = {Module.PRODUCTION: "material", Module.EQUIPMENT: "equipment", Module.MANPOWER: "role"}


def test_production_key_includes_operation_and_shift(services: Services, site: SiteInfo) -> None:
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, RAW[Module.PRODUCTION])
    services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, {**RAW[Module.PRODUCTION], "operation": "CRU-OP"}
    )
    services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, {**RAW[Module.PRODUCTION], "shift": "AFTERNOON"}
    )
    other = services.master.add_site(SYSTEM, "EAST-01", "East", timezone="Asia/Riyadh").value
    services.records.create(
        SYSTEM, Module.PRODUCTION, other.id, RAW[Module.PRODUCTION]
    )  # other site


def test_edit_into_an_existing_key_is_refused(services: Services, site: SiteInfo) -> None:
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, RAW[Module.PRODUCTION])
    night = services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, {**RAW[Module.PRODUCTION], "shift": "NIGHT"}
    ).value
    with pytest.raises(ValidationError, match="already recorded: production 2026-11-25 MORNING"):
        services.records.update(
            SYSTEM, Module.PRODUCTION, night.id, {**night.values, "shift": "MORNING"}
        )
    assert services.records.get(SYSTEM, Module.PRODUCTION, night.id).values["shift"] == "NIGHT"
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_modules_without_a_key_accept_repeats(services: Services, site: SiteInfo) -> None:
    for module in (Module.DISPATCH, Module.RECEIVED, Module.ADJUSTMENTS):
        services.records.create(SYSTEM, module, site.id, RAW[module])
        services.records.create(SYSTEM, module, site.id, RAW[module])
        assert (
            services.records.count(SYSTEM, module, site.id, date(2026, 11, 25), date(2026, 11, 25))
            == 2
        )


# ------------------------------------------------------------------ change log
def test_change_log_records_every_write_with_old_and_new_values(
    services: Services, store: Store, site: SiteInfo
) -> None:
    admin = make_user(services, "hq.admin", Role.ADMIN)
    row = services.records.create(admin, Module.PRODUCTION, site.id, RAW[Module.PRODUCTION]).value
    services.records.update(admin, Module.PRODUCTION, row.id, {**row.values, "quantity": "20"})
    services.records.delete(admin, Module.PRODUCTION, row.id)
    log = change_log(store, row.id)
    assert [e.action for e in log] == ["INSERT", "UPDATE", "DELETE"]
    assert all(e.user_id == admin.user_id and e.table_name == "production" for e in log)
    insert, update, delete = log
    assert insert.old_values is None
    assert insert.new_values is not None
    assert insert.new_values["quantity"] == "12.500"  # a string: no float ever holds a quantity
    assert insert.new_values["date"] == "2026-11-25"
    assert insert.new_values["shift"] == "MORNING"
    assert update.old_values is not None
    assert update.new_values is not None
    assert (update.old_values["quantity"], update.new_values["quantity"]) == ("12.500", "20.000")
    assert update.old_values["notes"] == update.new_values["notes"] == "first"
    assert delete.old_values is not None
    assert delete.old_values["quantity"] == "20.000"
    assert delete.new_values is None
    assert log[0].at.tzinfo is not None


def test_change_log_for_batches(services: Services, store: Store, site: SiteInfo) -> None:
    result = services.records.create_many(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        [RAW[Module.RECEIVED], {**RAW[Module.RECEIVED], "quantity": "5"}],
    )
    assert result.value == 2
    with store.read() as session:
        entries = session.scalars(select(ChangeLog).where(ChangeLog.table_name == "received")).all()
        assert sorted(e.new_values["quantity"] for e in entries if e.new_values) == [
            "4.000",
            "5.000",
        ]
        assert all(e.action == "INSERT" and e.user_id is None for e in entries)


# ------------------------------------------------------------------ stale edits
def test_stale_edit_is_refused_naming_who_changed_it_and_when(
    services: Services, site: SiteInfo
) -> None:
    alice = make_user(services, "alice", Role.MODERATOR, site)
    bob = make_user(services, "bob", Role.MODERATOR, site)
    row = services.records.create(alice, Module.PRODUCTION, site.id, RAW[Module.PRODUCTION]).value
    opened_by_alice = services.records.get(alice, Module.PRODUCTION, row.id)
    services.records.update(
        bob, Module.PRODUCTION, row.id, {**row.values, "quantity": "99"}, expected_version=1
    )
    with pytest.raises(StaleRecordError) as info:
        services.records.update(
            alice,
            Module.PRODUCTION,
            row.id,
            {**opened_by_alice.values, "quantity": "1"},
            expected_version=opened_by_alice.version,
        )
    last_change = change_log(services.store, row.id)[-1]
    assert last_change.user_id == bob.user_id
    assert f"changed by bob at {last_change.at:%Y-%m-%d %H:%M} UTC" in str(info.value)
    with pytest.raises(StaleRecordError, match="changed by bob"):
        services.records.delete(alice, Module.PRODUCTION, row.id, expected_version=1)
    current = services.records.get(alice, Module.PRODUCTION, row.id)
    assert (current.values["quantity"], current.version) == (Decimal("99.000"), 2)
    # With the fresh version the edit goes through.
    services.records.update(
        alice, Module.PRODUCTION, row.id, {**current.values, "quantity": "1"}, expected_version=2
    )
    assert services.ledger.verify(SYSTEM, site.id) == []


# ------------------------------------------------------------------ role limits
def test_operator_limits(services: Services, site: SiteInfo, other_site: SiteInfo) -> None:
    clerk = make_user(services, "clerk", Role.OPERATOR, site)
    records = services.records
    # Own site, within the last 7 days (today and the six days before): allowed.
    ok = records.create(clerk, Module.PRODUCTION, site.id, production("2026-11-21")).value
    records.update(clerk, Module.PRODUCTION, ok.id, {**ok.values, "quantity": "11"})
    # Older than that: refused, for create, edit and delete.
    with pytest.raises(PermissionDenied, match="last 7 days only; 2026-11-20 is older"):
        records.create(clerk, Module.PRODUCTION, site.id, production("2026-11-20"))
    old = records.create(SYSTEM, Module.PRODUCTION, site.id, production("2026-11-01")).value
    with pytest.raises(PermissionDenied):
        records.update(clerk, Module.PRODUCTION, old.id, {**old.values, "date": "2026-11-25"})
    with pytest.raises(PermissionDenied):
        records.delete(clerk, Module.PRODUCTION, old.id)
    # Moving a recent record into the past is refused too.
    with pytest.raises(PermissionDenied):
        records.update(clerk, Module.PRODUCTION, ok.id, {**ok.values, "date": "2026-11-02"})
    # Other sites: refused for writes and reads.
    with pytest.raises(PermissionDenied, match="not assigned"):
        records.create(clerk, Module.PRODUCTION, other_site.id, production("2026-11-25"))
    foreign = records.create(SYSTEM, Module.RECEIVED, other_site.id, RAW[Module.RECEIVED]).value
    with pytest.raises(PermissionDenied):
        records.get(clerk, Module.RECEIVED, foreign.id)
    with pytest.raises(PermissionDenied):
        records.list(clerk, Module.RECEIVED, other_site.id, date(2026, 11, 1), date(2026, 11, 27))
    with pytest.raises(PermissionDenied):
        records.delete(clerk, Module.RECEIVED, foreign.id)
    # Adjustments need a supervisor, even today.
    with pytest.raises(PermissionDenied, match="supervisor"):
        records.create(
            clerk, Module.ADJUSTMENTS, site.id, {**RAW[Module.ADJUSTMENTS], "date": "2026-11-27"}
        )
    with pytest.raises(PermissionDenied):
        records.create_many(clerk, Module.RECEIVED, other_site.id, [RAW[Module.RECEIVED]])
    # Master data is for administrators.
    with pytest.raises(PermissionDenied):
        services.master.add_equipment(clerk, "CRUSHER-03", "Impact crusher", "CRUSHING_SCREENING")
    with pytest.raises(PermissionDenied):
        services.master.add_site(clerk, "SOUTH-01", "South")
    material = services.master.reference().materials[0]
    with pytest.raises(PermissionDenied):
        services.master.update_material(clerk, material.id, low_threshold="5")
    # What the UI greys out agrees with the services.
    assert records.may_change(clerk, ok, site)
    assert not records.may_change(clerk, old, site)
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_operator_batch_reports_old_rows(services: Services, site: SiteInfo) -> None:
    clerk = make_user(services, "clerk", Role.OPERATOR, site)
    with pytest.raises(ValidationError) as info:
        services.records.create_many(
            clerk,
            Module.RECEIVED,
            site.id,
            [RAW[Module.RECEIVED], {**RAW[Module.RECEIVED], "date": "2026-10-01"}],
            first_row=2,
        )
    assert [(p.row, p.field) for p in info.value.problems] == [(3, "date")]
    assert "last 7 days" in info.value.problems[0].message


def test_moderator_may_adjust_and_edit_old_records_of_assigned_sites(
    services: Services, site: SiteInfo, other_site: SiteInfo
) -> None:
    supervisor = make_user(services, "super", Role.MODERATOR, site)
    adj = services.records.create(
        supervisor, Module.ADJUSTMENTS, site.id, RAW[Module.ADJUSTMENTS]
    ).value
    assert adj.values["quantity"] == Decimal("-2.500")
    old = services.records.create(
        supervisor, Module.PRODUCTION, site.id, production("2021-03-04")
    ).value
    services.records.update(supervisor, Module.PRODUCTION, old.id, {**old.values, "quantity": "4"})
    services.records.delete(supervisor, Module.ADJUSTMENTS, adj.id)
    with pytest.raises(PermissionDenied):
        services.records.create(
            supervisor, Module.PRODUCTION, other_site.id, production("2026-11-25")
        )
    with pytest.raises(PermissionDenied):
        services.master.add_role(supervisor, "WELDER", "Welder")
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_admin_may_do_everything(services: Services, site: SiteInfo, other_site: SiteInfo) -> None:
    admin = make_user(services, "root.admin", Role.ADMIN)
    for target in (site, other_site):
        services.records.create(
            admin, Module.ADJUSTMENTS, target.id, {**RAW[Module.ADJUSTMENTS], "date": "2015-06-30"}
        )
    services.master.add_role(admin, "WELDER", "Welder")


# ------------------------------------------------------------------ list / count
@pytest.fixture
def listed(services: Services, site: SiteInfo) -> list[str]:
    entries = [
        ("2026-11-20", "AGG-G1", "10", "MORNING", "washed well"),
        ("2026-11-21", "AGG-S1", "2.5", "NIGHT", ""),
        ("2026-11-22", "FINE-WASHED", "30", "MORNING", "rain delay"),
        ("2026-11-23", "AGG-G1", "0.75", "", ""),
        ("2026-11-24", "BASE-CRUSHED", "7", "AFTERNOON", "Rain"),
    ]
    ids = []
    for day, material, qty, shift, notes in entries:
        raw = production(day, material=material, quantity=qty, shift=shift, notes=notes)
        ids.append(services.records.create(SYSTEM, Module.PRODUCTION, site.id, raw).value.id)
    services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, production("2026-10-01")
    )  # out of range
    return ids


def _listing(services: Services, site: SiteInfo, **kwargs: Any) -> list[tuple[str, str]]:
    rows = services.records.list(
        SYSTEM, Module.PRODUCTION, site.id, date(2026, 11, 20), date(2026, 11, 24), **kwargs
    )
    return [(r.date.isoformat()[-2:], r.ref_code) for r in rows]


def test_list_sorts_filters_and_pages(
    services: Services, site: SiteInfo, listed: list[str]
) -> None:
    assert _listing(services, site) == [
        ("24", "BASE-CRUSHED"),
        ("23", "AGG-G1"),
        ("22", "FINE-WASHED"),
        ("21", "AGG-S1"),
        ("20", "AGG-G1"),
    ]
    assert _listing(services, site, descending=False)[0] == ("20", "AGG-G1")
    by_quantity = services.records.list(
        SYSTEM,
        Module.PRODUCTION,
        site.id,
        date(2026, 11, 20),
        date(2026, 11, 24),
        sort="quantity",
        descending=False,
    )
    assert [r.values["quantity"] for r in by_quantity] == [
        Decimal("0.750"),
        Decimal("2.500"),
        Decimal("7.000"),
        Decimal("10.000"),
        Decimal("30.000"),
    ]
    assert [c for _, c in _listing(services, site, sort="material", descending=False)] == [
        "AGG-G1",
        "AGG-G1",
        "AGG-S1",
        "BASE-CRUSHED",
        "FINE-WASHED",
    ]
    assert _listing(services, site, offset=1, limit=2) == [("23", "AGG-G1"), ("22", "FINE-WASHED")]
    assert _listing(services, site, offset=10) == []
    # Search: material code and name, text fields, choices; case-insensitive.
    assert _listing(services, site, search="agg-g1") == [("23", "AGG-G1"), ("20", "AGG-G1")]
    assert _listing(services, site, search="washed") == [("22", "FINE-WASHED"), ("20", "AGG-G1")]
    assert _listing(services, site, search="RAIN") == [
        ("24", "BASE-CRUSHED"),
        ("22", "FINE-WASHED"),
    ]
    assert _listing(services, site, search="night") == [("21", "AGG-S1")]
    assert _listing(services, site, search="crushed base") == [("24", "BASE-CRUSHED")]
    assert _listing(services, site, search="nothing like it") == []
    count = services.records.count
    assert count(SYSTEM, Module.PRODUCTION, site.id, date(2026, 11, 20), date(2026, 11, 24)) == 5
    assert (
        count(
            SYSTEM,
            Module.PRODUCTION,
            site.id,
            date(2026, 11, 20),
            date(2026, 11, 24),
            search="rain",
        )
        == 2
    )
    assert count(SYSTEM, Module.PRODUCTION, site.id, date(2026, 1, 1), date(2026, 11, 27)) == 6
    with pytest.raises(ValueError, match="cannot sort"):
        services.records.list(
            SYSTEM,
            Module.PRODUCTION,
            site.id,
            date(2026, 11, 20),
            date(2026, 11, 24),
            sort="no_such_column",
        )


def test_list_of_equipment_and_manpower(services: Services, site: SiteInfo) -> None:
    services.records.create(SYSTEM, Module.EQUIPMENT, site.id, RAW[Module.EQUIPMENT])
    services.records.create(SYSTEM, Module.MANPOWER, site.id, RAW[Module.MANPOWER])
    eq = services.records.list(
        SYSTEM, Module.EQUIPMENT, site.id, date(2026, 11, 25), date(2026, 11, 25), search="jaw"
    )
    assert [(r.ref_code, r.ref_name, r.uom) for r in eq] == [("CRUSHER-01", "Jaw Crusher #1", "")]
    mp = services.records.list(
        SYSTEM, Module.MANPOWER, site.id, date(2026, 11, 25), date(2026, 11, 25), search="afternoon"
    )
    assert [(r.ref_code, r.values["headcount"], r.values["hours"]) for r in mp] == [
        ("LABORER", 12, Decimal("8.00"))
    ]


# ------------------------------------------------------------------ batches
def test_create_many_is_all_or_nothing_with_row_numbered_problems(
    services: Services, store: Store, site: SiteInfo
) -> None:
    existing = services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, RAW[Module.PRODUCTION]
    ).value
    rows = [
        production("2026-11-20", quantity="1"),  # row 2: fine
        production("2026-11-20", quantity="12,5t"),  # row 3: bad quantity
        production("2026-11-21", material="NOPE", quantity="0"),  # row 4: two problems
        production("2026-11-20", quantity="3"),  # row 5: duplicates row 2
        {**RAW[Module.PRODUCTION], "quantity": "8"},  # row 6: clashes with the store
        production("2026-11-22", shift="MORNING"),  # row 7: fine
    ]
    with pytest.raises(ValidationError) as info:
        services.records.create_many(SYSTEM, Module.PRODUCTION, site.id, rows, first_row=2)
    found = [(p.row, p.field, p.message) for p in info.value.problems]
    assert found == [
        (3, "quantity", "'12,5t' is not a number (use digits and '.', e.g. 12.5)"),
        (4, "material", "unknown material code 'NOPE'"),
        (4, "quantity", "must be greater than 0"),
        (5, "material", "duplicates row 2 of this file"),
        (
            6,
            "material",
            f"already recorded: production 2026-11-25 MORNING AGG-G1 CRU-PRO "
            f"(record {existing.id[:8]}, 12.500 ton)",
        ),
    ]
    assert "row 3, quantity:" in str(info.value)
    # Nothing was written: still only the one record, the ledger and the change log unchanged.
    assert (
        services.records.count(
            SYSTEM, Module.PRODUCTION, site.id, date(2026, 1, 1), date(2026, 11, 27)
        )
        == 1
    )
    with store.read() as session:
        assert len(session.scalars(select(ChangeLog)).all()) == 1
    assert services.ledger.verify(SYSTEM, site.id) == []

    good = [rows[0], rows[5], production("2026-11-23", quantity="0.001")]
    result = services.records.create_many(SYSTEM, Module.PRODUCTION, site.id, good, first_row=2)
    assert result.value == 3
    assert Area.LEDGER in result.changes.areas
    assert (
        services.records.count(
            SYSTEM, Module.PRODUCTION, site.id, date(2026, 1, 1), date(2026, 11, 27)
        )
        == 4
    )
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 11, 27), date(2026, 11, 27), material_codes=["AGG-G1"]
    )
    assert ledger.rows[0].closing == Decimal("12.500") + Decimal("1") + Decimal("10") + Decimal(
        "0.001"
    )
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_create_many_of_nothing(services: Services, site: SiteInfo) -> None:
    result = services.records.create_many(SYSTEM, Module.RECEIVED, site.id, [])
    assert result.value == 0


def test_create_many_across_many_days_keeps_the_ledger(services: Services, site: SiteInfo) -> None:
    rows = [
        {"date": f"2026-11-{d:02d}", "material": "RAW-MIXED", "quantity": f"{d}.5"}
        for d in range(1, 28)
    ]
    services.records.create_many(SYSTEM, Module.RECEIVED, site.id, rows)
    services.records.create(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        {"date": "2026-10-31", "material": "RAW-MIXED", "quantity": "100"},
    )  # back-dated
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 11, 27), date(2026, 11, 27), material_codes=["RAW-MIXED"]
    )
    assert ledger.rows[0].closing == Decimal(100) + sum(Decimal(f"{d}.5") for d in range(1, 28))
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_production_rows_are_stored_as_exact_integers(
    services: Services, store: Store, site: SiteInfo
) -> None:
    row = services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, production("2026-11-25", quantity="0.1")
    )
    with store.read() as session:
        raw = session.execute(
            text("SELECT quantity FROM production WHERE id = :i"), {"i": row.value.id}
        ).scalar()
    assert raw == 100  # thousandths, an integer on both backends
    assert isinstance(raw, int)


def test_concurrent_writers_keep_the_ledger_exact(services: Services, site: SiteInfo) -> None:
    """Writers on several threads (the app's write lane plus imports/CLI in other processes).

    SQLite serialises them with BEGIN IMMEDIATE; PostgreSQL with a per-material advisory lock.
    Back-dated days make every writer roll later balances forward while others insert.
    """
    import threading

    errors: list[BaseException] = []
    barrier = threading.Barrier(4)

    def writer(worker: int) -> None:
        try:
            barrier.wait()
            for i in range(8):
                day = f"2026-11-{27 - (i * 3 + worker) % 20:02d}"
                raw = {"date": day, "material": "AGG-G1", "quantity": f"{worker + 1}.{i:03d}"}
                services.records.create(SYSTEM, Module.RECEIVED, site.id, raw)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    expected = sum(Decimal(f"{w + 1}.{i:03d}") for w in range(4) for i in range(8))
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 11, 27), date(2026, 11, 27), material_codes=["AGG-G1"]
    )
    assert ledger.rows[0].closing == expected
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_edits_moving_stock_between_two_materials_do_not_deadlock(
    services: Services, site: SiteInfo
) -> None:
    """Two clerks correct the material of two records in opposite directions at the same time."""
    import threading

    def received(code: str) -> str:
        raw = {"date": "2026-11-20", "material": code, "quantity": "1.5"}
        return services.records.create(SYSTEM, Module.RECEIVED, site.id, raw).value.id

    first, second = received("AGG-G1"), received("AGG-S1")
    errors: list[BaseException] = []
    barrier = threading.Barrier(2)

    def flip(record_id: str, codes: tuple[str, str]) -> None:
        try:
            barrier.wait()
            for i in range(20):
                row = services.records.get(SYSTEM, Module.RECEIVED, record_id)
                raw = {**row.values, "material": codes[i % 2]}
                services.records.update(SYSTEM, Module.RECEIVED, record_id, raw)
        except BaseException as exc:  # reported below, on the test's thread
            errors.append(exc)

    threads = [
        threading.Thread(target=flip, args=(first, ("AGG-S1", "AGG-G1"))),
        threading.Thread(target=flip, args=(second, ("AGG-G1", "AGG-S1"))),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert [f"{type(e).__name__}: {e}"[:300] for e in errors] == []
    assert services.ledger.verify(SYSTEM, site.id) == []
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 11, 20), date(2026, 11, 20), material_codes=["AGG-G1", "AGG-S1"]
    )
    assert [r.closing for r in ledger.rows] == [Decimal("1.500"), Decimal("1.500")]


@pytest.mark.postgres
@pytest.mark.parametrize("action", ["update", "delete"])
def test_a_change_committed_mid_edit_is_reported_as_stale(pg_store: Store, action: str) -> None:
    """Another writer commits between this unit's read and its write (READ COMMITTED):
    the write is refused as stale, naming who changed it, never a raw database error."""
    from sqlalchemy import event, update
    from sqlalchemy.orm import Session

    services = build_services(pg_store)
    site = default_site(services)
    bob = make_user(services, "bob", Role.MODERATOR, site)
    row = services.records.create(SYSTEM, Module.RECEIVED, site.id, RAW[Module.RECEIVED]).value
    services.records.update(bob, Module.RECEIVED, row.id, {**row.values, "quantity": "5"})
    table = Received.__table__

    fired: list[bool] = []

    def concurrent_edit(session: Session, *_: object) -> None:
        if fired or not any(
            isinstance(obj, Received) for obj in (*session.dirty, *session.deleted)
        ):
            return
        fired.append(True)
        with pg_store.engine.begin() as other:  # a second connection: bob's edit lands now
            other.execute(
                update(table).where(table.c.id == row.id).values(version=table.c.version + 1)
            )

    def act() -> object:
        if action == "update":
            return services.records.update(
                SYSTEM, Module.RECEIVED, row.id, {**row.values, "quantity": "7"}
            )
        return services.records.delete(SYSTEM, Module.RECEIVED, row.id)

    event.listen(Session, "before_flush", concurrent_edit)
    try:
        with pytest.raises(StaleRecordError, match="changed by bob at"):
            act()
    finally:
        event.remove(Session, "before_flush", concurrent_edit)
    assert fired
    assert services.records.get(SYSTEM, Module.RECEIVED, row.id).values["quantity"] == Decimal(
        "5.000"
    )
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_search_treats_like_wildcards_as_text(services: Services, site: SiteInfo) -> None:
    for notes in ("50% wet", "dry", "back\\slash"):
        services.records.create(
            SYSTEM, Module.RECEIVED, site.id, {**RAW[Module.RECEIVED], "notes": notes}
        )

    def found(search: str) -> list[str]:
        rows = services.records.list(
            SYSTEM, Module.RECEIVED, site.id, date(2026, 11, 25), date(2026, 11, 25), search=search
        )
        return sorted(r.values["notes"] for r in rows)

    assert found("%") == ["50% wet"]
    assert found("0%") == ["50% wet"]
    assert found("_") == []  # no note, code or name holds an underscore
    assert found("\\") == ["back\\slash"]
    assert found("raw-mixed") == ["50% wet", "back\\slash", "dry"]
    count = services.records.count(
        SYSTEM, Module.RECEIVED, site.id, date(2026, 11, 25), date(2026, 11, 25), search="%"
    )
    assert count == 1
