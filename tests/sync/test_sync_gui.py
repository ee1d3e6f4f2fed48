"""The desktop on a remote-site laptop against a real head office: the header's sync line, Sync
now off the GUI thread, head office's changes reaching the open page, a conflict shown and
decided in Settings → Sync through the Compare dialog, the backoff while head office is away,
and the first-start dialog's third choice."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QLineEdit
from pytestqt.qtbot import QtBot

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import open_store
from deskops_desktop.sync import SyncReport, sync_status
from deskops_desktop.sync.desk import SyncDesk
from deskops_desktop.sync.link import LinkOptions
from deskops_desktop.views import compare_dialog
from deskops_desktop.views.dialogs import SetupDialog
from deskops_desktop.views.main import FirstStart, build_window
from deskops_desktop.views.main_window import MainWindow
from deskops_desktop.views.record_page import RecordPage
from deskops_desktop.views.sync_tab import SyncTab
from tests.sync.hq import CLERK_PASSWORD, HQ
from tests.sync.laptops import FAST_LINK, Laptop, make_laptop, production

pytestmark = pytest.mark.postgres
P = Module.PRODUCTION


def _window(qtbot: QtBot, laptop: Laptop, username: str) -> tuple[MainWindow, SyncDesk]:
    desk = SyncDesk(laptop.store, FAST_LINK)
    actor = desk.sign_in(username, CLERK_PASSWORD)
    window = build_window(laptop.services, actor, Settings(), desk)
    qtbot.addWidget(window)
    window.show()
    assert window.sync is not None
    window.sync.timer.stop()  # the test says when to sync
    return window, desk


def _sync(qtbot: QtBot, window: MainWindow) -> SyncReport:
    sync = window.sync
    assert sync is not None
    reports: list[SyncReport] = []
    sync.finished.connect(reports.append)
    assert sync.sync_now()
    assert not window.sync_bar.sync_button.isEnabled()  # running: the button waits
    qtbot.waitUntil(lambda: bool(reports), timeout=60_000)
    return reports[0]


def test_the_header_line_sync_now_and_head_office_changes_on_the_open_page(
    qtbot: QtBot, hq: HQ, tmp_path: Path
) -> None:
    laptop = make_laptop(hq, tmp_path, "gui", "op1")
    try:
        window, _desk = _window(qtbot, laptop, "op1")
        bar = window.sync_bar
        assert bar.isVisible()
        assert bar.headline.text().startswith("Synced · 0 waiting · 0 need attention")
        assert "last confirmed with head office at" in bar.headline.text()

        # A clerk's save: the line counts it at once, and a sync is planned soon.
        today = hq.today(hq.site_a)
        window.data.write(
            lambda s, a: s.records.create(a, P, hq.site_a.id, production(today, quantity="9"))
        )
        assert bar.headline.text().startswith("1 waiting · 0 need attention")
        assert window.sync is not None
        assert window.sync.timer.isActive()
        assert window.sync.next_delay_s == window.sync.schedule.soon

        # Head office adds a record meanwhile; the production page is open.
        services, boss = hq.online("mod1")
        services.records.create(boss, P, hq.site_a.id, production(today, "AGG-3/4", quantity="4"))
        window.show_page(P)
        page = window.pages[P]
        assert isinstance(page, RecordPage)
        qtbot.waitUntil(lambda: page.model.rowCount() == 1)

        gui = QThread.currentThread()
        threads: list[bool] = []
        window.sync.progressed.connect(lambda *_: threads.append(QThread.currentThread() == gui))
        report = _sync(qtbot, window)
        assert report.ok, report.error
        assert (report.push.applied, report.pull.changes >= 1) == (1, True)
        assert threads
        assert all(threads)
        qtbot.waitUntil(lambda: page.model.rowCount() == 2)  # announced: the page re-read
        assert bar.headline.text().startswith("Synced · 0 waiting")
        assert bar.sync_button.isEnabled()
        assert not bar.progress.isVisible()
        assert window.statusBar().currentMessage().startswith("Sync: sent 1 (applied 1")
        assert window.sync.next_delay_s == window.sync.schedule.interval
    finally:
        laptop.close()


def test_a_conflict_is_shown_and_a_supervisor_decides_it_in_settings(
    qtbot: QtBot, hq: HQ, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    laptop = make_laptop(hq, tmp_path, "mod", "mod1", ("SITE-A",))
    try:
        today = hq.today(hq.site_a)
        services, mod = hq.online("mod1")
        row = services.records.create(mod, P, hq.site_a.id, production(today)).value
        window, _desk = _window(qtbot, laptop, "mod1")
        assert _sync(qtbot, window).ok
        # Both sides edit the same record: the laptop offline, head office online.
        window.data.write(
            lambda s, a: s.records.update(a, P, row.id, production(today, quantity="12"))
        )
        services.records.update(mod, P, row.id, production(today, quantity="15"))
        report = _sync(qtbot, window)
        assert report.push.conflicts == 1
        bar = window.sync_bar
        assert "1 needs attention" in bar.headline.text()
        assert bar.headline.property("role") == "warning"

        bar.details_button.click()  # Settings → Sync
        settings = window.pages[window.current_page_key() or P]
        tab = settings.findChild(SyncTab)
        assert isinstance(tab, SyncTab)
        assert tab.isVisible()
        assert tab.local_table.rowCount() == 1
        state = tab.local_table.item(0, 1)
        assert state is not None
        assert state.text() == "changed here and at head office"
        tab.local_table.selectRow(0)
        assert tab.compare_local_button.isEnabled()
        assert not tab.dismiss_button.isEnabled()  # a conflict is decided, not dismissed
        dialog = tab.decide_local()
        assert dialog is not None
        qtbot.addWidget(dialog)
        quantity = next(r for r in dialog.rows if r[0].startswith("Quantity"))
        assert quantity[1:] == ("12", "15", True)  # the laptop's beside head office's
        assert dialog.keep_button.text() == "Keep the laptop's"
        finished: list[SyncReport] = []
        assert window.sync is not None
        window.sync.finished.connect(finished.append)
        dialog.done(compare_dialog.KEEP_MINE)
        qtbot.waitUntil(lambda: tab.last_decision is not None, timeout=30_000)
        assert tab.last_decision is not None
        assert tab.last_decision.item.resolution == "mine"
        qtbot.waitUntil(lambda: bool(finished), timeout=60_000)  # synced right after
        assert window.sync.status.attention == 0
        assert services.records.get(mod, P, row.id).values["quantity"] == 12
        qtbot.waitUntil(lambda: tab.local_table.rowCount() == 0)
        log = tab.log.toPlainText().splitlines()
        assert "joined head office as replica" in log[0]
        assert any(line.endswith("batch of 1: 1 conflict") for line in log)
        assert any(line.endswith("a supervisor decided: 1 mine") for line in log)
        sends = [line.split(" sync ", 1)[-1].strip() for line in log if "sent 1 (" in line]
        assert sends[0].startswith("sent 1 (applied 0, conflicts 1, held 0, rejected 0)"), log
    finally:
        laptop.close()


def test_head_office_away_backs_off_and_the_line_says_so(
    qtbot: QtBot, hq: HQ, tmp_path: Path
) -> None:
    laptop = make_laptop(hq, tmp_path, "away", "op1")
    try:
        desk = SyncDesk(laptop.store, LinkOptions(connect_timeout=1, io_timeout=2.0))
        actor = desk.sign_in("op1", CLERK_PASSWORD)
        with laptop.store.write() as session:  # head office moved to a port nobody listens on
            from sqlalchemy import text

            session.execute(text("UPDATE sync_state SET server_url = :u"), {"u": _dead_url(hq)})
        window = build_window(laptop.services, actor, Settings(), desk)
        qtbot.addWidget(window)
        window.show()
        assert window.sync is not None
        window.sync.timer.stop()
        report = _sync(qtbot, window)
        assert report.offline
        assert window.sync.failures == 1
        first = window.sync.next_delay_s
        assert first is not None
        assert 8 <= first <= 12  # 10 s ± 20 % jitter
        assert window.sync_bar.problem.text() == "head office cannot be reached; retrying"
        assert _sync(qtbot, window).offline
        assert window.sync.next_delay_s is not None
        assert 16 <= window.sync.next_delay_s <= 24  # doubled
        assert sync_status(laptop.store).last_error
    finally:
        laptop.close()


def _dead_url(hq: HQ) -> str:
    return hq.clerk_url.set(port=1).render_as_string(hide_password=False)


def test_first_start_third_choice_joins_and_signs_the_clerk_in(
    qtbot: QtBot, hq: HQ, tmp_path: Path
) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'new.sqlite3'}", clock=FixedClock(hq.server_now()))
    try:
        services = build_services(store)
        first = FirstStart(services, Settings(), store.clock)
        dialog = SetupDialog(lambda _u, _p: None, first.create_admin, join_laptop=first.join_laptop)
        qtbot.addWidget(dialog)
        dialog.show()
        assert dialog.laptop.isVisible()
        dialog.laptop.setChecked(True)
        assert dialog.button_ok().text() == "Join and download"
        assert not dialog.display_name.isVisible()  # the clerk's own user: nothing to create
        assert dialog.sites.isVisible()
        dialog.button_ok().click()  # nothing filled in: every missing field is named
        assert dialog.error.text().splitlines() == [
            "Server URL: is required (head office gives it to you)",
            "Sites: give at least one site code",
            "User name: is required",
            "Password: is required",
        ]
        dialog.url.setText(hq.clerk_url.render_as_string(hide_password=False))
        dialog.sites.setText("site-zz")  # (this session's server trusts every password)
        username = dialog.username
        assert isinstance(username, QLineEdit)
        username.setText("op1")
        dialog.password.setText(CLERK_PASSWORD)
        dialog.button_ok().click()
        assert dialog.error.text().startswith("Not joined:"), (dialog.result(), first.join_error)
        assert "SITE-ZZ" in dialog.error.text()
        assert not dialog.result()
        dialog.sites.setText("site-a")
        dialog.button_ok().click()
        assert dialog.result() == 1, dialog.error.text()
        assert first.actor is not None
        assert first.actor.username == "op1"
        assert first.desk is not None
        status = first.desk.status()
        assert status.is_replica
        assert status.synced
    finally:
        store.dispose()
