"""The server goes away mid-session, and a save meets a record someone else changed.

Offline: the test stops its *own* PostgreSQL server (``tests.pg_throwaway``) under a signed-in
main window, saves an entry (kept in the form, banner shown, no error dialog, nothing raised out
of a slot), starts the server again and sees the banner go and the entry saved — once.

Stale: two sessions edit one record; the second gets Reload or Compare, and Compare keeps the
clerk's values on the current version so the next Update replaces the other change knowingly.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import StoreOfflineError
from deskops_desktop.models.modules import SPECS
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.connectivity import connection_security
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.store import Store, open_store
from deskops_desktop.views import offline_banner
from deskops_desktop.views.compare_dialog import KEEP_MINE, RELOAD, CompareDialog, differences
from deskops_desktop.views.main import build_window
from deskops_desktop.views.record_page import RecordPage
from tests.helpers import default_site, production, write_record
from tests.pg_throwaway import ThrowawayServer, start_throwaway
from tests.views.test_record_page import make_page

OWN_PORT = 54349


@pytest.fixture(scope="module")
def own_server() -> Iterator[ThrowawayServer]:
    server = start_throwaway(OWN_PORT)
    yield server
    server.remove()


@pytest.fixture
def pg_session(own_server: ThrowawayServer, clock: FixedClock) -> Iterator[tuple[Services, Actor]]:
    own_server.start()  # a test that failed half-way may have left it stopped
    store = open_store(own_server.url, clock=clock)
    services = build_services(store)
    if services.users.count() == 0:
        services.users.create(None, "admin", "admin-pass-1", Role.ADMIN)
    actor = services.users.authenticate("admin", "admin-pass-1")
    yield services, actor
    own_server.start()
    store.dispose()


def test_data_service_reports_offline_and_back(
    pg_session: tuple[Services, Actor], own_server: ThrowawayServer
) -> None:
    services, actor = pg_session
    data = DataGateway(services, actor)
    heard: list[bool] = []
    data.subscribe_connection(heard.append)
    site = default_site(services)
    today = site.today(data.clock.now())
    own_server.stop()
    with pytest.raises(StoreOfflineError, match="cannot be reached"):
        write_record(data, Module.PRODUCTION, site.id, production(today, "AGG-3/8"))
    with pytest.raises(StoreOfflineError):
        data.read(lambda s, a: s.records.list(a, Module.PRODUCTION, site.id, today, today))
    assert data.check_connection() is False
    assert heard == [False]
    assert connection_security(services.store).startswith("unknown")
    own_server.start()
    assert data.check_connection() is True  # pool pre-ping replaces the dead connections
    assert heard == [False, True]
    write_record(data, Module.PRODUCTION, site.id, production(today, "AGG-3/8"))
    assert connection_security(services.store).startswith("NOT encrypted")


def test_window_keeps_the_entry_offline_and_saves_it_when_the_server_is_back(
    qtbot: QtBot,
    pg_session: tuple[Services, Actor],
    own_server: ThrowawayServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(offline_banner, "PROBE_MS", 200)
    services, actor = pg_session
    window = build_window(services, actor, Settings())
    qtbot.addWidget(window)
    window.show()
    window.show_page("production")
    page = window.pages["production"]
    assert isinstance(page, RecordPage)
    banner = window.offline_banner
    banner.timer.setInterval(200)
    site = default_site(services)
    entry = production(site.today(services.store.clock.now()), "AGG-S1", "42.5")
    page.form.set_values({**entry, "date": site.today(services.store.clock.now())})

    own_server.stop()
    page.form.save_requested.emit(page.form.values())
    assert banner.offline
    assert "cannot be reached" in page.form.general_error.text()
    assert page.form.values()["quantity"] == "42.5"  # the unsaved entry is still in the form
    assert str(page.form.values()["material"]).startswith("AGG-S1")

    own_server.start()
    qtbot.waitUntil(lambda: not banner.offline, timeout=15_000)
    rows = services.records.list(
        actor,
        Module.PRODUCTION,
        site.id,
        site.today(services.store.clock.now()),
        site.today(services.store.clock.now()),
    )
    saved = [r.values["quantity"] for r in rows if r.ref_code == "AGG-S1"]
    assert saved == [Decimal("42.500")]  # saved, and only once
    assert page.form.values()["quantity"] == ""  # saved, and the form is ready for the next
    # A second "server back" does not save it again.
    assert page.retry_pending() is False
    window.close()


def test_settings_shows_how_the_store_is_reached(qtbot: QtBot, data: DataGateway) -> None:
    from deskops_desktop.views.settings_page import SettingsPage

    page = SettingsPage(data, Settings())
    qtbot.addWidget(page)
    assert page.connection_label.text() == "local file on this computer (no network)"


# --------------------------------------------------------------------------- stale copies
def test_compare_marks_the_fields_that_differ(services: Services, data: DataGateway) -> None:
    site = default_site(services)
    row = write_record(
        data, Module.PRODUCTION, site.id, production(site.today(data.clock.now()), quantity="10")
    )
    mine = {**{k: str(v) for k, v in row.values.items()}, "quantity": "12.5", "notes": "mine"}
    mine["date"] = row.date.isoformat()
    marked = {
        label
        for label, _a, _b, differs in differences(SPECS[Module.PRODUCTION], mine, row)
        if differs
    }
    assert marked == {"Quantity", "Notes"}


def test_compare_dialog_buttons(qtbot: QtBot, services: Services, data: DataGateway) -> None:
    site = default_site(services)
    row = write_record(
        data, Module.PRODUCTION, site.id, production(site.today(data.clock.now()), quantity="10")
    )
    dialog = CompareDialog.stale_record(
        SPECS[Module.PRODUCTION], {"quantity": "11"}, row, "changed by x"
    )
    qtbot.addWidget(dialog)
    dialog.keep_button.click()
    assert dialog.result() == KEEP_MINE
    dialog = CompareDialog.stale_record(
        SPECS[Module.PRODUCTION], {"quantity": "11"}, row, "changed by x"
    )
    qtbot.addWidget(dialog)
    dialog.reload_button.click()
    assert dialog.result() == RELOAD


@pytest.mark.parametrize("choice", ["reload", "keep"])
def test_stale_save_offers_reload_or_compare(
    qtbot: QtBot,
    services: Services,
    data: DataGateway,
    admin: Actor,
    choice: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    services.users.create(admin, "sara", "sara-pass-123", Role.MODERATOR, ["ALASLA-29"])
    other_store = Store(services.store.url, clock=services.store.clock)  # a second laptop
    other = build_services(other_store)
    sara = other.users.authenticate("sara", "sara-pass-123")
    page = make_page(qtbot, data)
    site = default_site(services)
    day = site.today(data.clock.now()) - timedelta(days=1)
    row = write_record(data, Module.PRODUCTION, site.id, production(day, quantity="10"))
    page.form.edit(row)
    page.form.set_values({**row.values, "quantity": "11"})
    other.records.update(
        sara,
        Module.PRODUCTION,
        row.id,
        {**row.values, "quantity": "20"},
        expected_version=row.version,
    )
    asked: list[str] = []
    monkeypatch.setattr(page, "_ask_stale", lambda m: asked.append(m) or "compare")
    compared: list[tuple[object, object]] = []

    def compare(mine: dict[str, object], current: object, message: str) -> int:
        compared.append((mine["quantity"], current.values["quantity"]))  # type: ignore[attr-defined]
        return KEEP_MINE if choice == "keep" else RELOAD

    monkeypatch.setattr(page, "_compare", compare)
    page.form.save_requested.emit(page.form.values())
    assert "changed by sara" in asked[0]
    assert compared == [("11", Decimal("20.000"))]
    current = services.records.get(admin, Module.PRODUCTION, row.id)
    assert current.values["quantity"] == Decimal("20.000")  # nothing was overwritten
    if choice == "reload":
        assert page.form.values()["quantity"] == "20.000"
        assert page.form.editing.version == 2
    else:
        assert page.form.values()["quantity"] == "11"
        assert page.form.editing.version == 2
        page.form.save_requested.emit(page.form.values())  # the knowing overwrite
        final = services.records.get(admin, Module.PRODUCTION, row.id)
        assert final.values["quantity"] == Decimal("11.000")
        assert final.version == 3
    assert services.ledger.verify(admin, site.id) == []
    other_store.dispose()
