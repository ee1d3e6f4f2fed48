"""Settings → Backups: the store's backups with date, kind and size; "Back up now"; "Restore…".

The work (a copy of the whole store, a quick_check, a restore) takes seconds on a large store,
so it runs on the tab's own one-thread pool; the buttons are disabled meanwhile, so two
operations never overlap. A restore always backs up the current store first
(``services.backups.restore``) and the app closes afterwards: every open page holds data read
from the store that was just replaced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, QUrl, Signal
from PySide6.QtGui import QDesktopServices, QShowEvent
from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.export.files import human_size
from deskops_desktop.services import backups
from deskops_desktop.services.backups import BackupInfo, BackupKind, RestoreResult
from deskops_desktop.services.store import Store
from deskops_desktop.views import background
from deskops_desktop.views.background import TaskSignals
from deskops_desktop.views.widgets import fit_columns, header_row, label, row_table

log = logging.getLogger(__name__)

PATH_ROLE = Qt.ItemDataRole.UserRole + 1


def format_when(when: datetime) -> str:
    """The way a clerk reads a backup's time: "Thu 27 Nov 2026, 09:30"."""
    return when.strftime("%a %d %b %Y, %H:%M")


class BackupsTab(QWidget):
    """The backups of the SQLite store, newest first, with "Back up now" and "Restore…".

    Signals:
        backup_finished(object): the ``BackupInfo`` of a copy made with "Back up now".
        restore_finished(object): the ``RestoreResult``; the main window is closed right after
            (the data on every page is stale), and the clerk starts DeskOps again.
    """

    backup_finished = Signal(object)
    restore_finished = Signal(object)

    def __init__(self, store: Store, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._store = store
        self._db_path = store.sqlite_file
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._signals: TaskSignals | None = None
        self._busy = False

        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.table = row_table(["Made", "Kind", "Size"])
        fit_columns(self.table, stretch=1)
        self.table.setAlternatingRowColors(True)
        self.back_up_button = QPushButton("Back up now")
        self.restore_button = QPushButton("Restore…")
        self.open_folder_button = QPushButton("Open folder")
        self.status = label("", "muted")
        self.status.setWordWrap(True)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 16, 16, 16)
        layout.addWidget(self.intro)
        layout.addLayout(
            header_row([self.back_up_button, self.restore_button, self.open_folder_button])
        )
        layout.addWidget(self.table, 1)
        layout.addWidget(self.status)
        self._connect_signals()
        self.refresh()

    def _connect_signals(self) -> None:
        self.back_up_button.clicked.connect(self._on_back_up_button_clicked)
        self.restore_button.clicked.connect(self._on_restore_button_clicked)
        self.open_folder_button.clicked.connect(self._on_open_folder_button_clicked)
        self.table.itemSelectionChanged.connect(self._update_buttons)

    # ------------------------------------------------------------------ state
    @property
    def busy(self) -> bool:
        return self._busy

    def showEvent(self, event: QShowEvent) -> None:
        # The start-up backup runs on its own thread and may finish after this tab was built.
        if not self._busy:
            self.refresh()
        super().showEvent(event)

    def refresh(self) -> None:
        """Re-read the backup folder (cheap: a directory listing)."""
        if self._db_path is None:
            self.intro.setText(
                "Automatic backups are made for a SQLite store on this computer. This store is "
                f"on a database server ({self._store.display_url}): back it up on the server "
                "(pg_dump), where the administrator keeps its copies."
            )
            self.table.setRowCount(0)
            self._update_buttons()
            return
        folder = backups.backup_dir(self._db_path)
        self.intro.setText(
            "DeskOps backs up its data when it starts, once a day, and keeps the copies of the "
            f"last {backups.KEEP_DAILY} days and {backups.KEEP_WEEKLY} weeks (plus the "
            f"{backups.KEEP_OTHER} newest of each other kind) in {folder}. Restoring a copy "
            "first backs up the current data, so a restore can itself be undone."
        )
        rows = backups.list_backups(self._db_path)
        self.table.setRowCount(len(rows))
        for r, info in enumerate(rows):
            when = QTableWidgetItem(format_when(info.created))
            when.setData(PATH_ROLE, str(info.path))
            when.setToolTip(str(info.path))
            size = QTableWidgetItem(human_size(info.size))
            size.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            self.table.setItem(r, 0, when)
            self.table.setItem(r, 1, QTableWidgetItem(info.label))
            self.table.setItem(r, 2, size)
        self._update_buttons()

    def selected_backup(self) -> Path | None:
        row = self.table.currentRow()
        item = self.table.item(row, 0) if row >= 0 else None
        if item is None or not self.table.selectionModel().hasSelection():
            return None
        return Path(item.data(PATH_ROLE))

    def _update_buttons(self) -> None:
        sqlite = self._db_path is not None
        self.back_up_button.setEnabled(sqlite and not self._busy)
        self.open_folder_button.setEnabled(sqlite)
        self.restore_button.setEnabled(
            sqlite and not self._busy and self.selected_backup() is not None
        )

    # ------------------------------------------------------------------ slots
    def _on_back_up_button_clicked(self) -> None:
        store = self._store
        self._start(
            "Backing up…",
            lambda: backups.make_backup(store, BackupKind.MANUAL),
            self._on_backup_done,
        )

    def _on_restore_button_clicked(self) -> None:
        chosen = self.selected_backup()
        if chosen is None or self._db_path is None:
            return
        info = next((b for b in backups.list_backups(self._db_path) if b.path == chosen), None)
        when = format_when(info.created) if info else chosen.name
        answer = QMessageBox.question(
            self,
            "Restore a backup",
            f"Replace the current data with the backup made {when}?\n\n"
            'DeskOps first makes a backup of the current data (listed as "Before a restore"), '
            "so this can be undone. Anything entered after the chosen backup was made will not "
            "show after the restore.\n\n"
            "DeskOps closes when the restore is done; start it again to continue.",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        db_path = self._db_path
        # Idle pooled connections may hold an old read snapshot; the restore needs the lock.
        self._store.dispose()
        now = self._store.clock.local_now()
        self._start(
            "Restoring…", lambda: backups.restore(db_path, chosen, now), self._on_restore_done
        )

    def _on_open_folder_button_clicked(self) -> None:
        if self._db_path is None:
            return
        folder = backups.backup_dir(self._db_path)
        folder.mkdir(parents=True, exist_ok=True)
        QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))

    # ------------------------------------------------------------------ work
    def _start(self, status: str, work: Callable[[], Any], done: Callable[[Any], None]) -> None:
        self._busy = True
        self._update_buttons()
        self.status.setText(status)
        self._signals = background.start(self._pool, self, status, work, done, self._on_task_failed)

    def _stop(self, status: str) -> None:
        self._busy = False
        self.status.setText(status)
        if self._signals is not None:
            self._signals.deleteLater()
            self._signals = None
        self.refresh()

    def _on_backup_done(self, info: BackupInfo) -> None:
        self._stop(f"Backup made: {info.path.name} ({human_size(info.size)}).")
        self.backup_finished.emit(info)

    def _on_restore_done(self, result: RestoreResult) -> None:
        self._stop(f"Restored from {result.restored_from.name}.")
        safety = (
            f"The data it replaced was saved first as {result.safety_copy.path.name}."
            if result.safety_copy
            else ""
        )
        self.restore_finished.emit(result)
        QMessageBox.information(
            self,
            "Backup restored",
            f"The backup was restored. {safety}\n\nDeskOps closes now; start it again to work "
            "with the restored data.",
        )
        self.window().close()

    def _on_task_failed(self, exc: Exception) -> None:
        self._stop("")
        QMessageBox.warning(self, "Not done", str(exc) or type(exc).__name__)

    def wait_for_idle(self, msecs: int = 30_000) -> bool:
        """Block until the running task ends (tests, and the host before closing)."""
        return self._pool.waitForDone(msecs)
