"""The dialog shown on start when the store failed its integrity check.

It offers the newest backup that passes the same check, or quitting. Only when there is no
usable backup does it also offer, behind a confirmation, to start with an empty store: a clerk
must never find an empty app without having asked for one (the damaged file stays where
``check_store`` set it aside, for a specialist).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.export.files import human_size
from deskops_desktop.models.clock import Clock
from deskops_desktop.services import backups
from deskops_desktop.services.backups import BackupInfo, RestoreResult, StoreHealth
from deskops_desktop.views.backups_tab import format_when
from deskops_desktop.views.widgets import error_label, label

RESTORED = "restored"
EMPTY = "empty"
QUIT = "quit"


class RecoveryDialog(QDialog):
    """Restore the newest good backup, or quit; ``choice`` says which (see module constants).

    ``restore`` is ``backups.restore`` (injectable for tests); a failed restore is shown in the
    dialog, which stays open so the clerk can still quit. ``clock`` names the safety copy made
    before the restore.
    """

    def __init__(
        self,
        health: StoreHealth,
        good: BackupInfo | None,
        restore: Callable[[Path, Path, datetime], RestoreResult] = backups.restore,
        parent: QWidget | None = None,
        *,
        clock: Clock,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle("DeskOps found damaged data")
        self.health = health
        self.good = good
        self.choice = QUIT
        self.result_info: RestoreResult | None = None
        self._restore = restore
        self._clock = clock

        where = health.set_aside[0] if health.set_aside else health.path
        title = label("DeskOps' data file is damaged", "title")
        self.explain = explain = QLabel(
            "DeskOps checks its data file every time it starts. The file failed that check"
            f"{f' ({health.problem})' if health.problem else ''}, so DeskOps moved it aside, "
            f"unchanged, and writes nothing more to it:\n{where}"
        )
        explain.setWordWrap(True)
        explain.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.offer = QLabel()
        self.offer.setWordWrap(True)
        self.error = error_label()

        self.buttons = QDialogButtonBox()
        self.restore_button: QPushButton | None = None
        self.empty_button: QPushButton | None = None
        if good is not None:
            self.offer.setText(
                f"The newest backup that passes the same check was made {format_when(good.created)}"
                f" ({human_size(good.size)}). Restoring it brings back everything entered up to "
                "then; what was entered after it is not in that backup."
            )
            self.restore_button = self.buttons.addButton(
                "Restore this backup", QDialogButtonBox.ButtonRole.AcceptRole
            )
            self.restore_button.setDefault(True)
            self.restore_button.clicked.connect(self._on_restore_button_clicked)
        else:
            folder = backups.backup_dir(health.path)
            self.offer.setText(
                f"No usable backup was found in {folder}. Quit and ask for help: the damaged "
                "file is kept for a specialist. Or start again with an empty store."
            )
            self.empty_button = self.buttons.addButton(
                "Start with an empty store…", QDialogButtonBox.ButtonRole.DestructiveRole
            )
            self.empty_button.clicked.connect(self._on_empty_button_clicked)
        self.quit_button = self.buttons.addButton("Quit", QDialogButtonBox.ButtonRole.RejectRole)
        self.quit_button.clicked.connect(self.reject)
        if good is None:
            self.quit_button.setDefault(True)

        layout = QVBoxLayout(self)
        layout.addWidget(title)
        layout.addWidget(explain)
        layout.addWidget(self.offer)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(520)

    def _on_restore_button_clicked(self) -> None:
        if self.good is None:
            return
        try:
            self.result_info = self._restore(
                self.health.path, self.good.path, self._clock.local_now()
            )
        except Exception as exc:  # shown to the clerk, who can still quit
            self.error.setText(f"The backup could not be restored: {exc}")
            return
        self.choice = RESTORED
        self.accept()

    def _on_empty_button_clicked(self) -> None:
        answer = QMessageBox.warning(
            self,
            "Start with an empty store",
            "DeskOps will start with no records, sites or users other than the ones you create "
            "now. The damaged file stays where it is.\n\nStart with an empty store?",
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel,
            QMessageBox.StandardButton.Cancel,
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.choice = EMPTY
            self.accept()


def recover_store(health: StoreHealth, clock: Clock, parent: QWidget | None = None) -> str:
    """Show the recovery dialog for a damaged store; returns RESTORED, EMPTY or QUIT.

    The newest backup is checked again first (``newest_good_backup``): a copy that was good
    when made may have rotted on disk since.
    """
    good = backups.newest_good_backup(health.path, health.backups)
    dialog = RecoveryDialog(health, good, parent=parent, clock=clock)
    dialog.exec()
    return dialog.choice
