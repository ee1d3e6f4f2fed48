"""Dashboard page: KPI cards and their maths, charts fed, attention list navigation, reflow."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.dashboard import Kpi, UnitFigure
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.dashboard_page import DashboardPage
from deskops_desktop.views.kpi_card import KpiCard, change_text, compact
from deskops_desktop.views.main import build_window
from tests.helpers import site_of, write_record


def test_compact_numbers_and_change_text() -> None:
    assert compact(Decimal("1240.456"), "TON") == "1,240.46 t"
    assert compact(Decimal("318"), "LOAD") == "318 loads"
    assert compact(Decimal("2412345.5"), "TON") == "2.4M t"
    assert compact(Decimal("123456"), "TON") == "123.5k t"
    assert change_text(None)[0] == "— vs previous"
    assert change_text(Decimal("12.5"))[0] == "▲ +12.5% vs previous"
    assert change_text(Decimal("-3.0"))[0] == "▼ -3.0% vs previous"


def test_card_counts_up_and_ends_exact(qtbot: QtBot) -> None:
    card = KpiCard("Received")
    qtbot.addWidget(card)
    kpi = Kpi(
        "received",
        "Received",
        (
            UnitFigure(
                "TON", Decimal("1240.000"), Decimal("1000.000"), Decimal("24.0"), (Decimal(1),) * 7
            ),
            UnitFigure("LOAD", Decimal("318.000"), Decimal("0"), None, (Decimal(2),) * 7),
        ),
    )
    card.set_kpi(kpi, animate=True)
    assert card._animation.state() == card._animation.State.Running
    qtbot.waitUntil(lambda: card._animation.state() == card._animation.State.Stopped, timeout=3000)
    assert card.value.text() == "1,240.00 t · 318 loads"
    assert "▲ +24.0%" in card.change.text()
    assert "loads" in card.change.text()
    assert "—" in card.change.text()
    card.set_kpi(kpi, animate=False)
    assert card.value.text() == card.final_text()


def make_page(qtbot: QtBot, data: DataGateway, settings: Settings | None = None) -> DashboardPage:
    page = DashboardPage(data, settings or Settings(AppState(animations=False)))
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    site = site_of(data, "ALASLA-29")
    today = site.today(data.clock.now())
    page.resize(1300, 800)
    page.show()
    page.set_context(PageContext(site, today - timedelta(days=6), today))
    qtbot.waitUntil(lambda: page.charts_ready)
    return page


def test_cards_follow_writes(qtbot: QtBot, data: DataGateway) -> None:
    page = make_page(qtbot, data)
    assert page.cards["production"].value.text() == "0.00 t"
    site = site_of(data, "ALASLA-29")
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(data.clock.now()),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "120.5",
        },
    )
    write_record(
        data,
        Module.RECEIVED,
        site.id,
        {"date": site.today(data.clock.now()), "material": "RAW-MIXED", "quantity": "12"},
    )
    assert page.cards["production"].value.text() == "120.50 t"
    assert ">—<" in page.cards["production"].change.text()  # previous period was 0: no percent
    assert page.cards["inventory"].value.text() == "120.50 t · 12 loads"
    # The raw loads have no factor yet: 0 t received, and the card says why.
    assert page.cards["received"].value.text() == "0.00 t"
    assert page.cards["received"].note.text() == "incl. 0.00 t deemed · 12 loads without a factor"
    assert not page.cards["received"].note.isHidden()
    assert page.plant_cards["yield"].value.text() == "—"
    QApplication.processEvents()
    # The inventory chart shows the ledger's closing; the top-levels chart the same figure.
    assert page.levels_chart._labels[-1].startswith("AGG-G1")
    assert page.levels_chart._series[0].values[-1] == Decimal("120.500")


def test_attention_item_opens_the_page_that_fixes_it(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    site = services.master.site_by_code(admin, "ALASLA-29")
    services.records.create(
        admin,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(services.store.clock.now()) - timedelta(days=1),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "5",
        },
    )
    window = build_window(services, admin, Settings(AppState(animations=False)))
    qtbot.addWidget(window)
    window.show()
    page = window.pages["dashboard"]
    assert isinstance(page, DashboardPage)
    qtbot.waitUntil(lambda: page.charts_ready)
    texts = [page.attention.item(i).text() for i in range(page.attention.count())]
    low = next(i for i, t in enumerate(texts) if "AGG-G1" in t and "LOW" in t)
    page.attention.itemActivated.emit(page.attention.item(low))
    assert window.current_page_key() == "inventory"
    inventory = window.pages["inventory"]
    assert inventory.search.text() == "AGG-G1"  # type: ignore[attr-defined]


def test_reflows_from_four_columns_to_one(qtbot: QtBot, data: DataGateway) -> None:
    page = make_page(qtbot, data)
    page.resize(1300, 800)
    QApplication.processEvents()
    assert page.columns == (4, 2)
    page.resize(800, 800)
    QApplication.processEvents()
    assert page.columns == (2, 1)
    page.resize(500, 800)
    QApplication.processEvents()
    assert page.columns == (1, 1)


def test_refresh_interval_follows_settings(qtbot: QtBot, data: DataGateway) -> None:
    settings = Settings(AppState(animations=False))
    page = make_page(qtbot, data, settings)
    assert page.timer.interval() == 5 * 60_000
    # The setting changes while the dashboard is open: the timer is re-armed at once.
    settings.update(dashboard_refresh_minutes=2)
    assert page.timer.interval() == 2 * 60_000
    assert page.timer.isActive()
    settings.update(animations=True)  # another setting: the interval stays
    assert page.timer.interval() == 2 * 60_000
