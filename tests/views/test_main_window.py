"""The shell: sites per role, context refresh, persisted state, start-up on empty/busy stores."""

from __future__ import annotations

import json
import time

import pytest
from PySide6.QtCore import QByteArray, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import AppState, Settings, load_state, state_path
from deskops_desktop.services.bundle import Services
from deskops_desktop.views.main import build_window
from deskops_desktop.views.main_window import MainWindow
from deskops_desktop.views.record_page import RecordPage
from deskops_desktop.views.settings_page import SettingsPage
from tests.helpers import write_record


def window_for(
    qtbot: QtBot, services: Services, actor: Actor, state: AppState | None = None
) -> MainWindow:
    window = build_window(services, actor, Settings(state or AppState()))
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def test_operator_sees_only_assigned_sites(qtbot: QtBot, services: Services, admin: Actor) -> None:
    services.master.add_site(admin, "JED-02", "Jeddah North")
    services.master.add_site(admin, "RUH-01", "Riyadh East", timezone="Asia/Riyadh")
    services.users.create(admin, "clerk", "clerk-pass-1", Role.OPERATOR, ["JED-02"])
    clerk = services.users.authenticate("clerk", "clerk-pass-1")
    window = window_for(qtbot, services, clerk)
    combo = window.header.site_combo
    assert [combo.itemText(i) for i in range(combo.count())] == ["JED-02 – Jeddah North"]
    assert window.context is not None
    assert window.context.site.code == "JED-02"
    # Admin sees all three, in code order.
    admin_window = window_for(qtbot, services, admin)
    texts = [
        admin_window.header.site_combo.itemText(i)
        for i in range(admin_window.header.site_combo.count())
    ]
    assert texts == [
        "ALASLA-29 – Al Asla Recycling Facility",
        "JED-02 – Jeddah North",
        "RUH-01 – Riyadh East",
    ]
    # Operators get only their profile in Settings, no master data tabs.
    window.show_page("settings")
    settings = window.pages["settings"]
    assert isinstance(settings, SettingsPage)
    assert [settings.tabs.tabText(i) for i in range(settings.tabs.count())] == ["Profile"]


def test_changing_site_and_range_refreshes_pages(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    site2 = services.master.add_site(admin, "JED-02", "Jeddah North").value
    services.records.create(
        admin,
        Module.PRODUCTION,
        site2.id,
        {
            "date": site2.today(services.store.clock.now()),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "5",
        },
    )
    window = window_for(qtbot, services, admin)
    window.show_page("production")
    page = window.pages["production"]
    assert isinstance(page, RecordPage)
    assert page.model.rowCount() == 0
    window.header.site_combo.setCurrentIndex(window.header.site_combo.findData(site2.id))
    assert page.model.rowCount() == 1
    window.header.select_preset("Last month")
    _start, end = window.header.current_range()
    assert end < site2.today(services.store.clock.now()).replace(day=1)
    assert page.model.rowCount() == 0


def test_write_on_one_page_refreshes_another(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    window = window_for(qtbot, services, admin)
    window.show_page("production")
    production = window.pages["production"]
    window.show_page("dispatch")
    assert isinstance(production, RecordPage)
    site = window.context.site if window.context else None
    assert site is not None
    write_record(
        window.data,
        Module.PRODUCTION,
        site.id,
        {
            "date": site.today(services.store.clock.now()),
            "operation": "CRU-PRO",
            "material": "AGG-G1",
            "quantity": "1",
        },
    )
    window.show_page("production")
    assert production.model.rowCount() == 1


def test_state_survives_a_restart(
    qtbot: QtBot, services: Services, admin: Actor, monkeypatch: pytest.MonkeyPatch
) -> None:
    site2 = services.master.add_site(admin, "JED-02", "Jeddah North").value
    state = load_state()
    window = window_for(qtbot, services, admin, state)
    window.sidebar.set_collapsed(True)
    window.header.site_combo.setCurrentIndex(window.header.site_combo.findData(site2.id))
    window.header.theme_combo.setCurrentIndex(window.header.theme_combo.findData("dark"))
    window.show_page("production")
    window.resize(1500, 820)
    width = window.width()
    window.close()
    saved = json.loads(state_path().read_text())
    assert saved["sidebar_collapsed"] is True
    assert saved["selected_site_id"] == site2.id
    assert saved["theme"] == "dark"
    assert "splitter_production" in saved["splitters"]

    restored: list[bytes] = []
    original = MainWindow.restoreGeometry
    monkeypatch.setattr(
        MainWindow,
        "restoreGeometry",
        lambda self, geometry: restored.append(bytes(geometry.data())) or original(self, geometry),
    )
    again = window_for(qtbot, services, admin, load_state())
    assert again.sidebar.collapsed is True
    assert again.context is not None
    assert again.context.site.code == "JED-02"
    assert again.header.preset_combo.currentText() == "Last 30 days"  # the range is never persisted
    # The offscreen screen is 800x600, so Qt clamps what it restores: check that the saved
    # geometry (which holds the 1500 px width) is what the new window was given.
    assert restored
    assert restored[0] == bytes(QByteArray.fromBase64(saved["window_geometry"].encode()).data())
    assert width >= 1500


def test_corrupt_settings_file_resets_to_defaults(caplog: pytest.LogCaptureFixture) -> None:
    path = state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("{not json", encoding="utf-8")
    state = load_state()
    assert state == AppState()
    assert "unreadable" in caplog.text
    assert path.with_name("state.json.bad").exists()


def test_starts_on_an_empty_store_quickly(qtbot: QtBot, services: Services, admin: Actor) -> None:
    window = window_for(qtbot, services, admin)
    assert window.current_page_key() == "dashboard"
    assert window.sidebar.buttons["dashboard"].isChecked()
    # Only the dashboard is built at start; other pages are built on first visit.
    assert set(window.pages) == {"dashboard"}


def test_starts_on_a_demo_store(qtbot: QtBot, services: Services, admin: Actor) -> None:
    from deskops_desktop.services.demo import generate_demo

    generate_demo(services, sites=1, days=40, seed=3)
    started = time.perf_counter()
    window = window_for(qtbot, services, admin)
    for key in ("production", "dispatch", "received", "equipment", "manpower", "settings"):
        window.show_page(key)
    QApplication.processEvents()
    elapsed = time.perf_counter() - started
    page = window.pages["production"]
    assert isinstance(page, RecordPage)
    assert page.model.rowCount() > 0
    assert elapsed < 30  # a sanity bound only; start-up is measured in bench/, not here


def test_sidebar_keyboard_shortcuts_switch_pages(
    qtbot: QtBot, services: Services, admin: Actor
) -> None:
    window = window_for(qtbot, services, admin)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)
    qtbot.keyClick(window, Qt.Key.Key_2, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "production"
    qtbot.keyClick(window, Qt.Key.Key_5, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "feed"
    qtbot.keyClick(window, Qt.Key.Key_9, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "mass-balance"
    qtbot.keyClick(window, Qt.Key.Key_Comma, Qt.KeyboardModifier.ControlModifier)
    assert window.current_page_key() == "settings"
