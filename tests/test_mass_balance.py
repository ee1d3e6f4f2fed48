"""The plant's mass balance: conversion factors, deemed tons, the Feed flow, fates and the
statement, on both backends.

One October at ALASLA-29 is entered as a clerk would (loads received, feed, production, sales,
disposal, equipment and manpower hours), with the concrete factor changing mid-month. Every
figure below is worked out by hand in the comments; the balance closes to 0.000 t.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from deskops_desktop.models.conversion import Factor, FactorTable, deemed_milli
from deskops_desktop.models.enums import Fate, MassDetermination, Module, Role
from deskops_desktop.models.errors import PermissionDenied, ValidationError
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.mass_balance import MassBalance, statement
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from tests.helpers import default_site
from tests.plant_month import OCT_1, OCT_31, add, enter_october, t

pytestmark = pytest.mark.usefixtures("example_day")


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def site(services: Services) -> SiteInfo:
    return default_site(services)


def october(services: Services, site: SiteInfo) -> MassBalance:
    return services.mass_balance.mass_balance(SYSTEM, site.id, OCT_1, OCT_31)


# ---------------------------------------------------------------- the month closes
def test_a_plants_month_closes_to_zero(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    mb = october(services, site)
    assert (mb.received.tons_m, mb.received.deemed_m) == (t("413.5"), t("373"))
    assert mb.fed.tons_m == t("324") == mb.fed.deemed_m
    assert (mb.produced.tons_m, mb.produced.deemed_m) == (t("300.25"), 0)
    assert (mb.out.tons_m, mb.out.deemed_m) == (t("182.5"), t("12"))
    assert (mb.sold_m, mb.disposal_m, mb.fate_tons(Fate.USED_ON_SITE)) == (
        t("140.5"),
        t("12"),
        t("30"),
    )
    # Δstock: TON materials +30 +80.25 +40 +20 (ledger); loads: concrete 301 − 276, mixed
    # 72 − 48 − 12 (deemed).
    assert mb.stock_change_m == t("170.25") + t("25") + t("12")
    assert mb.process_loss_m == t("23.75")
    assert mb.unexplained_m == 0 == mb.adjustments.tons_m
    assert mb.yield_ratio == Decimal("0.927")  # 300.25 / 324 = 0.92670
    assert mb.diversion_percent == Decimal("97.10")  # 401.5 / 413.5 = 97.0979 %
    assert mb.crusher_hours_c == 1350
    assert mb.tons_per_crusher_hour == Decimal("22.24")  # 300.25 / 13.5
    assert mb.tons_per_man_hour == Decimal("3.75")  # 300.25 / 80
    assert mb.complete
    by_material = {line.key: line for line in mb.received_by_material}
    assert by_material["RAW-CONCRETE"].quantity_m == t("18")  # loads stay loads
    assert by_material["RAW-CONCRETE"].tons.tons_m == t("301")
    sources = {line.key: line.tons.tons_m for line in mb.received_by_source}
    assert sources == {"Tower B": t("301"), "Villa": t("72"), "(no source given)": t("40.5")}
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_net_adjustments_are_the_unexplained_difference(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    add(
        services,
        Module.ADJUSTMENTS,
        site,
        date="2026-10-25",
        material="AGG-G1",
        quantity="-2.5",
        reason="STOCK_COUNT",
    )
    add(
        services,
        Module.ADJUSTMENTS,
        site,
        date="2026-10-26",
        material="RAW-MIXED",
        quantity="1",
        reason="STOCK_COUNT",
    )
    mb = october(services, site)
    assert mb.adjustments.tons_m == t("9.5")
    assert mb.unexplained_m == -t("9.5")
    assert mb.stock_change_m == t("207.25") + t("9.5")


# ---------------------------------------------------------------- factors
def test_each_record_uses_the_factor_of_its_own_date(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    rows = services.records.list(
        SYSTEM, Module.RECEIVED, site.id, OCT_1, OCT_31, sort="date", descending=False
    )
    tons = [(r.date.day, r.ref_code, r.tons, r.mass) for r in rows]
    assert tons == [
        (5, "RAW-CONCRETE", Decimal("165.000"), MassDetermination.DEEMED),
        (6, "RAW-MIXED", Decimal("72.000"), MassDetermination.DEEMED),
        (7, "FINE-NATURAL", Decimal("40.500"), MassDetermination.WEIGHED),
        (20, "RAW-CONCRETE", Decimal("136.000"), MassDetermination.DEEMED),
    ]
    assert rows[0].values["quantity"] == Decimal("10.000")  # the record still says 10 loads


def test_correcting_a_factor_re_derives_what_it_covers(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    before = october(services, site)
    services.factors.set_factor(SYSTEM, "RAW-CONCRETE", "17.2", "2026-10-16")  # same day: a fix
    after = october(services, site)
    # 8 received and 7.5 fed loads after the 16th: +1.6 and +1.5 t; nothing before it moves.
    assert after.received.tons_m - before.received.tons_m == t("1.6")
    assert after.fed.tons_m - before.fed.tons_m == t("1.5")
    assert after.unexplained_m == 0
    history = [
        (r.material_code, r.tons_per_load, r.valid_from, r.valid_to)
        for r in services.factors.factors(SYSTEM)
    ]
    assert history == [
        ("RAW-CONCRETE", Decimal("16.500"), date(2026, 1, 1), date(2026, 10, 15)),
        ("RAW-CONCRETE", Decimal("17.200"), date(2026, 10, 16), None),
        ("RAW-MIXED", Decimal("12.000"), date(2026, 10, 1), None),
    ]


def test_a_record_without_a_factor_is_no_factor_never_zero(
    services: Services, site: SiteInfo
) -> None:
    enter_october(services, site)
    row = add(
        services, Module.RECEIVED, site, date="2026-10-14", material="RAW-ASPHALT", quantity="3"
    )
    assert (row.tons, row.mass) == (None, MassDetermination.NO_FACTOR)
    mb = october(services, site)
    assert mb.received.tons_m == t("413.5")  # the 3 loads are not tons …
    assert (mb.received.no_factor_m, mb.received.no_factor_records) == (t("3"), 1)  # … but here
    assert not mb.complete
    [gap] = mb.no_factor
    assert (gap.module, gap.material_code, gap.loads_m, gap.records) == (
        Module.RECEIVED,
        "RAW-ASPHALT",
        t("3"),
        1,
    )
    assert mb.unexplained_m == 0  # neither side counts what cannot be weighed
    lines = {line.key: line for line in statement(mb)}
    incomplete = lines["no_factor.received.RAW-ASPHALT"]
    assert (incomplete.quantity_m, incomplete.uom, incomplete.tons_m) == (t("3"), "LOAD", None)
    # A factor from before the record makes it deemed at once.
    services.factors.set_factor(SYSTEM, "RAW-ASPHALT", "14", "2026-10-01")
    again = services.records.get(SYSTEM, Module.RECEIVED, row.id)
    assert (again.tons, again.mass) == (Decimal("42.000"), MassDetermination.DEEMED)
    assert october(services, site).complete


def test_a_sites_own_factor_wins_over_the_companys(services: Services, site: SiteInfo) -> None:
    other = services.master.add_site(SYSTEM, "NORTH-01", "North Yard").value
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "12", "2026-01-01")
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "11.5", "2026-06-01", site_code="NORTH-01")
    here = add(
        services, Module.RECEIVED, site, date="2026-10-05", material="RAW-MIXED", quantity="2"
    )
    there = add(
        services, Module.RECEIVED, other, date="2026-10-05", material="RAW-MIXED", quantity="2"
    )
    early = add(
        services, Module.RECEIVED, other, date="2026-05-05", material="RAW-MIXED", quantity="2"
    )
    assert (here.tons, there.tons, early.tons) == (
        Decimal("24.000"),
        Decimal("23.000"),
        Decimal("24.000"),  # before the site's own factor: the company's
    )
    scoped = services.factors.factors(SYSTEM, other.id)
    assert [(r.scope, r.tons_per_load) for r in scoped] == [
        ("All sites", Decimal("12.000")),
        ("NORTH-01", Decimal("11.500")),
    ]


def test_deemed_tons_round_once_per_record_and_totals_add_them() -> None:
    table = FactorTable.of("s", [Factor("m", None, date(2026, 1, 1), t("16.125"))])
    one = table.tonnage("m", "LOAD", date(2026, 10, 1), t("2.5"))
    assert one.tons_m == t("40.313")  # 40.3125 rounds half up
    assert deemed_milli(-t("2.5"), t("16.125")) == -t("40.313")  # half away from zero
    assert table.tonnage("m", "LOAD", date(2025, 12, 31), t("1")).tons_m is None
    assert table.tonnage("m", "TON", date(2025, 12, 31), t("7")).mass is MassDetermination.WEIGHED


def test_two_half_loads_add_their_rounded_tons(services: Services, site: SiteInfo) -> None:
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "16.125", "2026-01-01")
    for day in ("2026-10-02", "2026-10-03"):
        add(services, Module.RECEIVED, site, date=day, material="RAW-MIXED", quantity="2.5")
    mb = october(services, site)
    assert mb.received.tons_m == 2 * t("40.313")  # 80.626, not round(5 × 16.125) = 80.625
    export_like = sum(
        r.tons_m or 0
        for r in services.records.list(SYSTEM, Module.RECEIVED, site.id, OCT_1, OCT_31)
    )
    assert export_like == mb.received.tons_m


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"material_code": "AGG-G1"}, "material", "AGG-G1 is counted in tons, not loads"),
        ({"material_code": "NOPE"}, "material", "unknown material code 'NOPE'"),
        ({"tons_per_load": "0"}, "tons_per_load", "must be greater than 0"),
        ({"tons_per_load": "100.5"}, "tons_per_load", "must be at most 100.000 t per load"),
        ({"valid_from": "2026-13-01"}, "valid_from", "not a date"),
        ({"site_code": "ATLANTIS"}, "site", "unknown site code 'ATLANTIS'"),
    ],
)
def test_bad_factors_are_refused_naming_the_field(
    services: Services, changes: dict[str, str], field: str, message: str
) -> None:
    args = {"material_code": "RAW-MIXED", "tons_per_load": "12", "valid_from": "2026-10-01"}
    args.update(changes)
    site_code = args.pop("site_code", None)
    with pytest.raises(ValidationError) as info:
        services.factors.set_factor(SYSTEM, **args, site_code=site_code)
    problems = {p.field: p.message for p in info.value.problems}
    assert field in problems
    assert message in problems[field]
    assert services.factors.factors(SYSTEM) == []


def test_only_administrators_set_factors(services: Services, site: SiteInfo) -> None:
    services.users.create(SYSTEM, "mod", "correct horse", Role.MODERATOR, [site.code])
    moderator = services.users.authenticate("mod", "correct horse")
    with pytest.raises(PermissionDenied):
        services.factors.set_factor(moderator, "RAW-MIXED", "12", "2026-10-01")
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "12", "2026-10-01")
    assert [r.tons_per_load for r in services.factors.factors(moderator, site.id)] == [
        Decimal("12.000")
    ]


# ---------------------------------------------------------------- feed and the ledger
def test_a_back_dated_feed_record_keeps_the_ledger_exact(
    services: Services, site: SiteInfo
) -> None:
    enter_october(services, site)
    add(services, Module.FEED, site, date="2026-10-02", material="RAW-CONCRETE", quantity="1")
    ledger = services.ledger.ledger(
        SYSTEM, site.id, date(2026, 10, 2), OCT_31, material_codes=["RAW-CONCRETE"]
    )
    first, last = ledger.rows[0], ledger.rows[-1]
    assert (first.fed, first.closing) == (Decimal("1.000"), Decimal("-1.000"))
    assert last.closing == Decimal("0.500")  # 18 − 16.5 − 1 loads
    assert services.ledger.verify(SYSTEM, site.id) == []
    mb = october(services, site)
    assert mb.fed.tons_m == t("340.5")  # + 16.5 t at the old factor
    assert mb.unexplained_m == 0


def test_loads_and_tons_are_never_added(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    ledger = services.ledger.ledger(SYSTEM, site.id, OCT_1, OCT_31)
    units = {total.uom: total for total in ledger.grand_totals}
    assert units["LOAD"].fed_m == t("20.5")  # loads, in the LOAD total only
    assert units["TON"].fed_m == 0
    assert units["TON"].received_m == t("40.5")  # the sand: the raw loads are not in it
    mb = october(services, site)
    fed = {line.key: line for line in mb.fed_by_material}
    assert (fed["RAW-CONCRETE"].quantity_m, fed["RAW-CONCRETE"].uom) == (t("16.5"), "LOAD")


def test_statement_lines_carry_the_figures(services: Services, site: SiteInfo) -> None:
    enter_october(services, site)
    lines = {line.key: line for line in statement(october(services, site))}
    assert lines["received.total"].tons_m == t("413.5")
    assert lines["out.fate.DISPOSAL"].label == "Disposal"
    assert lines["out.material.RAW-MIXED.DISPOSAL"].quantity_m == t("1")
    assert lines["balance.unexplained"].tons_m == 0
    assert (lines["kpi.yield"].figure, lines["kpi.yield"].figure_unit) == (Decimal("0.927"), "t/t")
    assert lines["kpi.diversion"].figure == Decimal("97.10")
    assert "no_factor" not in " ".join(lines)


def test_an_empty_period_has_no_ratios(services: Services, site: SiteInfo) -> None:
    mb = october(services, site)
    assert (mb.yield_ratio, mb.diversion_percent, mb.tons_per_crusher_hour) == (None, None, None)
    assert mb.unexplained_m == 0
    with pytest.raises(ValidationError):
        services.mass_balance.mass_balance(SYSTEM, site.id, OCT_31, OCT_1)
