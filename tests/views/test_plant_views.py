"""The mass balance on screen: the Mass balance page (its figures equal the export and the
CLI to the last digit), the Feed page (raw feed and crushers only), a dispatch's fate, and the
tons and mass determination of every material record in the tables."""

from __future__ import annotations

import csv
import io
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QComboBox, QMessageBox
from pytestqt.qtbot import QtBot

from deskops_desktop.cli_plant import write_statement_csv
from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import ExportQuery
from deskops_desktop.models.enums import Granularity, Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.mass_balance_page import MassBalancePage
from deskops_desktop.views.reclassify_dialog import ReclassifyDialog
from deskops_desktop.views.record_page import RecordPage
from deskops_desktop.views.settings_page import SettingsPage
from tests.helpers import site_of
from tests.plant_month import OCT_1, OCT_31, add, enter_october

pytestmark = pytest.mark.usefixtures("example_day")


def mass_balance_page(qtbot: QtBot, data: DataGateway) -> MassBalancePage:
    page = MassBalancePage(data)
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    page.set_context(PageContext(site_of(data), OCT_1, OCT_31))
    page.resize(1366, 768)
    page.show()
    qtbot.waitExposed(page)
    return page


def test_the_page_shows_the_export_and_the_cli_to_the_last_digit(
    qtbot: QtBot, services: Services, data: DataGateway
) -> None:
    site = site_of(data)
    enter_october(services, site)
    page = mass_balance_page(qtbot, data)
    assert page.tiles["received.total"].value.text() == "413.500 t"
    assert page.tiles["balance.unexplained"].value.text() == "0.000 t"
    assert page.tiles["kpi.yield"].value.text() == "0.927 t/t"
    assert page.tiles["kpi.diversion"].value.text() == "97.10 %"
    assert page.warning.isHidden()

    out = io.StringIO()
    write_statement_csv(services.mass_balance.mass_balance(SYSTEM, site.id, OCT_1, OCT_31), out)
    cli = list(csv.DictReader(io.StringIO(out.getvalue())))
    table = build_table(
        services,
        SYSTEM,
        ExportQuery(Module.MASS_BALANCE, site.id, OCT_1, OCT_31, Granularity.MONTHLY),
    )
    index = {c.header: i for i, c in enumerate(table.columns)}
    exported = list(table.rows)
    shown = page.cell_texts()
    assert len(shown) == len(cli) == len(exported)
    for (line, quantity, _unit, tons, _deemed, figure), row, file_row in zip(
        shown, cli, exported, strict=True
    ):
        assert line == row["Line"] == file_row[index["Line"]]
        as_number = Decimal(tons.replace(",", "")) if tons else None
        assert as_number == (Decimal(row["Tons"]) if row["Tons"] else None)
        assert as_number == file_row[index["Tons"]]
        if row["Quantity"]:
            assert Decimal(quantity.replace(",", "")) == Decimal(row["Quantity"])
        if row["Figure"]:
            assert figure.split()[0].replace(",", "") == row["Figure"]
            assert Decimal(row["Figure"]) == file_row[index["Figure"]]
    # Table rows: a bold header per section, then its lines.
    assert page.table.item(0, 0).text() == "Received"
    assert page.table.item(1, 0).text().strip() == "FINE-NATURAL – NATURAL SAND"


def test_a_missing_factor_and_a_new_record_show_at_once(
    qtbot: QtBot, services: Services, data: DataGateway
) -> None:
    site = site_of(data)
    enter_october(services, site)
    page = mass_balance_page(qtbot, data)
    data.write(
        lambda s, a: s.records.create(
            a,
            Module.RECEIVED,
            site.id,
            {"date": "2026-10-14", "material": "RAW-ASPHALT", "quantity": "3"},
        )
    )
    qtbot.waitUntil(lambda: not page.warning.isHidden())
    assert "RAW-ASPHALT (1 received records)" in page.warning.text()
    assert page.tiles["received.total"].value.text() == "413.500 t"  # loads are not tons
    exported = []
    page.export_requested.connect(exported.append)
    page.export_button.click()
    assert exported == [Module.MASS_BALANCE]


def record_page(qtbot: QtBot, data: DataGateway, module: Module) -> RecordPage:
    refs = data.read(lambda s, _a: s.master.reference())
    page = RecordPage(module, data, refs)
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    page.set_context(PageContext(site_of(data), OCT_1, OCT_31))
    page.resize(1366, 768)
    page.show()
    qtbot.waitExposed(page)
    return page


def combo_codes(combo: QComboBox) -> list[str]:
    return [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)]


def test_the_feed_form_offers_raw_feed_and_crushers_only(
    qtbot: QtBot, services: Services, data: DataGateway
) -> None:
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "12", "2026-01-01")
    page = record_page(qtbot, data, Module.FEED)
    material = page.form.input("material")
    crusher = page.form.input("equipment")
    assert isinstance(material, QComboBox)
    assert isinstance(crusher, QComboBox)
    assert combo_codes(material) == ["RAW-CONCRETE", "RAW-MIXED", "RAW-ASPHALT"]
    assert combo_codes(crusher) == ["CRUSHER-01", "CRUSHER-02", "SCREEN-01"]
    page.form.set_values(
        {"date": OCT_31, "material": "RAW-MIXED", "quantity": "2.5", "equipment": "CRUSHER-01"}
    )
    qtbot.keyClick(page.form.input("quantity"), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.total == 1)
    columns = [c.key for c in page.model.columns]
    row = [page.model.data(page.model.index(0, i)) for i in range(len(columns))]
    shown = dict(zip(columns, row, strict=True))
    assert (shown["material"], shown["quantity"], shown["uom"]) == ("RAW-MIXED", "2.500", "LOAD")
    assert (shown["tons"], shown["mass"], shown["equipment"]) == ("30.000", "deemed", "CRUSHER-01")


def test_a_dispatch_is_a_sale_unless_the_clerk_says_otherwise(
    qtbot: QtBot, services: Services, data: DataGateway
) -> None:
    site = site_of(data)
    add(
        services,
        Module.PRODUCTION,
        site,
        date="2026-10-30",
        material="AGG-G1",
        quantity="50",
        operation="CRU-PRO",
    )
    page = record_page(qtbot, data, Module.DISPATCH)
    fate = page.form.input("fate")
    assert isinstance(fate, QComboBox)
    assert fate.currentData() == "SALE"
    assert [fate.itemText(i) for i in range(1, fate.count())] == [
        "Sale",
        "Transfer",
        "Disposal",
        "By-product",
        "Used on site",
    ]
    assert "landfill" in fate.itemData(3, Qt.ItemDataRole.ToolTipRole)
    page.form.set_values(
        {"date": OCT_31, "material": "AGG-G1", "quantity": "5", "fate": "DISPOSAL"}
    )
    qtbot.keyClick(page.form.input("quantity"), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.model.total == 1)
    fate_col = [c.key for c in page.model.columns].index("fate")
    assert page.model.data(page.model.index(0, fate_col)) == "Disposal"
    assert fate.currentData() == "SALE"  # the form is ready for the next sale


def settings_page(qtbot: QtBot, data: DataGateway) -> SettingsPage:
    page = SettingsPage(data, Settings())
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    page.set_context(PageContext(site_of(data), OCT_1, OCT_31))
    page.show()
    return page


def test_an_admin_sets_a_factor_and_sees_its_history(qtbot: QtBot, data: DataGateway) -> None:
    page = settings_page(qtbot, data)
    assert page.tabs.tabText(page.tabs.indexOf(page.factors)) == "Conversion factors"
    dialog = page.factor_dialog()
    qtbot.addWidget(dialog)
    material = dialog.inputs["material"]
    assert isinstance(material, QComboBox)
    assert [material.itemData(i) for i in range(material.count())] == [
        "RAW-CONCRETE",
        "RAW-MIXED",
        "RAW-ASPHALT",
    ]
    assert dialog.inputs["valid_from"].text() == "2026-11-27"  # the site's today
    assert dialog.try_submit() is False  # no figure yet: the problem names the field
    assert dialog.errors["tons_per_load"].text() == "is required"
    dialog.inputs["tons_per_load"].setText("16.5")
    dialog.inputs["basis"].setText("weighbridge sample of 20 loads")
    assert dialog.try_submit() is True
    table = page.factors.table
    assert table.rowCount() == 1
    assert [table.item(0, c).text() for c in range(6)] == [
        "RAW-CONCRETE – CONCRETE DEBRIS",
        "All sites",
        "16.500",
        "2026-11-27",
        "(in force)",
        "weighbridge sample of 20 loads",
    ]
    assert table.item(0, 6).text() == "Head Office"


def test_the_reclassify_tool_previews_then_moves(
    qtbot: QtBot, services: Services, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    site = site_of(data)
    add(services, Module.RECEIVED, site, date="2026-10-01", material="RAW-MIXED", quantity="20")
    for day in ("2026-10-02", "2026-10-03"):
        add(
            services,
            Module.DISPATCH,
            site,
            date=day,
            material="RAW-MIXED",
            quantity="4",
            owner="Crusher feed (internal)",
        )
    page = settings_page(qtbot, data)
    dialog = page.open_reclassify()
    assert isinstance(dialog, ReclassifyDialog)
    assert dialog.owner.itemText(0) == "Crusher feed (internal)  (2: Sale)"
    assert not dialog.move_button.isEnabled()  # nothing moves before a preview
    found = dialog.preview()
    assert found is not None
    assert found.count == 2
    assert dialog.summary.text().startswith("Will move: ALASLA-29: 2 dispatches")
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.No)
    dialog.move_button.click()
    assert services.records.count(SYSTEM, Module.FEED, site.id, OCT_1, OCT_31) == 0
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    dialog.move_button.click()
    assert services.records.count(SYSTEM, Module.FEED, site.id, OCT_1, OCT_31) == 2
    assert services.records.count(SYSTEM, Module.DISPATCH, site.id, OCT_1, OCT_31) == 0
    assert dialog.result_text.startswith("Moved: ALASLA-29: 2 dispatches")
    assert not dialog.move_button.isEnabled()
