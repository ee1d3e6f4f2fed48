"""The company overview on both backends: every site's line equals its mass balance, stock in
tons counts deemed loads, LOW and days not entered follow the dashboard's rules, an operator sees
only their site, and the export table comes out wide and long."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from deskops_desktop.export.overview_table import overview_table
from deskops_desktop.export.table import ColumnKind
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.conversion import deemed_milli
from deskops_desktop.models.enums import Module, Uom
from deskops_desktop.models.types import to_milli
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.demo import DEMO_PASSWORD, generate_demo
from deskops_desktop.services.store import Store


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


def test_every_site_line_is_its_mass_balance(services: Services, clock: FixedClock) -> None:
    generate_demo(services, sites=2, days=40, seed=11)
    today = clock.today("Asia/Riyadh")
    start, end = today - timedelta(days=13), today - timedelta(days=1)
    view = services.overview.overview(SYSTEM, start, end)
    assert [line.site.code for line in view.sites] == ["ALASLA-29", "DEMO-JED-02"]
    assert (view.previous_from, view.previous_to) == (
        start - timedelta(days=13),
        start - timedelta(days=1),
    )
    refs = services.master.reference()
    for line in view.sites:
        for figures in (line.current, line.previous):
            mb = services.mass_balance.mass_balance(
                SYSTEM, line.site.id, figures.date_from, figures.date_to
            )
            assert figures.produced_m == mb.produced.tons_m
            assert figures.sold_m == mb.sold_m
            assert figures.disposal_m == mb.disposal_m
            assert figures.received_m == mb.received.tons_m
            assert figures.fed_m == mb.fed.tons_m
            assert figures.crusher_hours_c == mb.crusher_hours_c
            assert figures.yield_ratio == mb.yield_ratio
            assert figures.diversion_percent == mb.diversion_percent
            assert figures.tons_per_crusher_hour == mb.tons_per_crusher_hour
            assert figures.no_factor_records == sum(g.records for g in mb.no_factor)
        # Stock in tons on the last day: TON closings plus LOAD closings x the factor that day.
        closings = services.ledger.latest_closings(SYSTEM, line.site.id, end)
        table = services.factors.site_factor_table(SYSTEM, line.site.id)
        tons = deemed = low = 0
        for m in refs.materials:
            closing = closings[m.id]
            if m.uom == Uom.TON:
                tons += closing
            else:
                factor = table.factor_m(m.id, end)
                assert factor is not None  # the demo sets factors from its first day
                deemed += deemed_milli(closing, factor)
        assert line.current.stock_tons_m == tons + deemed
        assert line.current.stock_deemed_m == deemed > 0
        # LOW: materials the site has moved (a history) whose closing is under their low mark.
        history = services.ledger.ledger(SYSTEM, line.site.id, today - timedelta(days=39), end)
        moved = {r.material.id for r in history.rows if any(r.milli_values()[1:6])}
        low = sum(
            1
            for m in refs.materials
            if m.id in moved and closings[m.id] < to_milli(m.low_threshold)
        )
        assert line.current.low_materials == low
    # The company's line adds the tons and computes the ratios from the sums.
    total = view.total
    assert total.produced_m == sum(line.current.produced_m for line in view.sites)
    assert total.yield_ratio == (
        (Decimal(total.produced_m) / Decimal(total.fed_m)).quantize(Decimal("0.001"))
    )


def test_days_not_entered_and_what_an_operator_sees(services: Services, clock: FixedClock) -> None:
    generate_demo(services, sites=2, days=10, seed=5)
    today = clock.today("Asia/Riyadh")
    # A period reaching back before the demo's first day and on to today: the demo's last
    # site has no entries on its last day (the dashboard's "needs attention" example).
    start = today - timedelta(days=14)
    view = services.overview.overview(SYSTEM, start, today)
    by_code = {line.site.code: line.current for line in view.sites}
    assert by_code["ALASLA-29"].days_not_entered == 5  # the 5 days before the demo began
    assert by_code["DEMO-JED-02"].days_not_entered == 6  # and its empty last day
    # Days after today are not "not entered yet" (they have not happened).
    future = services.overview.overview(
        SYSTEM, today - timedelta(days=2), today + timedelta(days=5)
    )
    assert future.sites[0].current.days_not_entered == 0
    # An operator's overview is their site alone (and on a secured server, the server agrees).
    clerk = services.users.authenticate("demo.operator", DEMO_PASSWORD)
    mine = services.overview.overview(clerk, start, today)
    assert [line.site.code for line in mine.sites] == ["ALASLA-29"]
    assert mine.sites[0].current == by_code["ALASLA-29"]
    # Asking for other sites by id does not widen the view.
    other = next(line.site.id for line in view.sites if line.site.code != "ALASLA-29")
    assert services.overview.overview(clerk, start, today, site_ids=[other]).sites == ()


def test_a_record_counted_in_loads_without_a_factor_is_not_tons(
    services: Services, clock: FixedClock
) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    when = clock.today("Asia/Riyadh") - timedelta(days=20)
    day = when.isoformat()
    services.records.create(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        {"date": day, "material": "RAW-ASPHALT", "quantity": "3", "source": "Road works"},
    )
    services.records.create(
        SYSTEM,
        Module.RECEIVED,
        site.id,
        {"date": day, "material": "FINE-NATURAL", "quantity": "40.5"},
    )
    view = services.overview.overview(SYSTEM, when - timedelta(days=4), when + timedelta(days=4))
    line = view.sites[0].current
    assert line.received_m == 40_500  # the three loads are not tons
    assert line.no_factor_records == 1
    assert line.stock_no_factor_loads_m == 3_000
    assert not line.complete


def test_the_overview_exports_wide_and_long(services: Services, clock: FixedClock) -> None:
    generate_demo(services, sites=2, days=20, seed=2)
    today = clock.today("Asia/Riyadh")
    view = services.overview.overview(SYSTEM, today - timedelta(days=6), today)
    wide = overview_table(view, clock.now(), "Head office")
    assert wide.meta.name == "Company overview"
    assert wide.meta.title == "Company overview"
    keys = [c.key for c in wide.columns]
    assert keys[:4] == ["site_code", "site_name", "stock_tons", "stock_tons_previous"]
    rows = list(wide.rows)
    assert [r[0] for r in rows] == ["ALASLA-29", "DEMO-JED-02"]
    production = keys.index("production_tons")
    assert rows[0][production] == Decimal(view.sites[0].current.produced_m).scaleb(-3)
    assert wide.totals().rows[3][0] == "Production t"
    long = overview_table(view, clock.now(), "Head office", long=True)
    assert [c.key for c in long.columns][-4:] == ["figure", "current", "previous", "change_percent"]
    assert long.columns[-1].kind is ColumnKind.DECIMAL
    lines = list(long.rows)
    assert len(lines) == long.row_count == 2 * 10
    sales = next(r for r in lines if r[0] == "ALASLA-29" and r[2] == "Sales t")
    current, previous = sales[3], sales[4]
    expected = (
        None
        if previous == 0
        else ((current - previous) * 100 / abs(previous)).quantize(Decimal("0.1"))
    )
    assert sales[5] == expected


def test_fractional_loads_round_per_record_as_the_mass_balance_does(
    services: Services, clock: FixedClock
) -> None:
    """Each LOAD record is converted with the factor of its date and rounded once (1.333 loads
    x 12.345 t = 16.455885 -> 16.456 t; 0.001 x 13.5 = 0.0135 -> 0.014 t), whether the
    overview groups the records or the mass balance reads them one by one."""
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    today = clock.today("Asia/Riyadh")
    start = today - timedelta(days=10)
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "12.345", str(start - timedelta(days=30)))
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "13.5", str(start + timedelta(days=3)))
    for offset, loads in ((1, "1.333"), (2, "1.333"), (4, "1.333"), (5, "0.001"), (6, "0.5")):
        services.records.create(
            SYSTEM,
            Module.RECEIVED,
            site.id,
            {
                "date": str(start + timedelta(days=offset)),
                "material": "RAW-MIXED",
                "quantity": loads,
            },
        )
    view = services.overview.overview(SYSTEM, start, today)
    balance = services.mass_balance.mass_balance(SYSTEM, site.id, start, today)
    # 16.456 + 16.456 (12.345) + 17.996 + 0.014 + 6.75 (13.5 from the third day on)
    assert balance.received.tons_m == 16_456 + 16_456 + 17_996 + 14 + 6_750
    assert view.sites[0].current.received_m == balance.received.tons_m
