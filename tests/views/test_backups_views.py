"""Settings → Backups, the recovery dialog, and the start sequence around them (views.main)."""

from __future__ import annotations

import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.services import backups
from deskops_desktop.services.backups import BackupError, BackupKind, check_store, make_backup
from deskops_desktop.services.store import Store, open_store
from deskops_desktop.views import main as main_view
from deskops_desktop.views import recovery_dialog
from deskops_desktop.views.backups_tab import BackupsTab, format_when, human_size
from deskops_desktop.views.recovery_dialog import EMPTY, QUIT, RESTORED, RecoveryDialog

MORNING = datetime(2026, 11, 27, 9, 0, 0)


def _db(store: Store) -> Path:
    path = store.sqlite_file
    assert path is not None
    return path


def _site_names(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [r[0] for r in conn.execute("SELECT name FROM sites ORDER BY name")]


def _rename_sites(store: Store, name: str) -> None:
    with store.write() as session:
        session.execute(text("UPDATE sites SET name = :name"), {"name": name})


@pytest.fixture
def tab(qtbot: QtBot, sqlite_store: Store) -> BackupsTab:
    widget = BackupsTab(sqlite_store)
    qtbot.addWidget(widget)
    return widget


def test_helpers_format_for_a_clerk() -> None:
    assert human_size(999) == "999 bytes"
    assert human_size(1_234_567) == "1.2 MB"
    assert human_size(5_000_000_000) == "5.0 GB"
    assert format_when(MORNING) == "Fri 27 Nov 2026, 09:00"


def test_the_tab_lists_backups_newest_first(qtbot: QtBot, sqlite_store: Store) -> None:
    make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    make_backup(sqlite_store, BackupKind.MANUAL, MORNING.replace(hour=11))
    widget = BackupsTab(sqlite_store)
    qtbot.addWidget(widget)
    table = widget.table
    assert table.rowCount() == 2
    assert [table.item(r, 1).text() for r in range(2)] == ["Made by hand", "Daily"]
    assert table.item(0, 0).text() == "Fri 27 Nov 2026, 11:00"
    assert table.item(0, 2).text().endswith(("KB", "MB"))
    assert str(backups.backup_dir(_db(sqlite_store))) in widget.intro.text()
    assert not widget.restore_button.isEnabled()  # nothing selected yet
    table.selectRow(1)
    assert widget.restore_button.isEnabled()
    assert widget.selected_backup() == backups.list_backups(_db(sqlite_store))[1].path


def test_showing_the_tab_picks_up_new_backups(tab: BackupsTab, sqlite_store: Store) -> None:
    assert tab.table.rowCount() == 0
    make_backup(sqlite_store, BackupKind.AUTO, MORNING)  # the start-up thread, meanwhile
    tab.show()
    assert tab.table.rowCount() == 1


def test_back_up_now_runs_off_the_gui_thread(qtbot: QtBot, tab: BackupsTab) -> None:
    with qtbot.waitSignal(tab.backup_finished, timeout=30_000) as done:
        tab.back_up_button.click()
        assert tab.busy
        assert not tab.back_up_button.isEnabled()
    assert done.args[0].kind == "manual"
    assert tab.table.rowCount() == 1
    assert not tab.busy
    assert "Backup made" in tab.status.text()


def test_restore_asks_first_then_restores_and_closes(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _site_names(_db(sqlite_store))
    make_backup(sqlite_store, BackupKind.MANUAL, MORNING)
    _rename_sites(sqlite_store, "Changed later")
    widget = BackupsTab(sqlite_store)
    qtbot.addWidget(widget)
    widget.show()
    asked: list[str] = []

    def question(_parent: object, _title: str, body: str, *_args: object) -> object:
        asked.append(body)
        return QMessageBox.StandardButton.Yes

    monkeypatch.setattr(QMessageBox, "question", question)
    monkeypatch.setattr(QMessageBox, "information", lambda *_args: None)
    widget.table.selectRow(0)
    with qtbot.waitSignal(widget.restore_finished, timeout=30_000) as done:
        widget.restore_button.click()
    assert "first makes a backup of the current data" in asked[0]
    result = done.args[0]
    assert result.safety_copy is not None
    assert _site_names(result.safety_copy.path) == ["Changed later"]
    assert _site_names(_db(sqlite_store)) == before
    assert not widget.isVisible()  # the window closes: every page's data is stale


def test_restore_cancelled_changes_nothing(
    tab: BackupsTab, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_backup(sqlite_store, BackupKind.MANUAL, MORNING)
    _rename_sites(sqlite_store, "Kept")
    tab.refresh()
    monkeypatch.setattr(QMessageBox, "question", lambda *_args: QMessageBox.StandardButton.Cancel)
    tab.table.selectRow(0)
    tab.restore_button.click()
    assert not tab.busy
    assert _site_names(_db(sqlite_store)) == ["Kept"]
    assert len(backups.list_backups(_db(sqlite_store))) == 1


def test_a_failed_backup_is_shown(
    qtbot: QtBot, tab: BackupsTab, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*_args: object, **_kwargs: object) -> None:
        raise BackupError("the disk is full")

    shown: list[str] = []
    monkeypatch.setattr(backups, "make_backup", refuse)
    monkeypatch.setattr(QMessageBox, "warning", lambda _p, _t, body: shown.append(body))
    tab.back_up_button.click()
    qtbot.waitUntil(lambda: not tab.busy, timeout=30_000)
    assert shown == ["the disk is full"]
    assert tab.back_up_button.isEnabled()


def test_a_store_without_a_file_explains_and_disables(qtbot: QtBot) -> None:
    memory = Store("sqlite://")
    widget = BackupsTab(memory)
    qtbot.addWidget(widget)
    assert "server" in widget.intro.text()
    assert not widget.back_up_button.isEnabled()
    assert not widget.restore_button.isEnabled()
    assert not widget.open_folder_button.isEnabled()
    memory.dispose()


# ----------------------------------------------------------------------------- recovery dialog
def _damaged(store: Store) -> backups.StoreHealth:
    store.dispose()
    db = _db(store)
    db.write_bytes(b"garbage" * 500)
    health = check_store(db, now=MORNING)
    assert health.needs_recovery
    return health


def test_recovery_offers_the_newest_good_backup(qtbot: QtBot, sqlite_store: Store) -> None:
    names = _site_names(_db(sqlite_store))
    good = make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    health = _damaged(sqlite_store)
    dialog = RecoveryDialog(health, good, clock=sqlite_store.clock)
    qtbot.addWidget(dialog)
    assert dialog.restore_button is not None
    assert dialog.empty_button is None  # never tempt a clerk away from a good backup
    assert "Fri 27 Nov 2026, 09:00" in dialog.offer.text()
    assert str(health.set_aside[0]) in dialog.explain.text()
    dialog.restore_button.click()
    assert dialog.choice == RESTORED
    assert dialog.result() == RecoveryDialog.DialogCode.Accepted
    assert _site_names(_db(sqlite_store)) == names


def test_a_failed_restore_keeps_the_dialog_open(qtbot: QtBot, sqlite_store: Store) -> None:
    good = make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    health = _damaged(sqlite_store)

    def broken(_db_path: Path, _backup: Path, _now: datetime) -> backups.RestoreResult:
        raise BackupError("the backup cannot be used: malformed")

    dialog = RecoveryDialog(health, good, restore=broken, clock=sqlite_store.clock)
    qtbot.addWidget(dialog)
    assert dialog.restore_button is not None
    dialog.restore_button.click()
    assert "malformed" in dialog.error.text()
    assert dialog.choice == QUIT
    dialog.quit_button.click()
    assert dialog.result() == RecoveryDialog.DialogCode.Rejected


def test_without_a_backup_an_empty_store_needs_a_confirmation(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    health = _damaged(sqlite_store)
    dialog = RecoveryDialog(health, None, clock=sqlite_store.clock)
    qtbot.addWidget(dialog)
    assert dialog.restore_button is None
    assert dialog.empty_button is not None
    assert "No usable backup" in dialog.offer.text()
    monkeypatch.setattr(QMessageBox, "warning", lambda *_args: QMessageBox.StandardButton.Cancel)
    dialog.empty_button.click()
    assert dialog.choice == QUIT
    monkeypatch.setattr(QMessageBox, "warning", lambda *_args: QMessageBox.StandardButton.Yes)
    dialog.empty_button.click()
    assert dialog.choice == EMPTY


# ----------------------------------------------------------------------------- the start sequence
def _click_in_recovery(monkeypatch: pytest.MonkeyPatch, action: str) -> None:
    def exec_(self: RecoveryDialog) -> int:
        if action == "restore" and self.restore_button is not None:
            self.restore_button.click()
        elif action == "empty":
            self.choice = EMPTY
            self.accept()
        else:
            self.reject()
        return int(self.result())

    monkeypatch.setattr(RecoveryDialog, "exec", exec_)


def test_start_restores_the_newest_good_backup(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = _site_names(_db(sqlite_store))
    make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    url = f"sqlite:///{_db(sqlite_store)}"
    _damaged(sqlite_store)
    _click_in_recovery(monkeypatch, "restore")
    store = main_view.open_checked_store(url, sqlite_store.clock)
    assert store is not None
    with store.read() as session:
        assert (
            session.execute(text("SELECT name FROM sites ORDER BY name")).scalars().all() == names
        )
    store.dispose()


def test_quitting_recovery_never_creates_an_empty_store(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    url = f"sqlite:///{_db(sqlite_store)}"
    _damaged(sqlite_store)
    _click_in_recovery(monkeypatch, "quit")
    assert main_view.open_checked_store(url, sqlite_store.clock) is None
    assert not _db(sqlite_store).exists()
    # And the next start asks again.
    assert main_view.open_checked_store(url, sqlite_store.clock) is None
    assert not _db(sqlite_store).exists()


def test_an_empty_store_only_when_asked_for(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{_db(sqlite_store)}"
    _damaged(sqlite_store)
    _click_in_recovery(monkeypatch, "empty")
    store = main_view.open_checked_store(url, sqlite_store.clock)
    assert store is not None
    with store.read() as session:
        assert session.execute(text("SELECT count(*) FROM users")).scalar() == 0
    store.dispose()


def test_start_backs_up_once_a_day_in_the_background(tmp_path: Path, clock: FixedClock) -> None:
    store = open_store(f"sqlite:///{tmp_path / 'deskops.sqlite3'}", clock=clock)
    main_view.start_daily_backup(store).join(timeout=30)
    main_view.start_daily_backup(store).join(timeout=30)
    kinds = [b.kind for b in backups.list_backups(_db(store))]
    assert kinds == ["daily"]
    store.dispose()


def test_recover_store_checks_the_backups_again(
    qtbot: QtBot, sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_backup(sqlite_store, BackupKind.AUTO, MORNING)
    rotten = make_backup(sqlite_store, BackupKind.AUTO, MORNING.replace(day=28))
    rotten.path.write_bytes(b"rotten")
    health = _damaged(sqlite_store)
    seen: list[object] = []

    def exec_(self: RecoveryDialog) -> int:
        seen.append(self.good)
        self.reject()
        return 0

    monkeypatch.setattr(RecoveryDialog, "exec", exec_)
    assert recovery_dialog.recover_store(health, sqlite_store.clock) == QUIT
    assert seen[0] is not None
    assert seen[0].created == MORNING  # type: ignore[attr-defined]
