"""The demo generator: deterministic, valid (it writes through create_many), ledger-consistent."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import RECORD_MODULES, Module, Role
from deskops_desktop.models.errors import ValidationError
from deskops_desktop.models.progress import RecordingProgress
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.dashboard import AttentionKind
from deskops_desktop.services.demo import (
    DEMO_PASSWORD,
    DemoSummary,
    demand_factor,
    demo_sites,
    generate_demo,
    ramadan_like,
)
from deskops_desktop.services.store import Store

END = date(2026, 11, 27)  # "today" of the clock fixture at every Gulf site


@pytest.fixture
def fresh_sqlite(
    _sqlite_template: Path, tmp_path: Path, clock: FixedClock
) -> Iterator[Callable[[], Store]]:
    """More empty, migrated SQLite stores (copies of the session template)."""
    stores: list[Store] = []

    def make() -> Store:
        path = tmp_path / f"extra-{len(stores)}.sqlite3"
        shutil.copyfile(_sqlite_template, path)
        stores.append(Store(f"sqlite:///{path}", clock=clock))
        return stores[-1]

    yield make
    for store in stores:
        store.dispose()


def demo(store: Store, **kwargs: Any) -> tuple[Services, DemoSummary]:
    services = build_services(store)
    options: dict[str, Any] = {"sites": 1, "days": 20, "seed": 7, "end": END}
    options.update(kwargs)
    return services, generate_demo(services, **options)


def fingerprint(services: Services) -> list[tuple[Any, ...]]:
    """Every record of every site without its id: what "the same demo" means."""
    rows: list[tuple[Any, ...]] = []
    for site in services.master.sites(SYSTEM):
        for module in RECORD_MODULES:
            for row in services.records.list(SYSTEM, module, site.id, date(2000, 1, 1), END):
                rows.append((site.code, module.value, row.date, *sorted(row.values.items())))
    return sorted(rows, key=repr)


def quantity_sums(services: Services) -> dict[tuple[str, str], Decimal]:
    sums: dict[tuple[str, str], Decimal] = {}
    for site in services.master.sites(SYSTEM):
        for module in (Module.PRODUCTION, Module.DISPATCH, Module.RECEIVED, Module.ADJUSTMENTS):
            for row in services.records.list(SYSTEM, module, site.id, date(2000, 1, 1), END):
                key = (module.value, row.uom)
                sums[key] = sums.get(key, Decimal(0)) + row.values["quantity"]
    return sums


# ---------------------------------------------------------------------------- pure parts
def test_calendar_shapes_demand() -> None:
    wednesday, friday = date(2026, 1, 7), date(2026, 1, 9)
    assert demand_factor(friday) < 0.2 * demand_factor(wednesday)
    assert demand_factor(date(2026, 7, 15)) < demand_factor(date(2026, 1, 14))  # summer dip
    assert ramadan_like(date(2026, 2, 25))
    assert not ramadan_like(date(2026, 4, 1))
    assert ramadan_like(date(2025, 3, 10))


def test_site_codes_and_zones() -> None:
    sites = demo_sites(4)
    assert [s.code for s in sites] == ["ALASLA-29", "DEMO-JED-02", "DEMO-DXB-03", "DEMO-DMM-04"]
    assert [s.timezone for s in sites] == [
        "Asia/Riyadh",
        "Asia/Riyadh",
        "Asia/Dubai",
        "Asia/Riyadh",
    ]
    assert len({s.code for s in demo_sites(20)}) == 20


# ----------------------------------------------------------------------------- the store
def test_same_seed_same_demo_other_seed_other_demo(
    sqlite_store: Store, fresh_sqlite: Callable[[], Store]
) -> None:
    services_a, summary_a = demo(sqlite_store)
    services_b, summary_b = demo(fresh_sqlite())
    assert summary_a == summary_b  # counts, sites, dates (elapsed time is not compared)
    assert quantity_sums(services_a) == quantity_sums(services_b)
    assert fingerprint(services_a) == fingerprint(services_b)  # every record but its id

    services_c, summary_c = demo(fresh_sqlite(), seed=8)
    assert summary_c.counts != summary_a.counts
    assert quantity_sums(services_c) != quantity_sums(services_a)
    assert fingerprint(services_c) != fingerprint(services_a)


def test_demo_is_valid_and_the_ledger_verifies(store: Store) -> None:
    progress = RecordingProgress()
    services, summary = demo(store, progress=progress)
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    first = END - timedelta(days=19)
    assert (summary.sites, summary.date_from, summary.date_to) == (("ALASLA-29",), first, END)

    for module in RECORD_MODULES:
        stored = services.records.count(SYSTEM, module, site.id, date(2000, 1, 1), END)
        assert stored == summary.counts[module] > 0, module
        assert services.records.count(SYSTEM, module, site.id, first, END) == stored
    assert services.ledger.verify(SYSTEM, site.id) == []
    ledger = services.ledger.ledger(SYSTEM, site.id, first, END)
    assert min(r.closing for r in ledger.rows) >= 0  # dispatches never exceed stock

    # Progress runs from 0 to 100 and never goes back.
    percents = progress.percents
    assert percents[0] == 0
    assert percents[-1] == 100
    assert percents == sorted(percents)

    # Targets and users once; a second run is refused before anything is written.
    assert summary.targets_added >= 1
    assert summary.users_added == ("demo.operator", "demo.moderator")
    operator = services.users.authenticate("demo.operator", DEMO_PASSWORD)
    assert operator.role is Role.OPERATOR
    assert operator.can_see_site(site.id)
    with pytest.raises(ValidationError, match="already has"):
        demo(store, sites=2)
    assert [s.code for s in services.master.sites(SYSTEM)] == ["ALASLA-29"]  # nothing created
    assert (
        services.records.count(SYSTEM, Module.PRODUCTION, site.id, first, END)
        == (summary.counts[Module.PRODUCTION])
    )
    text = str(summary)
    assert "production" in text
    assert f"{summary.total:,}" in text
    assert DEMO_PASSWORD in text


def test_several_sites_give_the_dashboard_something_to_say(sqlite_store: Store) -> None:
    services, summary = demo(sqlite_store, sites=3, days=6, seed=3)
    assert summary.sites == ("ALASLA-29", "DEMO-JED-02", "DEMO-DXB-03")
    dubai = services.master.site_by_code(SYSTEM, "DEMO-DXB-03")
    assert dubai.timezone == "Asia/Dubai"
    first = END - timedelta(days=5)
    alasla = services.master.site_by_code(SYSTEM, "ALASLA-29")
    kinds = {i.kind for i in services.dashboard.snapshot(SYSTEM, alasla.id, first, END).attention}
    assert AttentionKind.BREAKDOWN in kinds  # CRUSHER-02 is down at the end on the first site
    dubai_items = services.dashboard.snapshot(SYSTEM, dubai.id, first, END).attention
    assert [i.message for i in dubai_items if i.kind is AttentionKind.MISSING_ENTRIES] == [
        f"No entries for {END.isoformat()}"
    ]
    for code in summary.sites:
        site = services.master.site_by_code(SYSTEM, code)
        assert services.ledger.verify(SYSTEM, site.id) == []
        kpis = services.dashboard.snapshot(SYSTEM, site.id, first, END).kpis
        received = kpis.received.figure("TON")
        assert received is not None
        assert received.current > 0  # raw feed arrives in loads, counted as deemed tons
        assert kpis.received.note.startswith("incl. ")
        assert "without a factor" not in kpis.received.note  # the demo sets its factors
        yield_figure = kpis.plant[0].figures[0]
        assert Decimal("0.85") <= yield_figure.current <= Decimal("0.97")
