"""The company overview page: every site, its figures the export's to the digit, sortable, a
double-click opens the site's dashboard, and the table exports off the GUI thread."""

from __future__ import annotations

import csv
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from deskops_desktop.export.overview_table import FIGURES, overview_table
from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.main import build_window
from deskops_desktop.views.overview_page import OverviewPage, figure_text
from tests.helpers import site_of

pytestmark = pytest.mark.usefixtures("example_day")

NOV = (date(2026, 11, 1), date(2026, 11, 27))


def two_sites(services: Services) -> None:
    north = services.master.add_site(SYSTEM, "NORTH-01", "North Yard").value
    home = services.master.site_by_code(SYSTEM, "ALASLA-29")
    for site, qty in ((home, "100"), (north, "250.5")):
        raw = {"date": "2026-11-20", "operation": "CRU-PRO", "material": "AGG-G1", "quantity": qty}
        services.records.create(SYSTEM, Module.PRODUCTION, site.id, raw)
    sale = {"date": "2026-11-21", "material": "AGG-G1", "quantity": "40", "fate": "SALE"}
    services.records.create(SYSTEM, Module.DISPATCH, north.id, sale)


def test_every_site_with_the_exports_figures(
    qtbot: QtBot, services: Services, data: DataGateway, tmp_path: Path
) -> None:
    two_sites(services)
    page = OverviewPage(data)
    qtbot.addWidget(page)
    page.set_context(PageContext(site_of(data), *NOV))
    page.show()
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    ov = page.overview
    assert ov is not None
    table = overview_table(ov, data.clock.now(), "test")
    rows = list(table.rows)
    headers = [c.header for c in table.columns]
    for r in range(2):
        code = page.table.item(r, 0).text()
        exported = next(row for row in rows if row[0] == code)
        for c, (header, _key, kind, _value) in enumerate(FIGURES, start=1):
            shown = page.cell_text(r, c).split("\n")[0]
            assert shown == figure_text(kind, exported[headers.index(header)]), (code, header)
    production = [f[0] for f in FIGURES].index("Production t") + 1
    page.table.sortItems(production, Qt.SortOrder.DescendingOrder)
    assert page.table.item(0, 0).text() == "NORTH-01"  # 250.5 t beats 100 t
    assert page.cell_text(0, production).startswith("250.500\n")
    assert page.total.item(0, production).text().startswith("350.500")

    target = tmp_path / "overview.csv"
    assert page.export(target)
    assert page.wait_for_export()
    qtbot.waitUntil(lambda: bool(page.last_export))
    with target.open(encoding="utf-8-sig", newline="") as handle:
        written = list(csv.DictReader(handle))
    assert {row["Site Code"]: row["Production t"] for row in written} == {
        "ALASLA-29": "100.000",
        "NORTH-01": "250.500",
    }


def test_head_office_lands_on_it_and_enter_opens_the_site(
    qtbot: QtBot, services: Services, data: DataGateway
) -> None:
    two_sites(services)
    window = build_window(services, data.actor, Settings())
    qtbot.addWidget(window)
    window.show()
    assert window.current_page_key() == "overview"  # an administrator of two sites
    page = window.pages["overview"]
    assert isinstance(page, OverviewPage)
    qtbot.waitUntil(lambda: page.table.rowCount() == 2)
    assert [page.table.item(r, 0).text() for r in range(2)] == ["ALASLA-29", "NORTH-01"]
    row = 1
    page.table.selectRow(row)
    page.table.setFocus()
    qtbot.keyClick(page.table, Qt.Key.Key_Return)
    assert window.current_page_key() == "dashboard"
    assert window.header.current_site_id() == services.master.site_by_code(SYSTEM, "NORTH-01").id


def test_operators_do_not_see_it(qtbot: QtBot, services: Services) -> None:
    two_sites(services)
    from deskops_desktop.models.enums import Role

    services.users.create(SYSTEM, "op", "op-pass-1234", Role.OPERATOR, ["ALASLA-29"])
    operator = services.users.authenticate("op", "op-pass-1234")
    window = build_window(services, operator, Settings())
    qtbot.addWidget(window)
    window.show()
    assert window.current_page_key() == "dashboard"
    assert window.sidebar.buttons["overview"].isHidden()
