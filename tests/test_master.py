"""Master data on both backends: sites, materials and their thresholds, equipment, roles,
production targets, and that only administrators may change any of it."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.enums import Level, Module, Role
from deskops_desktop.models.errors import NotFound, PermissionDenied, ValidationError
from deskops_desktop.models.modules import RefItem
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import Area
from deskops_desktop.services.store import Store
from tests.conftest import FIXED_NOW
from tests.helpers import default_site

PASSWORD = "correct horse battery"


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def admin(services: Services) -> Actor:
    services.users.create(None, "boss", PASSWORD, Role.ADMIN)
    return services.users.authenticate("boss", PASSWORD)


@pytest.fixture
def moderator(services: Services, admin: Actor) -> Actor:
    services.users.create(admin, "super", PASSWORD, Role.MODERATOR, ["ALASLA-29"])
    return services.users.authenticate("super", PASSWORD)


def material(services: Services, code: str) -> RefItem:
    return next(m for m in services.master.reference().materials if m.code == code)


def problems(info: pytest.ExceptionInfo[ValidationError]) -> dict[str, str]:
    return {p.field: p.message for p in info.value.problems}


# ------------------------------------------------------------------ sites
def test_default_site_is_seeded(services: Services) -> None:
    site = default_site(services)
    assert (site.code, site.name, site.location, site.timezone, site.active) == (
        "ALASLA-29",
        "Al Asla Recycling Facility",
        "Jeddah",
        "Asia/Riyadh",
        True,
    )
    assert site.label == "ALASLA-29 – Al Asla Recycling Facility"
    assert site.today(FIXED_NOW) == FIXED_NOW.astimezone(ZoneInfo("Asia/Riyadh")).date()


def test_add_site(services: Services, store: Store, admin: Actor) -> None:
    changed = services.master.add_site(
        admin, " north-01 ", " North Yard ", location=" Rabigh ", timezone="Asia/Dubai"
    )
    site, changes = changed.value, changed.changes
    assert (site.code, site.name, site.location, site.timezone, site.active) == (
        "NORTH-01",
        "North Yard",
        "Rabigh",
        "Asia/Dubai",
        True,
    )
    assert Area.MASTER in changes.areas
    assert services.master.site_by_code(admin, "north-01") == site
    default_tz = services.master.add_site(admin, "SOUTH_2", "South").value
    assert default_tz.timezone == "Asia/Riyadh"
    assert [s.code for s in services.master.sites(admin)] == ["ALASLA-29", "NORTH-01", "SOUTH_2"]
    with store.read() as session:
        entry = session.scalars(select(ChangeLog).where(ChangeLog.record_id == site.id)).one()
        assert (entry.table_name, entry.action, entry.user_id) == ("sites", "INSERT", admin.user_id)
        assert entry.new_values == {
            "code": "NORTH-01",
            "name": "North Yard",
            "timezone": "Asia/Dubai",
        }


@pytest.mark.parametrize(
    ("code", "name", "timezone", "expected"),
    [
        ("AB", "Short", "Asia/Riyadh", {"code": "must be 3 to 20 characters"}),
        ("A" * 21, "Long", "Asia/Riyadh", {"code": "must be 3 to 20 characters"}),
        (
            "BAD CODE",
            "Space",
            "Asia/Riyadh",
            {"code": "may contain only letters, digits, '-' and '_'"},
        ),
        (
            "BAD/CODE",
            "Slash",
            "Asia/Riyadh",
            {"code": "may contain only letters, digits, '-' and '_'"},
        ),
        ("GOOD-1", "  ", "Asia/Riyadh", {"name": "is required"}),
        (
            "GOOD-2",
            "Mars",
            "Mars/Olympus_Mons",
            {"timezone": "'Mars/Olympus_Mons' is not an IANA time zone (e.g. Asia/Riyadh)"},
        ),
        (
            "GOOD-3",
            "Blank zone",
            "",
            {"timezone": "'' is not an IANA time zone (e.g. Asia/Riyadh)"},
        ),
        (
            "GOOD-4",
            "Path",
            "../etc/passwd",
            {"timezone": "'../etc/passwd' is not an IANA time zone (e.g. Asia/Riyadh)"},
        ),
        (
            "X",
            "",
            "Nowhere",
            {
                "code": "must be 3 to 20 characters",
                "name": "is required",
                "timezone": "'Nowhere' is not an IANA time zone (e.g. Asia/Riyadh)",
            },
        ),
    ],
)
def test_site_rules(
    services: Services, admin: Actor, code: str, name: str, timezone: str, expected: dict[str, str]
) -> None:
    with pytest.raises(ValidationError) as info:
        services.master.add_site(admin, code, name, timezone=timezone)
    assert problems(info) == expected
    assert len(services.master.sites(admin, include_inactive=True)) == 1


def test_duplicate_site_code_is_refused_case_insensitively(
    services: Services, admin: Actor
) -> None:
    with pytest.raises(ValidationError) as info:
        services.master.add_site(admin, "alasla-29", "Again")
    assert problems(info) == {"code": "site ALASLA-29 already exists"}


def test_update_site(services: Services, admin: Actor) -> None:
    site = default_site(services)
    changed = services.master.update_site(admin, site.id, name="Al Asla", timezone="Asia/Dubai")
    updated, changes = changed.value, changed.changes
    assert (updated.code, updated.name, updated.location, updated.timezone) == (
        "ALASLA-29",
        "Al Asla",
        "Jeddah",
        "Asia/Dubai",
    )
    assert Area.MASTER in changes.areas
    with pytest.raises(ValidationError) as info:
        services.master.update_site(admin, site.id, timezone="Asia/Atlantis", name="")
    assert set(problems(info)) == {"timezone", "name"}
    assert default_site(services).timezone == "Asia/Dubai"  # nothing half-applied
    with pytest.raises(NotFound):
        services.master.update_site(admin, "no-such-site", name="x")


def test_inactive_sites_are_hidden_unless_asked_for(services: Services, admin: Actor) -> None:
    north = services.master.add_site(admin, "NORTH-01", "North Yard").value
    services.master.update_site(admin, north.id, active=False)
    assert [s.code for s in services.master.sites(admin)] == ["ALASLA-29"]
    assert [s.code for s in services.master.sites(admin, include_inactive=True)] == [
        "ALASLA-29",
        "NORTH-01",
    ]


def test_users_see_only_their_sites(services: Services, admin: Actor, moderator: Actor) -> None:
    north = services.master.add_site(admin, "NORTH-01", "North Yard").value
    assert [s.code for s in services.master.sites(moderator)] == ["ALASLA-29"]
    with pytest.raises(PermissionDenied):
        services.master.site_by_code(moderator, "NORTH-01")
    with pytest.raises(NotFound, match="unknown site 'MOON'"):
        services.master.site_by_code(admin, "MOON")
    with pytest.raises(PermissionDenied):
        services.master.targets(moderator, north.id)


# ------------------------------------------------------------------ materials and thresholds
def test_reference_data_in_display_order(services: Services) -> None:
    refs = services.master.reference()
    assert [m.code for m in refs.materials][:3] == ["AGG-G1", "AGG-3/4", "AGG-3/8"]
    assert [m.code for m in refs.materials][-3:] == ["RAW-CONCRETE", "RAW-MIXED", "RAW-ASPHALT"]
    g1 = material(services, "AGG-G1")
    assert (g1.low_threshold, g1.high_threshold) == (Decimal("100.000"), Decimal("500.000"))
    raw = material(services, "RAW-MIXED")
    assert (raw.category, raw.uom) == ("RAW_FEED", "LOAD")
    assert refs.equipment[0].code == "CRUSHER-01"
    assert [r.code for r in refs.roles] == [
        "EQUIPMENT_DRIVER",
        "CRUSHER_OPERATOR",
        "MAINTENANCE_WORKER",
        "LABORER",
        "SECURITY",
    ]


def _levels(services: Services, site_id: str) -> list[tuple[Decimal, Level]]:
    ledger = services.ledger.ledger(
        SYSTEM, site_id, date(2026, 11, 20), date(2026, 11, 25), material_codes=["AGG-G1"]
    )
    return [(r.closing, r.level) for r in ledger.rows]


def test_thresholds_move_level_boundaries(services: Services, admin: Actor) -> None:
    site = default_site(services)
    # Closings over six days: 99.999, 100, 500, 500.001, -0.999 (negative stock) and 0.
    steps = [
        ("2026-11-20", Module.RECEIVED, "99.999"),
        ("2026-11-21", Module.RECEIVED, "0.001"),
        ("2026-11-22", Module.PRODUCTION, "400"),
        ("2026-11-23", Module.PRODUCTION, "0.001"),
        ("2026-11-24", Module.DISPATCH, "501"),
        ("2026-11-25", Module.ADJUSTMENTS, "0.999"),
    ]
    for day, module, qty in steps:
        raw = {"date": day, "material": "AGG-G1", "quantity": qty}
        if module is Module.PRODUCTION:
            raw["operation"] = "CRU-PRO"
        if module is Module.ADJUSTMENTS:
            raw["reason"] = "CORRECTION"
        services.records.create(SYSTEM, module, site.id, raw)
    assert _levels(services, site.id) == [
        (Decimal("99.999"), Level.LOW),
        (Decimal("100.000"), Level.WARNING),  # 100 <= closing <= 500 is WARNING
        (Decimal("500.000"), Level.WARNING),
        (Decimal("500.001"), Level.HEALTHY),
        (Decimal("-0.999"), Level.LOW),  # negative stock shows as LOW
        (Decimal("0.000"), Level.LOW),
    ]
    g1 = material(services, "AGG-G1")
    changes = services.master.update_material(
        admin, g1.id, low_threshold="99.999", high_threshold="500.001"
    )
    assert Area.LEDGER in changes.changes.areas
    assert [level for _, level in _levels(services, site.id)] == [
        Level.WARNING,
        Level.WARNING,
        Level.WARNING,
        Level.WARNING,  # 500.001 is no longer above the high threshold
        Level.LOW,
        Level.LOW,
    ]
    services.master.update_material(admin, g1.id, low_threshold="0", high_threshold="0")
    assert [level for _, level in _levels(services, site.id)] == [
        Level.HEALTHY,
        Level.HEALTHY,
        Level.HEALTHY,
        Level.HEALTHY,
        Level.LOW,
        Level.WARNING,  # 0 <= 0 <= 0
    ]
    assert material(services, "AGG-G1").high_threshold == Decimal("0.000")
    # Another material keeps the defaults.
    assert material(services, "AGG-S1").low_threshold == Decimal("100.000")


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"low_threshold": "600"}, {"high_threshold": "must not be below the low threshold"}),
        (
            {"low_threshold": "50", "high_threshold": "40"},
            {"high_threshold": "must not be below the low threshold"},
        ),
        (
            {"low_threshold": "12,5t"},
            {"low_threshold": "'12,5t' is not a number (use digits and '.', e.g. 12.5)"},
        ),
        ({"high_threshold": "100.0001"}, {"high_threshold": "must have at most 3 decimals"}),
        (
            {"high_threshold": "1" + "0" * 30},
            {"high_threshold": "must be between 0 and 999,999.999"},
        ),
        ({"low_threshold": "-1"}, {"low_threshold": "must be between 0 and 999,999.999"}),
        (
            {"low_threshold": "NaN"},
            {"low_threshold": "'NaN' is not a number (use digits and '.', e.g. 12.5)"},
        ),
        (
            {"category": "ROCKS"},
            {
                "category": "'ROCKS' is not one of AGGREGATES, FINE, SPECIALTY,"
                " PROCESSED_BASE, RAW_FEED"
            },
        ),
        ({"uom": "KG"}, {"uom": "'KG' is not one of TON, LOAD"}),
        ({"name": "  "}, {"name": "is required"}),
        ({"notes": "n" * 501}, {"notes": "must be at most 500 characters (has 501)"}),
        ({"code": "NEW-CODE"}, {"code": "cannot be changed"}),
    ],
)
def test_material_rules(
    services: Services, admin: Actor, changes: dict[str, str], expected: dict[str, str]
) -> None:
    g1 = material(services, "AGG-G1")
    with pytest.raises(ValidationError) as info:
        services.master.update_material(admin, g1.id, **changes)
    assert problems(info) == expected
    assert material(services, "AGG-G1") == g1  # unchanged


def test_update_material_fields(services: Services, store: Store, admin: Actor) -> None:
    g1 = material(services, "AGG-G1")
    services.master.update_material(
        admin,
        g1.id,
        name="G1 Gravel",
        category="fine",
        uom="ton",
        notes=" sieve 20 mm ",
        low_threshold=Decimal("80"),
    )
    after = material(services, "AGG-G1")
    assert (after.name, after.category, after.uom, after.low_threshold) == (
        "G1 Gravel",
        "FINE",
        "TON",
        Decimal("80.000"),
    )
    with store.read() as session:
        entry = session.scalars(select(ChangeLog).where(ChangeLog.record_id == g1.id)).one()
        assert entry.old_values is not None
        assert entry.new_values is not None
        assert (entry.old_values["name"], entry.new_values["name"]) == ("G1", "G1 Gravel")
        assert (entry.old_values["low_threshold"], entry.new_values["low_threshold"]) == (
            "100.000",
            "80",
        )
    with pytest.raises(NotFound):
        services.master.update_material(admin, "no-such-material", name="x")


def test_deactivated_material_is_refused_for_new_records(services: Services, admin: Actor) -> None:
    site = default_site(services)
    g1 = material(services, "AGG-G1")
    services.master.set_active(admin, "materials", g1.id, False)
    assert material(services, "AGG-G1").active is False
    with pytest.raises(ValidationError, match="material AGG-G1 is inactive"):
        services.records.create(
            SYSTEM,
            Module.RECEIVED,
            site.id,
            {"date": "2026-11-25", "material": "AGG-G1", "quantity": "1"},
        )
    services.master.set_active(admin, "materials", g1.id, True)
    services.records.create(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        {"date": "2026-11-25", "material": "AGG-G1", "quantity": "1"},
    )


# ------------------------------------------------------------------ equipment and roles
def test_add_equipment(services: Services, admin: Actor) -> None:
    changes = services.master.add_equipment(
        admin, " crusher-03 ", " Impact Crusher ", "crushing_screening"
    )
    assert Area.MASTER in changes.changes.areas
    equipment = services.master.reference().equipment
    added = equipment[-1]
    assert (added.code, added.name, added.category, added.active) == (
        "CRUSHER-03",
        "Impact Crusher",
        "CRUSHING_SCREENING",
        True,
    )
    assert added.sort_order > max(e.sort_order for e in equipment[:-1])
    with pytest.raises(ValidationError) as info:
        services.master.add_equipment(admin, "CRUSHER-03", "Again", "HAULING")
    assert problems(info) == {"code": "CRUSHER-03 already exists"}
    with pytest.raises(ValidationError) as info:
        services.master.add_equipment(admin, "X", " ", "HAULING")
    assert problems(info) == {"code": "must be 2 to 40 characters", "name": "is required"}
    with pytest.raises(ValidationError) as info:
        services.master.add_equipment(admin, "BOAT-01", "Barge", "FLOATING")
    assert problems(info) == {
        "type": "'FLOATING' is not one of CRUSHING_SCREENING, EARTH_MOVING, HAULING, AUXILIARY"
    }
    # The new unit can be logged at once.
    site = default_site(services)
    services.records.create(
        SYSTEM,
        Module.EQUIPMENT,
        site.id,
        {"date": "2026-11-25", "equipment": "CRUSHER-03", "hours": "8", "count": "1"},
    )


def test_add_and_deactivate_role(services: Services, admin: Actor) -> None:
    services.master.add_role(admin, "welder", "Welder")
    roles = services.master.reference().roles
    assert (roles[-1].code, roles[-1].name) == ("WELDER", "Welder")
    with pytest.raises(ValidationError, match="WELDER already exists"):
        services.master.add_role(admin, "WELDER", "Welder")
    services.master.set_active(admin, "manpower_roles", roles[-1].id, False)
    site = default_site(services)
    with pytest.raises(ValidationError, match="role WELDER is inactive"):
        services.records.create(
            SYSTEM,
            Module.MANPOWER,
            site.id,
            {"date": "2026-11-25", "role": "WELDER", "headcount": "2", "hours": "8"},
        )
    equipment = services.master.reference().equipment[0]
    services.master.set_active(admin, "equipment", equipment.id, False)
    assert services.master.reference().equipment[0].active is False


# ------------------------------------------------------------------ production targets
def test_production_targets(services: Services, admin: Actor) -> None:
    site = default_site(services)
    assert services.master.targets(admin, site.id) == []
    changes = services.master.set_target(
        admin, site.id, "1200.5", "2026-12-01"
    )  # a future start is fine
    assert Area.MASTER in changes.changes.areas
    services.master.set_target(admin, site.id, "300", date(2026, 1, 1), material_code="agg-g1")
    targets = services.master.targets(admin, site.id)
    assert [(t.material_code, t.daily_tons, t.from_date) for t in targets] == [
        ("AGG-G1", Decimal("300.000"), date(2026, 1, 1)),
        (None, Decimal("1200.500"), date(2026, 12, 1)),  # None: all materials of the site
    ]
    with pytest.raises(ValidationError) as info:
        services.master.set_target(admin, site.id, "0", "1999-12-31", material_code="NOPE")
    assert problems(info) == {
        "daily_tons": "must be greater than 0",
        "from_date": "must not be before 2000-01-01",
        "material": "unknown material code 'NOPE'",
    }
    with pytest.raises(ValidationError, match="at most 3 decimals"):
        services.master.set_target(admin, site.id, "1.0005", "2026-01-01")
    assert len(services.master.targets(admin, site.id)) == 2


# ------------------------------------------------------------------ admin only
def test_only_admins_change_master_data(services: Services, admin: Actor, moderator: Actor) -> None:
    site = default_site(services)
    g1 = material(services, "AGG-G1")
    attempts = [
        lambda: services.master.add_site(moderator, "NEW-01", "New"),
        lambda: services.master.update_site(moderator, site.id, name="Renamed"),
        lambda: services.master.update_material(moderator, g1.id, low_threshold="1"),
        lambda: services.master.add_equipment(
            moderator, "CRUSHER-09", "Crusher", "CRUSHING_SCREENING"
        ),
        lambda: services.master.add_role(moderator, "WELDER", "Welder"),
        lambda: services.master.set_active(moderator, "materials", g1.id, False),
        lambda: services.master.set_target(moderator, site.id, "100", "2026-01-01"),
    ]
    for attempt in attempts:
        with pytest.raises(PermissionDenied, match="only an administrator"):
            attempt()
    # Nothing changed.
    assert material(services, "AGG-G1") == g1
    assert default_site(services).name == "Al Asla Recycling Facility"
    assert services.master.targets(moderator, site.id) == []
