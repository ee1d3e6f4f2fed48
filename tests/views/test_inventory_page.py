"""Inventory page: level colours at the thresholds, filters, pages, totals, brush, stock count."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from PySide6.QtCore import Qt
from PySide6.QtGui import QBrush
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import Granularity, Module
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.inventory_page import InventoryPage
from deskops_desktop.views.qt_ledger_model import (
    CLOSING_COLUMN,
    LEVEL_COLUMN,
    LedgerTableModel,
    explain,
)
from deskops_desktop.views.theme import LEVEL_COLORS
from tests.helpers import site_of, write_record


def make_page(qtbot: QtBot, data: DataGateway, days: int = 10) -> InventoryPage:
    page = InventoryPage(data)
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    site = site_of(data, "ALASLA-29")
    today = site.today(data.clock.now())
    page.show()
    page.set_context(PageContext(site, today - timedelta(days=days - 1), today))
    return page


def produce(data: DataGateway, days_ago: int, material: str, quantity: str) -> None:
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(data.clock.now()) - timedelta(days=days_ago),
            "operation": "CRU-PRO",
            "material": material,
            "quantity": quantity,
        },
    )


def test_closing_colours_at_the_thresholds(qtbot: QtBot, data: DataGateway) -> None:
    for material, qty in (
        ("AGG-G1", "99.999"),
        ("AGG-3/4", "100"),
        ("AGG-3/8", "500"),
        ("AGG-S1", "500.001"),
    ):
        produce(data, 0, material, qty)
    page = make_page(qtbot, data, days=1)
    model = page.model
    seen = {}
    for row in range(model.rowCount()):
        ledger_row = model.row_at(row)
        brush = model.data(model.index(row, CLOSING_COLUMN), Qt.ItemDataRole.BackgroundRole)
        assert isinstance(brush, QBrush)
        seen[ledger_row.material.code] = (
            model.data(model.index(row, LEVEL_COLUMN)),
            brush.color().name(),
        )
    assert seen["AGG-G1"] == ("LOW", LEVEL_COLORS["LOW"])
    assert seen["AGG-3/4"] == ("WARNING", LEVEL_COLORS["WARNING"])
    assert seen["AGG-3/8"] == ("WARNING", LEVEL_COLORS["WARNING"])
    assert seen["AGG-S1"] == ("HEALTHY", LEVEL_COLORS["HEALTHY"])
    g1 = next(
        model.row_at(r)
        for r in range(model.rowCount())
        if model.row_at(r).material.code == "AGG-G1"
    )
    assert (
        explain(g1)
        == "opening 0 + produced 99.999 + received 0 − dispatched 0 − fed 0 + adjustment 0"
        " = 99.999 t"
    )
    assert model.data(model.index(0, CLOSING_COLUMN), Qt.ItemDataRole.ToolTipRole).startswith(
        "opening "
    )


def test_filters_pages_and_totals(qtbot: QtBot, data: DataGateway) -> None:
    produce(data, 3, "AGG-G1", "10.5")
    produce(data, 1, "FINE-WASHED", "2.25")
    page = make_page(qtbot, data, days=10)
    assert page.model.total == 10 * 17
    assert page.page_label.text() == "Rows 1–50 of 170"
    page.next_button.click()
    assert page.page_label.text() == "Rows 51–100 of 170"
    page.last_button.click()
    assert page.page_label.text() == "Rows 151–170 of 170"
    assert not page.next_button.isEnabled()
    page.category.setCurrentIndex(page.category.findData("FINE"))
    assert page.model.total == 10 * 2
    page.search.setText("washed")
    page._apply_filters()
    assert page.model.total == 10
    assert {page.model.row_at(r).material.code for r in range(page.model.rowCount())} == {
        "FINE-WASHED"
    }
    page.granularity.setCurrentIndex(page.granularity.findData(Granularity.MONTHLY.value))
    assert page.model.total in (1, 2)  # the 10 days may span two months
    assert page.model.row_at(page.model.rowCount() - 1).closing == Decimal("2.250")
    # Totals rows: the category's totals and a grand total per unit, equal to the ledger's.
    labels = [page.totals.item(r, 0).text() for r in range(page.totals.rowCount())]
    assert labels == ["Fine", "Grand total"]
    assert page.totals.item(0, 3).text() == "2.25"  # produced, TON at 2 dp
    assert page.totals.item(0, 8).text() == "2.25"  # closing


def test_sorting_inside_the_model(qtbot: QtBot, data: DataGateway) -> None:
    produce(data, 0, "AGG-G1", "7")
    produce(data, 0, "AGG-S1", "70")
    page = make_page(qtbot, data, days=1)
    page.model.sort(CLOSING_COLUMN, Qt.SortOrder.DescendingOrder)
    assert [page.model.row_at(i).material.code for i in range(2)] == ["AGG-S1", "AGG-G1"]
    page.model.sort(CLOSING_COLUMN, Qt.SortOrder.AscendingOrder)
    assert page.model.row_at(page.model.rowCount() - 1).material.code == "AGG-S1"


def test_brush_filters_the_table(qtbot: QtBot, data: DataGateway) -> None:
    produce(data, 5, "AGG-G1", "1")
    page = make_page(qtbot, data, days=10)
    ctx = page._context
    assert ctx is not None
    first = ctx.date_from + timedelta(days=2)
    last = ctx.date_from + timedelta(days=4)
    with qtbot.waitSignal(page.chart.range_selected):
        page.chart.select_range(first, last)
    assert page.model.total == 3 * 17
    assert {page.model.row_at(r).day for r in range(page.model.rowCount())} == {
        first,
        first + timedelta(days=1),
        last,
    }
    assert page.reset_brush.isVisible()
    page.reset_brush.click()
    assert page.model.total == 10 * 17


def test_stock_count_saves_the_difference_as_an_adjustment(qtbot: QtBot, data: DataGateway) -> None:
    produce(data, 1, "AGG-G1", "412")
    page = make_page(qtbot, data, days=3)
    page.show()
    dialog = page.open_stock_count()
    assert dialog is not None
    dialog.material.setCurrentIndex(dialog.material.findText("AGG-G1 – G1"))
    assert dialog.book_label.text() == "412.000 t"
    dialog.counted.setText("400.5")
    assert dialog.diff_label.text() == "-11.500 t"
    dialog.counted.setText("412")
    assert dialog.save() is False
    assert "nothing to adjust" in dialog.error.text()
    dialog.counted.setText("400.5")
    assert dialog.save() is True
    site = site_of(data, "ALASLA-29")
    day = site.today(data.clock.now())
    ledger = data.read(lambda s, a: s.ledger.ledger(a, site.id, day, day))
    assert next(r for r in ledger.rows if r.material.code == "AGG-G1").closing == Decimal("400.500")
    # The adjustments list shows who and why; the ledger refreshed through the change-set.
    assert page.adjustments.rowCount() == 1
    who_col = next(i for i, c in enumerate(page.adjustments.columns) if c.key == "created_by")
    assert page.adjustments.data(page.adjustments.index(0, who_col)) == "admin"
    reason_col = next(i for i, c in enumerate(page.adjustments.columns) if c.key == "reason")
    assert page.adjustments.data(page.adjustments.index(0, reason_col)) == "STOCK_COUNT"
    g1_today = [
        page.model.row_at(r)
        for r in range(page.model.rowCount())
        if page.model.row_at(r).material.code == "AGG-G1"
        and page.model.row_at(r).day == site.today(data.clock.now())
    ]
    assert g1_today[0].closing_m == 400_500


def test_ledger_model_passes_qtmodeltester(qtmodeltester: object, data: DataGateway) -> None:
    produce(data, 0, "AGG-G1", "1")
    site = site_of(data, "ALASLA-29")
    model = LedgerTableModel()
    model.set_rows(
        data.read(
            lambda s, a: s.ledger.ledger(
                a, site.id, site.today(data.clock.now()), site.today(data.clock.now())
            )
        ).rows
    )
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_page_figures_equal_the_cli_inventory_csv(
    qtbot: QtBot, data: DataGateway, capsys: object, monkeypatch: object
) -> None:
    import csv
    import io

    from deskops_desktop.cli import main

    produce(data, 2, "AGG-G1", "412.125")
    produce(data, 1, "FINE-WASHED", "7.5")
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.DISPATCH,
        site.id,
        {"date": site.today(data.clock.now()), "material": "AGG-G1", "quantity": "88.005"},
    )
    page = make_page(qtbot, data, days=3)
    url = data.read(lambda s, _a: s.store.url.render_as_string(hide_password=False))
    monkeypatch.setenv("DESKOPS_USER", "admin")  # type: ignore[attr-defined]
    monkeypatch.setenv("DESKOPS_PASSWORD", "admin-pass-1")  # type: ignore[attr-defined]
    start = (site.today(data.clock.now()) - timedelta(days=2)).isoformat()
    assert (
        main(
            [
                "--db",
                url,
                "inventory",
                "--site",
                "ALASLA-29",
                "--from",
                start,
                "--to",
                site.today(data.clock.now()).isoformat(),
                "--format",
                "csv",
            ]
        )
        == 0
    )
    cli_rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))  # type: ignore[attr-defined]
    page_rows = [page.model._all[i] for i in range(page.model.total)]
    assert len(cli_rows) == len(page_rows) == 3 * 17
    by_key = {(r.day.isoformat(), r.material.code): r for r in page_rows}
    for row in cli_rows:
        mine = by_key[(row["Date"], row["Material Code"])]
        assert row["Closing"] == f"{mine.closing}"
        assert row["Opening"] == f"{mine.opening}"
        assert row["Level"] == mine.level.value
