"""The ledger follows every insert, edit and delete, including back-dated ones, on both backends."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from deskops_desktop.models.enums import Granularity, Level, Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.store import Store
from tests.helpers import add, default_site, production


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


def closing(services: Services, day: date, code: str = "AGG-G1") -> Decimal:
    site = default_site(services)
    ledger = services.ledger.ledger(SYSTEM, site.id, day, day)
    return next(r.closing for r in ledger.rows if r.material.code == code)


def test_closing_equals_opening_plus_flows(services: Services) -> None:
    site = default_site(services)
    add(services, Module.PRODUCTION, site, production("2026-11-20", quantity="120.5"))
    add(
        services,
        Module.RECEIVED,
        site,
        {"date": "2026-11-21", "material": "AGG-G1", "quantity": "0.25"},
    )
    add(
        services,
        Module.DISPATCH,
        site,
        {"date": "2026-11-22", "material": "AGG-G1", "quantity": "20.125"},
    )
    add(
        services,
        Module.ADJUSTMENTS,
        site,
        {"date": "2026-11-23", "material": "AGG-G1", "quantity": "-0.625", "reason": "LOSS"},
    )
    ledger = services.ledger.ledger(SYSTEM, site.id, date(2026, 11, 19), date(2026, 11, 24))
    g1 = [r for r in ledger.rows if r.material.code == "AGG-G1"]
    assert [r.closing for r in g1] == [
        Decimal("0.000"),
        Decimal("120.500"),
        Decimal("120.750"),
        Decimal("100.625"),
        Decimal("100.000"),
        Decimal("100.000"),
    ]
    for row in g1:
        assert (
            row.closing
            == row.opening + row.produced + row.received - row.dispatched + row.adjustment
        )
    assert [r.level for r in g1] == [Level.LOW] + [Level.WARNING] * 5
    assert len(ledger.rows) == 6 * 17


def test_back_dated_edit_and_delete_roll_forward(services: Services) -> None:
    site = default_site(services)
    add(services, Module.PRODUCTION, site, production("2026-11-25", quantity="50"))
    first = services.records.create(
        SYSTEM, Module.PRODUCTION, site.id, production("2026-11-01", quantity="7")
    )
    assert closing(services, date(2026, 11, 26)) == Decimal("57.000")
    edited = services.records.update(
        SYSTEM, Module.PRODUCTION, first.value.id, {**first.value.values, "quantity": "9.5"}
    )
    assert closing(services, date(2026, 11, 26)) == Decimal("59.500")
    services.records.delete(SYSTEM, Module.PRODUCTION, edited.value.id)
    assert closing(services, date(2026, 11, 26)) == Decimal("50.000")
    assert services.ledger.verify(SYSTEM, site.id) == []


def test_weekly_and_monthly_roll_up(services: Services) -> None:
    site = default_site(services)
    for day, qty in (
        ("2026-10-30", "1"),
        ("2026-11-02", "2"),
        ("2026-11-08", "4"),
        ("2026-11-09", "8"),
    ):
        add(services, Module.PRODUCTION, site, production(day, quantity=qty))
    weekly = services.ledger.ledger(
        SYSTEM,
        site.id,
        date(2026, 10, 29),
        date(2026, 11, 10),
        Granularity.WEEKLY,
        category="AGGREGATES",
    )
    g1 = [
        (r.day, r.opening, r.produced, r.closing)
        for r in weekly.rows
        if r.material.code == "AGG-G1"
    ]
    assert g1 == [
        (date(2026, 10, 29), Decimal("0.000"), Decimal("1.000"), Decimal("1.000")),  # clipped start
        (date(2026, 11, 2), Decimal("1.000"), Decimal("6.000"), Decimal("7.000")),
        (date(2026, 11, 9), Decimal("7.000"), Decimal("8.000"), Decimal("15.000")),
    ]
    monthly = services.ledger.ledger(
        SYSTEM,
        site.id,
        date(2026, 10, 29),
        date(2026, 11, 10),
        Granularity.MONTHLY,
        category="AGGREGATES",
    )
    assert [(r.day, r.closing) for r in monthly.rows if r.material.code == "AGG-G1"] == [
        (date(2026, 10, 29), Decimal("1.000")),
        (date(2026, 11, 1), Decimal("15.000")),
    ]
    assert all(r.material.category == "AGGREGATES" for r in monthly.rows)
