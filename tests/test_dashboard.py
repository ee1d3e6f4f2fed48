"""Dashboard figures on hand-computed examples, on SQLite and PostgreSQL.

Today is 2026-11-27 at the site (the ``clock`` fixture); every example stays at or before it.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import pytest

from deskops_desktop.models.enums import Level, Module, Role
from deskops_desktop.models.errors import PermissionDenied
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.dashboard import (
    AttentionKind,
    AttentionTarget,
    DashboardService,
    percent_change,
    share,
    target_on,
)
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from tests.helpers import default_site

# Hand-computed examples written for 2026-11-27 (see the ``example_day`` fixture).
pytestmark = pytest.mark.usefixtures("example_day")

D = Decimal


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def dashboard(store: Store) -> DashboardService:
    return DashboardService(store)


@pytest.fixture
def site(services: Services) -> SiteInfo:
    return default_site(services)


def day(text: str) -> date:
    return date.fromisoformat(text)


def put(services: Services, site: SiteInfo, module: Module, *rows: dict[str, Any]) -> None:
    services.records.create_many(SYSTEM, module, site.id, list(rows))


def prod(when: str, material: str, qty: str, shift: str = "MORNING") -> dict[str, Any]:
    return {
        "date": when,
        "shift": shift,
        "operation": "CRU-PRO",
        "material": material,
        "quantity": qty,
    }


def move(when: str, material: str, qty: str) -> dict[str, Any]:
    return {"date": when, "material": material, "quantity": qty}


def equip(
    when: str, code: str, hours: str, count: int, shift: str = "MORNING", status: str = ""
) -> dict[str, Any]:
    return {
        "date": when,
        "shift": shift,
        "equipment": code,
        "hours": hours,
        "count": count,
        "status": status,
    }


# ----------------------------------------------------------------------------- pure maths
def test_percent_change_rules() -> None:
    assert percent_change(D(150), D(100)) == D("50.0")
    assert percent_change(D(40), D(80)) == D("-50.0")
    assert percent_change(D(5), D(0)) is None
    assert percent_change(D(0), D(0)) is None
    assert percent_change(D(0), D(7)) == D("-100.0")
    # Direction is current - previous even when the previous figure was negative.
    assert percent_change(D(-5), D(-10)) == D("50.0")
    assert percent_change(D(1), D(3)) == D("-66.7")
    assert percent_change(D(4), D(3)) == D("33.3")
    assert share(24, 26) == D("92.3")


def test_target_valid_on_a_day_is_latest_from_date() -> None:
    targets = [(day("2026-11-20"), D(100)), (day("2026-11-24"), D(120))]
    assert target_on(targets, day("2026-11-19")) is None
    assert target_on(targets, day("2026-11-20")) == D(100)
    assert target_on(targets, day("2026-11-23")) == D(100)
    assert target_on(targets, day("2026-11-24")) == D(120)
    assert target_on(targets, day("2027-01-01")) == D(120)
    assert target_on([], day("2026-11-24")) is None


# ------------------------------------------------------------------------------------- KPIs
def test_kpis_per_unit_with_previous_period(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-10-01", "AGG-3/4", "10"),  # old history: still in current inventory
        prod("2026-11-15", "AGG-G1", "100"),
        prod("2026-11-22", "AGG-G1", "60"),
        prod("2026-11-25", "AGG-G1", "90", shift="NIGHT"),
    )
    put(
        services,
        site,
        Module.RECEIVED,
        move("2026-11-16", "RAW-CONCRETE", "16"),
        move("2026-11-23", "RAW-CONCRETE", "12"),
        move("2026-11-24", "FINE-NATURAL", "30"),
    )
    put(
        services,
        site,
        Module.DISPATCH,
        move("2026-11-18", "AGG-G1", "80"),
        move("2026-11-27", "AGG-G1", "40"),
    )

    kpis = dashboard.snapshot(SYSTEM, site.id, day("2026-11-21"), day("2026-11-27")).kpis

    assert (kpis.previous_from, kpis.previous_to) == (day("2026-11-14"), day("2026-11-20"))
    production = kpis.production.figure("TON")
    assert production is not None
    assert (production.current, production.previous, production.change_pct) == (
        D("150.000"),
        D("100.000"),
        D("50.0"),
    )
    assert production.sparkline == tuple(D(x) for x in ("0", "60", "0", "0", "90", "0", "0"))
    assert kpis.production.figure("LOAD") is None  # no loads produced: no LOAD figure

    # Received is in tons: loads without a factor are never added (nor counted as 0 t), and
    # the card says so.
    received = kpis.received.figure("TON")
    assert received is not None
    assert [f.uom for f in kpis.received.figures] == ["TON"]
    assert (received.current, received.previous, received.change_pct) == (D(30), D(0), None)
    assert kpis.received.note == "incl. 0.00 t deemed · 12 loads without a factor"

    sold = kpis.sold.figure("TON")
    assert sold is not None
    assert (sold.current, sold.change_pct) == (D(40), D("-50.0"))
    assert kpis.sold.note == "disposal 0.00 t, not included"

    # Current inventory: latest TON closings as of the 27th: G1 130 + 3/4 10 + natural sand 30.
    inventory = kpis.inventory.figure("TON")
    assert inventory is not None
    assert inventory.current == D("170.000")
    assert inventory.previous == D("30.000")  # closing on the 20th: G1 20 + 3/4 10
    assert inventory.change_pct == D("466.7")
    assert inventory.sparkline == tuple(
        D(x) for x in ("30", "90", "90", "120", "210", "210", "170")
    )
    loads = kpis.inventory.figure("LOAD")
    assert loads is not None
    assert loads.current == D(28)
    assert [k.key for k in kpis.cards] == ["production", "received", "sold", "inventory"]
    assert [k.key for k in kpis.plant] == ["yield", "tons_per_crusher_hour", "tons_per_man_hour"]

    # With a factor the loads become deemed tons: 12 × 16.5 now, 16 × 16.5 before.
    services.factors.set_factor(SYSTEM, "RAW-CONCRETE", "16.5", "2026-01-01")
    kpis = dashboard.snapshot(SYSTEM, site.id, day("2026-11-21"), day("2026-11-27")).kpis
    received = kpis.received.figure("TON")
    assert received is not None
    assert (received.current, received.previous, received.change_pct) == (
        D(228),
        D(264),
        D("-13.6"),
    )
    assert kpis.received.note == "incl. 198.00 t deemed"
    assert received.sparkline == tuple(D(x) for x in ("0", "0", "198", "30", "0", "0", "0"))

    # A one-day period: the previous period is the day before; the sparkline still has 7 days.
    one = dashboard.snapshot(SYSTEM, site.id, day("2026-11-25"), day("2026-11-25")).kpis
    assert (one.previous_from, one.previous_to) == (day("2026-11-24"), day("2026-11-24"))
    assert one.sparkline_days[0] == day("2026-11-19")
    production = one.production.figure("TON")
    assert production is not None
    assert (production.current, production.previous, production.change_pct) == (D(90), D(0), None)
    inventory = one.inventory.figure("TON")
    assert inventory is not None
    assert (inventory.current, inventory.previous, inventory.change_pct) == (
        D(210),
        D(120),
        D("75.0"),
    )


def test_kpis_on_an_empty_site(dashboard: DashboardService, site: SiteInfo) -> None:
    kpis = dashboard.snapshot(SYSTEM, site.id, day("2026-11-01"), day("2026-11-27")).kpis
    for card in kpis.cards:
        assert [f.uom for f in card.figures] == ["TON"]
        assert card.figures[0].current == 0
        assert card.figures[0].change_pct is None
        assert len(card.figures[0].sparkline) == 7
    for ratio in kpis.plant:  # nothing fed, no hours: no ratio, never a division by zero
        assert ratio.figures == ()
        assert ratio.note == "nothing to divide by in this period"


def test_plant_ratios_are_the_mass_balances_against_the_previous_period(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    services.factors.set_factor(SYSTEM, "RAW-CONCRETE", "16", "2026-01-01")
    feed = [
        {"date": d, "material": "RAW-CONCRETE", "quantity": q}
        for d, q in (("2026-11-16", "10"), ("2026-11-24", "10"))
    ]
    put(services, site, Module.FEED, *feed)  # 160 t fed in each week
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-16", "AGG-G1", "144"),
        prod("2026-11-24", "AGG-G1", "152"),
    )
    hours = [
        {"date": d, "equipment": "CRUSHER-01", "hours": h, "count": "1", "shift": "MORNING"}
        for d, h in (("2026-11-16", "8"), ("2026-11-24", "7.5"))
    ]
    put(services, site, Module.EQUIPMENT, *hours)
    crew = {"role": "LABORER", "headcount": "10", "hours": "8", "shift": "MORNING"}
    put(services, site, Module.MANPOWER, {"date": "2026-11-24", **crew})
    kpis = dashboard.snapshot(SYSTEM, site.id, day("2026-11-21"), day("2026-11-27")).kpis
    ratios = {k.key: k.figures[0] for k in kpis.plant if k.figures}
    assert (ratios["yield"].current, ratios["yield"].previous) == (D("0.950"), D("0.900"))
    assert ratios["yield"].change_pct == D("5.6")
    assert ratios["yield"].uom == "t/t"
    assert ratios["yield"].sparkline[3] == D("0.950")  # the 24th
    per_hour = ratios["tons_per_crusher_hour"]
    assert (per_hour.current, per_hour.previous, per_hour.change_pct) == (
        D("20.27"),  # 152 / 7.5
        D("18.00"),  # 144 / 8
        D("12.6"),
    )
    per_man = ratios["tons_per_man_hour"]
    assert (per_man.current, per_man.change_pct) == (D("1.90"), None)  # 152 / 80; none before


# ------------------------------------------------------------------------------- the charts
def test_received_vs_dispatched_has_net_per_unit(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.RECEIVED,
        move("2026-11-24", "FINE-NATURAL", "30.5"),
        move("2026-11-25", "RAW-MIXED", "4"),
    )
    put(
        services,
        site,
        Module.DISPATCH,
        move("2026-11-25", "FINE-NATURAL", "10"),
        move("2026-11-26", "FINE-NATURAL", "5.25"),
    )
    chart = dashboard.snapshot(
        SYSTEM, site.id, day("2026-11-24"), day("2026-11-26")
    ).received_dispatched
    assert chart.days == (day("2026-11-24"), day("2026-11-25"), day("2026-11-26"))
    tons, loads = chart.unit("TON"), chart.unit("LOAD")
    assert tons is not None
    assert loads is not None
    assert tons.received == (D("30.5"), D(0), D(0))
    assert tons.dispatched == (D(0), D(10), D("5.25"))
    assert tons.net == (D("30.5"), D(-10), D("-5.25"))
    assert loads.received == (D(0), D(4), D(0))
    assert loads.net == (D(0), D(4), D(0))


def test_production_vs_target(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    services.master.set_target(SYSTEM, site.id, "100", "2026-11-20")
    services.master.set_target(SYSTEM, site.id, "120", "2026-11-24")
    services.master.set_target(SYSTEM, site.id, "40", "2026-11-23", material_code="AGG-G1")
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-19", "AGG-G1", "10"),
        prod("2026-11-24", "AGG-G1", "35"),
        prod("2026-11-24", "AGG-G1", "15", shift="NIGHT"),
        prod("2026-11-24", "BASE-CRUSHED", "70.125"),
        prod("2026-11-24", "RAW-MIXED", "5"),
    )  # loads: never part of the TON total
    chart = dashboard.snapshot(SYSTEM, site.id, day("2026-11-19"), day("2026-11-25")).production
    # Days 19th..25th: none before the first target, 100 from the 20th, 120 from the 24th.
    assert chart.target == (None, D(100), D(100), D(100), D(100), D(120), D(120))
    assert chart.produced == (D(10), D(0), D(0), D(0), D(0), D("120.125"), D(0))
    assert [m.code for m in chart.by_material] == ["AGG-G1"]
    g1 = chart.by_material[0]
    assert g1.target == (None, None, None, None, D(40), D(40), D(40))
    assert g1.produced == (D(10), D(0), D(0), D(0), D(0), D(50), D(0))


def test_inventory_over_time_matches_the_ledger(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-01", "AGG-G1", "120"),
        prod("2026-11-21", "AGG-G1", "7.5"),
        prod("2026-11-22", "SPEC-BEDDING", "600"),
    )
    put(services, site, Module.DISPATCH, move("2026-11-23", "AGG-G1", "27.5"))
    first, last = day("2026-11-20"), day("2026-11-24")
    chart = dashboard.snapshot(SYSTEM, site.id, first, last).inventory
    assert [m.code for m in chart.materials] == ["AGG-G1", "SPEC-BEDDING"]
    g1 = chart.materials[0]
    assert g1.closing == (D(120), D("127.5"), D("127.5"), D(100), D(100))
    assert (g1.low, g1.high, g1.uom) == (D(100), D(500), "TON")
    ledger = services.ledger.ledger(SYSTEM, site.id, first, last)
    for series in chart.materials:
        expected = tuple(r.closing for r in ledger.rows if r.material.code == series.code)
        assert series.closing == expected


def test_top_levels_sorted_with_per_material_thresholds(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    refs = services.master.reference()
    g1 = next(m for m in refs.materials if m.code == "AGG-G1")
    services.master.update_material(SYSTEM, g1.id, low_threshold="50")
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-20", "AGG-G1", "60"),  # WARNING by its own threshold of 50
        prod("2026-11-20", "AGG-3/4", "99.999"),  # LOW
        prod("2026-11-20", "AGG-3/8", "100"),  # WARNING
        prod("2026-11-20", "AGG-S1", "500"),  # WARNING
        prod("2026-11-20", "AGG-APBC", "500.001"),  # HEALTHY
        prod("2026-11-20", "RAW-MIXED", "900"),
    )  # loads: not on the TON chart
    levels = dashboard.top_levels(SYSTEM, site.id, day("2026-11-27"))
    assert [(lv.code, lv.closing, lv.level) for lv in levels] == [
        ("AGG-APBC", D("500.001"), Level.HEALTHY),
        ("AGG-S1", D(500), Level.WARNING),
        ("AGG-3/8", D(100), Level.WARNING),
        ("AGG-3/4", D("99.999"), Level.LOW),
        ("AGG-G1", D(60), Level.WARNING),
    ]
    top2 = dashboard.top_levels(SYSTEM, site.id, day("2026-11-27"), n=2)
    assert [lv.code for lv in top2] == ["AGG-APBC", "AGG-S1"]
    every_unit = dashboard.top_levels(SYSTEM, site.id, day("2026-11-27"), n=1, uom=None)
    assert [(lv.code, lv.uom, lv.level) for lv in every_unit] == [
        ("RAW-MIXED", "LOAD", Level.HEALTHY)
    ]
    assert dashboard.top_levels(SYSTEM, site.id, day("2026-11-19")) == ()


def test_equipment_utilisation_operating_vs_idle(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.EQUIPMENT,
        equip("2026-11-25", "CRUSHER-01", "6", 1),
        equip("2026-11-25", "CRUSHER-01", "8", 1, shift="AFTERNOON"),
        equip("2026-11-26", "CRUSHER-01", "10", 1),  # overtime: 10 h available, not 8
        equip("2026-11-25", "DUMPTRUCK-01", "5", 3),  # hours per unit: 15 of 24 h
        equip("2026-11-25", "GENERATOR-01", "0", 0, status="IDLE"),
        equip("2026-11-10", "LOADER-01", "8", 1),
    )  # outside the range
    rows = dashboard.utilisation(SYSTEM, site.id, day("2026-11-20"), day("2026-11-27"))
    by_code = {u.code: u for u in rows}
    assert list(by_code) == ["CRUSHER-01", "DUMPTRUCK-01", "GENERATOR-01"]
    crusher = by_code["CRUSHER-01"]
    assert (crusher.operating_hours, crusher.available_hours, crusher.idle_hours) == (
        D(24),
        D(26),
        D(2),
    )
    assert (crusher.operating_share, crusher.idle_share, crusher.logs) == (D("92.3"), D("7.7"), 3)
    truck = by_code["DUMPTRUCK-01"]
    assert (truck.operating_hours, truck.available_hours, truck.idle_hours) == (D(15), D(24), D(9))
    assert (truck.operating_share, truck.idle_share) == (D("62.5"), D("37.5"))
    generator = by_code["GENERATOR-01"]
    assert generator.available_hours == 0
    assert (generator.operating_share, generator.idle_share) == (None, None)


def test_manpower_by_role_and_shift(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    def log(when: str, role: str, heads: int, hours: str, shift: str) -> dict[str, Any]:
        return {"date": when, "role": role, "headcount": heads, "hours": hours, "shift": shift}

    put(
        services,
        site,
        Module.MANPOWER,
        log("2026-11-25", "LABORER", 10, "8", "MORNING"),
        log("2026-11-26", "LABORER", 12, "8", "MORNING"),
        log("2026-11-25", "LABORER", 4, "8", "NIGHT"),
        log("2026-11-26", "SECURITY", 2, "12", ""),
    )
    chart = dashboard.manpower(SYSTEM, site.id, day("2026-11-20"), day("2026-11-27"))
    assert chart.roles == ("LABORER", "SECURITY")
    assert chart.days_logged == 2
    assert [(s.shift, s.label) for s in chart.shifts] == [
        ("MORNING", "Morning"),
        ("NIGHT", "Night"),
        ("", "No shift"),
    ]
    morning, night, none = chart.shifts
    assert (morning.headcount, morning.average, morning.man_hours) == (
        (22, 0),
        (D("11.0"), D("0.0")),
        (D(176), D(0)),
    )
    assert (night.headcount, night.average) == ((4, 0), (D("2.0"), D("0.0")))
    assert (none.headcount, none.average, none.man_hours) == (
        (0, 2),
        (D("0.0"), D("1.0")),
        (D(0), D(24)),
    )


# ---------------------------------------------------------------------------- attention
def test_needs_attention_items(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-20", "AGG-G1", "50"),  # LOW
        prod("2026-11-20", "AGG-3/4", "600"),  # HEALTHY: nothing to say
        prod("2026-11-20", "AGG-3/8", "200"),
        prod("2026-11-24", "AGG-S1", "300"),
    )  # entered after its dispatch
    put(
        services,
        site,
        Module.DISPATCH,
        move("2026-11-26", "AGG-3/8", "250"),  # now negative
        move("2026-11-21", "AGG-S1", "30"),
    )  # negative 21st-23rd, fine now
    put(
        services,
        site,
        Module.EQUIPMENT,
        equip("2026-11-24", "CRUSHER-01", "8", 1, status="OPERATIONAL"),
        equip("2026-11-25", "CRUSHER-01", "0", 1, status="BREAKDOWN"),
        equip("2026-11-26", "CRUSHER-01", "0", 1, status="BREAKDOWN"),
        equip("2026-11-25", "CRUSHER-02", "0", 1, status="BREAKDOWN"),
        equip("2026-11-25", "CRUSHER-02", "7", 1, shift="NIGHT", status="OPERATIONAL"),
        equip("2026-11-26", "SCREEN-01", "0", 1, status="BREAKDOWN"),
        equip("2026-11-26", "SCREEN-01", "3", 1, shift="AFTERNOON"),
    )  # no status given

    items = dashboard.snapshot(SYSTEM, site.id, day("2026-11-20"), day("2026-11-30")).attention

    assert [(i.kind, i.target) for i in items] == [
        (
            AttentionKind.NEGATIVE_STOCK,
            AttentionTarget(Module.INVENTORY, material_code="AGG-3/8", day=day("2026-11-30")),
        ),
        (
            AttentionKind.NEGATIVE_STOCK,
            AttentionTarget(Module.INVENTORY, material_code="AGG-S1", day=day("2026-11-21")),
        ),
        (
            AttentionKind.LOW_STOCK,
            AttentionTarget(Module.INVENTORY, material_code="AGG-G1", day=day("2026-11-30")),
        ),
        (
            AttentionKind.BREAKDOWN,
            AttentionTarget(Module.EQUIPMENT, equipment_code="CRUSHER-01", day=day("2026-11-26")),
        ),
        (
            AttentionKind.BREAKDOWN,
            AttentionTarget(Module.EQUIPMENT, equipment_code="SCREEN-01", day=day("2026-11-26")),
        ),
        # Missing days stop at today (27th) although the range runs to the 30th.
        (AttentionKind.MISSING_ENTRIES, AttentionTarget(Module.PRODUCTION, day=day("2026-11-27"))),
        (AttentionKind.MISSING_ENTRIES, AttentionTarget(Module.PRODUCTION, day=day("2026-11-22"))),
    ]
    messages = [i.message for i in items]
    assert messages[0] == (
        "AGG-3/8 3/8: stock is negative (-50.00 t on 2026-11-30) — an entry is missing or was late"
    )
    assert messages[1] == "AGG-S1 S1: stock was negative on 2026-11-21 (-30.00 t)"
    assert messages[2] == "AGG-G1 G1 is LOW: 50.00 t (below 100.00 t)"
    assert messages[3] == "CRUSHER-01 Jaw Crusher #1 is in BREAKDOWN (since 2026-11-25)"
    assert messages[5:] == [
        "No entries for 2026-11-27",
        "No entries from 2026-11-22 to 2026-11-23 (2 days)",
    ]


def test_attention_on_an_empty_site_lists_every_day(
    dashboard: DashboardService, site: SiteInfo
) -> None:
    items = dashboard.snapshot(SYSTEM, site.id, day("2026-11-25"), day("2026-11-27")).attention
    assert [i.message for i in items] == ["No entries from 2026-11-25 to 2026-11-27 (3 days)"]
    # A range wholly in the future has no missing days yet.
    assert dashboard.snapshot(SYSTEM, site.id, day("2026-12-01"), day("2026-12-05")).attention == ()


# ------------------------------------------------------------------------ the whole page
def test_snapshot_agrees_with_the_chart_calls(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    put(
        services,
        site,
        Module.PRODUCTION,
        prod("2026-11-10", "AGG-G1", "300"),
        prod("2026-11-25", "BASE-RECYCLED", "80"),
    )
    put(services, site, Module.DISPATCH, move("2026-11-26", "AGG-G1", "45.5"))
    put(services, site, Module.RECEIVED, move("2026-11-20", "RAW-ASPHALT", "3"))
    put(services, site, Module.EQUIPMENT, equip("2026-11-26", "LOADER-01", "4", 1))
    put(
        services,
        site,
        Module.MANPOWER,
        {"date": "2026-11-26", "role": "LABORER", "headcount": 8, "hours": "8"},
    )
    services.master.set_target(SYSTEM, site.id, "90", "2026-11-01")
    a, b = day("2026-11-15"), day("2026-11-27")
    snap = dashboard.snapshot(SYSTEM, site.id, a, b)
    assert (snap.site.code, snap.today) == ("ALASLA-29", day("2026-11-27"))
    assert snap.top_levels == dashboard.top_levels(SYSTEM, site.id, b)
    assert snap.utilisation == dashboard.utilisation(SYSTEM, site.id, a, b)
    assert snap.manpower == dashboard.manpower(SYSTEM, site.id, a, b)
    assert [(lv.code, lv.closing) for lv in snap.top_levels] == [
        ("AGG-G1", D("254.5")),
        ("BASE-RECYCLED", D(80)),
    ]
    inventory = snap.kpis.inventory.figure("TON")
    assert inventory is not None
    assert inventory.current == D("334.5")
    assert len(snap.inventory.materials[0].closing) == (b - a).days + 1


def test_dashboard_refuses_a_site_the_user_is_not_assigned_to(
    services: Services, dashboard: DashboardService, site: SiteInfo
) -> None:
    other = services.master.add_site(SYSTEM, "DEMO-DXB-03", "Dubai", timezone="Asia/Dubai").value
    clerk = Actor("u-1", "clerk", Role.OPERATOR, frozenset({other.id}))
    today = day("2026-11-27")
    with pytest.raises(PermissionDenied):
        dashboard.snapshot(clerk, site.id, today - timedelta(days=6), today)
    with pytest.raises(PermissionDenied):
        dashboard.top_levels(clerk, site.id, today)
    assert dashboard.snapshot(clerk, other.id, today, today).site.code == "DEMO-DXB-03"
