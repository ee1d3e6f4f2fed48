# ruff: noqa: RUF001  (Arabic sample text is deliberate)
"""Shared fixtures of the export tests: a demo plant store made once, copied per test.

Not a test module itself (it holds no tests); the export test modules import its fixtures.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from deskops_desktop.export.table import Column, ColumnKind, ExportMeta, StaticSource, TotalsTable
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Granularity, Module, Role
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.demo import DEMO_PASSWORD, generate_demo
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store, open_store
from tests.conftest import EXAMPLE_NOW, FIXED_NOW

DEMO_DAYS = 60
TODAY = FixedClock(FIXED_NOW).today("Asia/Riyadh")  # what the clock fixture says at the site


@dataclass(frozen=True)
class DemoActors:
    admin: Actor
    operator: Actor
    moderator: Actor


@dataclass
class Demo:
    services: Services
    site: SiteInfo
    actors: DemoActors


_TEMPLATES: dict[Path, tuple[Path, DemoActors]] = {}


@pytest.fixture(scope="session", name="demo_template")
def demo_template_fixture(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DemoActors]:
    """Made once per session: every module imports this fixture, which makes pytest see one
    session fixture per module, so the result is cached here by the session's temp root."""
    root = tmp_path_factory.getbasetemp()
    if root not in _TEMPLATES:
        _TEMPLATES[root] = _make_template(tmp_path_factory.mktemp("demo") / "demo.sqlite3")
    return _TEMPLATES[root]


def _make_template(path: Path) -> tuple[Path, DemoActors]:
    store = open_store(f"sqlite:///{path}", clock=FixedClock(FIXED_NOW))
    services = build_services(store)
    services.users.create(None, "admin", "admin-pass-1", Role.ADMIN, display_name="Head Office")
    generate_demo(services, sites=1, days=DEMO_DAYS, seed=1)
    actors = DemoActors(
        services.users.authenticate("admin", "admin-pass-1"),
        services.users.authenticate("demo.operator", DEMO_PASSWORD),
        services.users.authenticate("demo.moderator", DEMO_PASSWORD),
    )
    store.dispose()
    return path, actors


@pytest.fixture(name="demo")
def demo_fixture(
    demo_template: tuple[Path, DemoActors], tmp_path: Path, clock: FixedClock
) -> Iterator[Demo]:
    """A private copy of the demo store (1 site, 60 days ending ``TODAY``) on the test clock."""
    template, actors = demo_template
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(template, path)
    store = Store(f"sqlite:///{path}", clock=clock)
    services = build_services(store)
    site = services.master.site_by_code(actors.admin, "ALASLA-29")
    yield Demo(services, site, actors)
    store.dispose()


def meta(module: Module = Module.PRODUCTION, **changes: Any) -> ExportMeta:
    values: dict[str, Any] = {
        "module": module, "granularity": Granularity.DAILY, "site_code": "ALASLA-29",
        "site_name": "Al Asla Recycling Facility", "site_timezone": "Asia/Riyadh",
        "date_from": date(2026, 11, 1), "date_to": date(2026, 11, 27),
        "generated_at": EXAMPLE_NOW, "generated_by": "Head Office",
        "filters": (("Granularity", "Daily"),),
    }  # fmt: skip
    values.update(changes)
    return ExportMeta(**values)


PRODUCTION_COLUMNS = (
    Column("Date", "date", ColumnKind.DATE),
    Column("Shift", "shift"),
    Column("Material Code", "material_code"),
    Column("Material Name", "material_name"),
    Column("UOM", "uom"),
    Column("Quantity", "quantity", ColumnKind.QUANTITY),
    Column("Notes", "notes"),
)

TRICKY_NOTES = (
    "plain",
    "comma, inside",
    'a "quoted" word',
    "two\nlines",
    "كسارة رقم ١ متوقفة",  # Arabic: crusher no. 1 stopped
    '=HYPERLINK("http://evil","x")',
    "+966 12 345 6789",
    "-5 t short",
    "@SUM(A1)",
    "\tTabbed",
    None,
)


def production_source(rows: int = 30, notes: tuple[str | None, ...] = TRICKY_NOTES) -> StaticSource:
    data = []
    for i in range(rows):
        day = date(2026, 11, 1 + i % 27)
        quantity = Decimal(1000 * i + 123 + (i * 7) % 1000).scaleb(-3)
        data.append(
            (
                day,
                "MORNING" if i % 2 else None,
                "AGG-G1",
                "G1",
                "TON",
                quantity,
                notes[i % len(notes)],
            )
        )
    total = sum((r[5] for r in data), Decimal("0.000"))
    totals = TotalsTable(
        (Column("Category", "material_category"), Column("UOM", "uom"),
         Column("Quantity", "quantity", ColumnKind.QUANTITY),
         Column("Records", "record_count", ColumnKind.INTEGER)),
        (("AGGREGATES", "TON", total, rows), ("All TON", "TON", total, rows)),
    )  # fmt: skip
    return StaticSource(meta(), PRODUCTION_COLUMNS, data, totals)
