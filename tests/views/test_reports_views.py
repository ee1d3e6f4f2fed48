"""Settings → Reports and the app's pack runner: a pack is defined in the form, run from the
tab with its progress in the export dock, scheduled on this computer (a recorded scheduler; the
password goes to the keyring), and a due pack runs by itself while the app is open."""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from datetime import time
from pathlib import Path

import pytest
from PySide6.QtCore import QThread
from PySide6.QtWidgets import QCheckBox, QLineEdit, QListWidget, QMessageBox
from pytestqt.qtbot import QtBot

from deskops_desktop import pack_schedule
from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.main import build_window
from deskops_desktop.views.reports_tab import ReportsTab

pytestmark = pytest.mark.usefixtures("example_day")


class Recorder:
    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []

    def __call__(self, args: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        del stdin
        self.commands.append(tuple(args))
        return subprocess.CompletedProcess(list(args), 0, "", "")


def october_records(services: Services) -> None:
    site = services.master.site_by_code(SYSTEM, "ALASLA-29")
    raw = {"date": "2026-10-20", "operation": "CRU-PRO", "material": "AGG-G1", "quantity": "5"}
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, raw)


def test_define_run_and_schedule_a_pack_from_settings(
    qtbot: QtBot,
    services: Services,
    data: DataGateway,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    october_records(services)
    window = build_window(services, data.actor, Settings())
    qtbot.addWidget(window)
    window.show()
    window.show_page("settings")
    settings = window.pages["settings"]
    tab = getattr(settings, "reports", None)
    assert isinstance(tab, ReportsTab)
    dialog = tab.pack_dialog()
    qtbot.addWidget(dialog)
    assert dialog.try_submit() is False
    assert "name" in {k for k, v in dialog.errors.items() if v.text()}
    name = dialog.inputs["name"]
    folder = dialog.inputs["destination"]
    powerbi = dialog.inputs["powerbi"]
    assert isinstance(name, QLineEdit)
    assert isinstance(folder, QLineEdit)
    assert isinstance(powerbi, QCheckBox)
    assert isinstance(dialog.inputs["reports"], QListWidget)
    name.setText("monthly")
    folder.setText(str(tmp_path / "share"))
    assert dialog.try_submit() is True
    assert [tab.table.item(0, c).text() for c in (0, 1, 2, 4, 6)] == [
        "monthly",
        "all sites",
        "inventory, mass-balance",
        "last-month",
        "not scheduled",
    ]
    tab.select("monthly")
    finished: list[tuple[str, bool]] = []
    window.pack_runner.finished.connect(lambda _k, _t, text, ok: finished.append((text, ok)))
    gui = QThread.currentThread()
    progress_threads: list[bool] = []
    window.pack_runner.progressed.connect(
        lambda *_a: progress_threads.append(QThread.currentThread() == gui)
    )
    assert tab.run_selected()
    assert "export dock" in tab.message.text()
    assert window.export_panel.task_rows  # the run shows in the dock
    assert window.pack_runner.wait()
    qtbot.waitUntil(lambda: bool(finished), timeout=60_000)
    [(text, ok)] = finished
    assert ok, text
    assert progress_threads
    assert all(progress_threads)  # the dock hears progress on its own thread
    assert text.startswith("2026-10: ")
    assert not window.export_panel.task_rows
    assert (tmp_path / "share" / "monthly" / "2026-10" / "manifest.json").exists()
    qtbot.waitUntil(lambda: tab.table.item(0, 8).text().startswith("completed 2026-10"))

    recorder = Recorder()
    tab._scheduler = lambda: pack_schedule.Scheduler(
        "linux", recorder, home=tmp_path, config_home=tmp_path / "config"
    )
    tab.select("monthly")
    schedule = tab.schedule_dialog()
    assert schedule is not None
    qtbot.addWidget(schedule)
    assert schedule.try_submit() is False  # no password: nothing is kept or registered
    assert schedule.errors["password"].text() == "is required (kept in the keyring)"
    at, password = schedule.inputs["daily_at"], schedule.inputs["password"]
    assert isinstance(at, QLineEdit)
    assert isinstance(password, QLineEdit)
    at.setText("02:30")
    password.setText("admin-pass-1")
    assert schedule.try_submit() is True
    assert ("systemctl", "--user", "enable", "--now", "deskops-pack-monthly.timer") in (
        recorder.commands
    )
    qtbot.waitUntil(lambda: tab.table.item(0, 6).text().startswith("daily at 02:30"))
    monkeypatch.setattr(QMessageBox, "question", lambda *_a, **_k: QMessageBox.StandardButton.Yes)
    tab.select("monthly")
    assert tab.unschedule_selected()
    qtbot.waitUntil(lambda: tab.table.item(0, 6).text() == "not scheduled")
    assert tab.remove_selected()
    assert tab.table.rowCount() == 0


def test_a_due_pack_runs_while_the_app_is_open(
    qtbot: QtBot, services: Services, data: DataGateway, tmp_path: Path
) -> None:
    october_records(services)
    services.packs.define(
        SYSTEM,
        "nightly",
        sites=None,
        reports=["production"],
        formats=["csv"],
        period="last-month",
        destination=str(tmp_path),
    )
    services.packs.set_schedule(SYSTEM, "nightly", time(0, 0), kind="cron", host="hq", run_as="x")
    window = build_window(services, data.actor, Settings())
    qtbot.addWidget(window)
    assert window.pack_runner.wait()  # started at once: due since midnight, never run
    qtbot.waitUntil(lambda: bool(window.pack_runner.last_result), timeout=60_000)
    assert window.pack_runner.last_result.startswith("2026-10: ")
    assert window.pack_runner.check_due() == []  # ran today: not due again
