"""A clerk's first start: the new administrator goes straight in; a new store's dashboard says
how to begin; a site without movements says so; the demo store is one button away and leaves
the clerk's own store untouched."""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pytest
from PySide6.QtWidgets import QFileDialog, QMessageBox
from pytestqt.qtbot import QtBot

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.demo_store import DEMO_ADMIN
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.store import open_store
from deskops_desktop.views import main as app_main
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.inventory_page import InventoryPage
from deskops_desktop.views.main import DemoStoreOffer, FirstStart, build_window
from tests.helpers import site_of, write_record


def test_the_new_administrator_is_signed_in(services: Services, clock: FixedClock) -> None:
    first = FirstStart(services, Settings(), clock)
    assert first.actor is None
    first.create_admin(None, None, "boss", "Head Office", "boss-pass-123")
    assert first.actor is not None
    assert (first.actor.username, first.actor.role) == ("boss", Role.ADMIN)


class _Dialog:
    """Stands in for a modal dialog: records how it was made, answers ``exec`` as told."""

    made: ClassVar[list[tuple[Any, ...]]] = []

    def __init__(self, *args: Any) -> None:
        type(self).made.append(args)
        self.actor: Actor | None = None

    def exec(self) -> bool:
        return False


class _Window:
    def __init__(self, switch_to: str | None) -> None:
        self.signing_out = switch_to is not None
        self.switch_to = switch_to

    def show(self) -> None:
        pass


def test_run_goes_from_setup_straight_to_the_window_and_to_a_demo_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, clock: FixedClock
) -> None:
    demo_url = f"sqlite:///{tmp_path / 'demo.sqlite3'}"
    demo = open_store(demo_url, clock=clock)
    build_services(demo).users.create(SYSTEM, DEMO_ADMIN, "demo-pass-123", Role.ADMIN)
    demo.dispose()

    class Setup:
        def __init__(self, _check: Any, create_admin: Any, *, join_laptop: Any) -> None:
            self._create = create_admin
            assert callable(join_laptop)  # the third choice is offered

        def exec(self) -> bool:
            self._create(None, None, "boss", "Head Office", "boss-pass-123")
            return True

    windows: list[tuple[str, str]] = []

    def window_for(
        services: Services, actor: Actor, _settings: Settings, desk: object = None
    ) -> _Window:
        assert desk is None  # a lone laptop store has nothing to sync
        windows.append((services.store.display_url, actor.username))
        return _Window(demo_url if len(windows) == 1 else None)

    _Dialog.made = []
    monkeypatch.setattr(app_main, "SetupDialog", Setup)
    monkeypatch.setattr(app_main, "LoginDialog", _Dialog)
    monkeypatch.setattr(app_main, "build_window", window_for)
    monkeypatch.setattr(app_main, "start_daily_backup", lambda _store: None)
    monkeypatch.setattr(app_main.QApplication, "exec", lambda _self: 0)
    own = tmp_path / "own.sqlite3"
    assert app_main.run(f"sqlite:///{own}", clock) == 0
    # No sign-in after "Create and start": the new administrator's window opened at once …
    assert windows[0] == (f"sqlite:///{own}", "boss")
    # … and "Open a demo store" brought the sign-in of the demo store, demo.admin proposed.
    [(_authenticate, proposed, where)] = _Dialog.made
    assert (proposed, where) == (DEMO_ADMIN, demo_url)


def test_a_new_store_shows_how_to_begin(
    qtbot: QtBot, services: Services, data: DataGateway, monkeypatch: pytest.MonkeyPatch
) -> None:
    window = build_window(services, data.actor, Settings())
    qtbot.addWidget(window)
    window.show()
    dashboard = window.page(window.current_page_key() or "dashboard")
    card = dashboard.getting_started
    qtbot.waitUntil(lambda: not card.isHidden())
    assert card.store.text() == f"Store: {data.store_label}"
    assert (
        "Feed: Date, Shift, Material Code, Quantity, Equipment Code, Notes" in card.columns.text()
    )
    asked: list[bool] = []
    window.demo_store_requested.connect(lambda: asked.append(True))
    offered: list[str] = []
    monkeypatch.setattr(
        QMessageBox,
        "question",
        lambda _p, title, _text: offered.append(title) or QMessageBox.StandardButton.No,
    )
    card.demo_button.click()
    assert asked == [True]
    assert offered == ["Open a demo store"]  # asked first; "No" leaves everything as it was
    assert window.switch_to is None
    opened: list[str] = []
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", lambda *_a, **_k: (opened.append("asked") or "", "")
    )
    card.import_button.click()
    assert window.current_page_key() == "production"
    assert opened == ["asked"]  # the production page asked for the file
    window.show_page("dashboard")
    card.record_button.click()
    assert window.current_page_key() == "production"
    site = site_of(data)
    day = site.today(data.clock.now())
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {"date": day, "operation": "CRU-PRO", "material": "AGG-G1", "quantity": "5"},
    )
    window.show_page("dashboard")
    dashboard.refresh()
    assert card.isHidden()


def test_a_site_without_movements_says_so(qtbot: QtBot, data: DataGateway) -> None:
    page = InventoryPage(data)
    qtbot.addWidget(page)
    data.subscribe(page.on_changes)
    site = site_of(data)
    today = site.today(data.clock.now())
    page.set_context(PageContext(site, today, today))
    page.show()
    qtbot.waitUntil(lambda: page.body.currentWidget() is page.empty)
    assert page.empty.text().startswith("ALASLA-29 – Al Asla Recycling Facility has no stock")
    write_record(
        data,
        Module.PRODUCTION,
        site.id,
        {"date": today, "operation": "CRU-PRO", "material": "AGG-G1", "quantity": "5"},
    )
    qtbot.waitUntil(lambda: page.body.currentWidget() is not page.empty)
    assert page.model.rowCount() > 0


def test_the_demo_store_is_filled_apart_and_opened(
    qtbot: QtBot, services: Services, data: DataGateway, clock: FixedClock
) -> None:
    window = build_window(services, data.actor, Settings())
    qtbot.addWidget(window)
    offer = DemoStoreOffer(window, clock, ask=False)
    assert offer.start()
    qtbot.waitUntil(lambda: offer.result is not None or bool(offer.error), timeout=120_000)
    assert offer.error == ""
    assert offer.result is not None
    assert window.switch_to == offer.result.url
    assert offer.result.url != f"sqlite:///{services.store.sqlite_file}"
    demo = open_store(offer.result.url, clock=clock)
    try:
        demo_services = build_services(demo)
        assert demo_services.users.authenticate(DEMO_ADMIN, "demo-pass-123").role is Role.ADMIN
        assert "ALASLA-29" in {s.code for s in demo_services.master.sites(SYSTEM)}
    finally:
        demo.dispose()
    assert services.users.count() == 1  # the clerk's own store: still just its admin
