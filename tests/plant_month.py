"""One October of a plant, entered through the services as a clerk would (shared by the
mass-balance tests of the services and of the page). Every figure is worked out by hand in
``tests/test_mass_balance.py``; the balance closes to 0.000 t.

The dates are before ``tests.conftest.EXAMPLE_NOW`` (use the ``example_day`` fixture).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.reference import SiteInfo

OCT_1, OCT_31 = date(2026, 10, 1), date(2026, 10, 31)


def add(services: Services, module: Module, site: SiteInfo, **raw: Any) -> Any:
    return services.records.create(SYSTEM, module, site.id, raw).value


def t(text: str) -> int:
    """Tons (or loads) as integer thousandths."""
    return int(Decimal(text) * 1000)


def enter_october(services: Services, site: SiteInfo) -> None:
    f = services.factors
    f.set_factor(SYSTEM, "RAW-CONCRETE", "16.5", "2026-01-01", basis="weighbridge sample")
    f.set_factor(SYSTEM, "RAW-MIXED", "12", "2026-10-01")
    f.set_factor(SYSTEM, "RAW-CONCRETE", "17", "2026-10-16", basis="re-survey")
    R, F, P, D = Module.RECEIVED, Module.FEED, Module.PRODUCTION, Module.DISPATCH
    # Received: 10 × 16.5 = 165, 8 × 17 = 136, 6 × 12 = 72 (deemed); 40.5 t weighed sand.
    add(
        services,
        R,
        site,
        date="2026-10-05",
        material="RAW-CONCRETE",
        quantity="10",
        source="Tower B",
    )
    add(
        services,
        R,
        site,
        date="2026-10-20",
        material="RAW-CONCRETE",
        quantity="8",
        source="Tower B",
    )
    add(services, R, site, date="2026-10-06", material="RAW-MIXED", quantity="6", source="Villa")
    add(services, R, site, date="2026-10-07", material="FINE-NATURAL", quantity="40.5")
    # Feed: 9 × 16.5 = 148.5, 7.5 × 17 = 127.5, 4 × 12 = 48 → 324 t.
    add(
        services,
        F,
        site,
        date="2026-10-08",
        material="RAW-CONCRETE",
        quantity="9",
        equipment="CRUSHER-01",
    )
    add(services, F, site, date="2026-10-21", material="RAW-CONCRETE", quantity="7.5")
    add(services, F, site, date="2026-10-09", material="RAW-MIXED", quantity="4", shift="MORNING")
    # Produced: 150 + 110.25 + 40 = 300.25 t.
    for day, code, q in (
        ("08", "AGG-G1", "150"),
        ("21", "BASE-RECYCLED", "110.25"),
        ("09", "AGG-S1", "40"),
    ):
        add(
            services, P, site, date=f"2026-10-{day}", material=code, quantity=q, operation="CRU-PRO"
        )
    # Out: 120 + 20.5 sold, 30 used on site, 1 load × 12 = 12 t to the landfill → 182.5 t.
    add(services, D, site, date="2026-10-10", material="AGG-G1", quantity="120", fate="SALE")
    add(services, D, site, date="2026-10-11", material="FINE-NATURAL", quantity="20.5")
    add(
        services,
        D,
        site,
        date="2026-10-22",
        material="BASE-RECYCLED",
        quantity="30",
        fate="USED_ON_SITE",
    )
    add(services, D, site, date="2026-10-12", material="RAW-MIXED", quantity="1", fate="DISPOSAL")
    # 7.5 + 6 h of crushing and screening (the loader's 8 h do not count); 10 × 8 man-hours.
    E = Module.EQUIPMENT
    add(services, E, site, date="2026-10-08", equipment="CRUSHER-01", hours="7.5", count="1")
    add(services, E, site, date="2026-10-08", equipment="SCREEN-01", hours="6", count="1")
    add(services, E, site, date="2026-10-08", equipment="LOADER-01", hours="8", count="1")
    add(
        services,
        Module.MANPOWER,
        site,
        date="2026-10-08",
        role="LABORER",
        headcount="10",
        hours="8",
    )
