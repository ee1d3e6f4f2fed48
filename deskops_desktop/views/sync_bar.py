"""The header's second line on a remote-site laptop: where sync stands, and "Sync now".

"3 waiting · 1 needs attention · last confirmed with head office at 2026-12-01 09:12 UTC" —
the words are ``SyncStatus.headline()``'s, never cursor arithmetic; the line turns amber when
something needs a decision and red when head office refuses this laptop or the last sync
failed. While a sync runs, a progress bar says what it is doing. "Details…" opens
Settings → Sync (the log, and what needs a decision).
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QProgressBar, QPushButton, QWidget

from deskops_desktop.sync import SyncReport, SyncStatus
from deskops_desktop.views.widgets import label

SYNC_NOW_SHORTCUT = "F9"


class SyncBar(QFrame):
    """Signals: sync_requested(), details_requested()."""

    sync_requested = Signal()
    details_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("SyncBar")
        self.icon = label("⇅", "muted")
        self.headline = QLabel("")
        self.headline.setObjectName("sync_headline")
        self.headline.setWordWrap(False)
        self.problem = label("", "error")
        self.problem.setVisible(False)
        self.progress = QProgressBar()
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(220)
        self.progress.setTextVisible(True)
        self.progress.setVisible(False)
        self.sync_button = QPushButton("Sync now")
        self.sync_button.setToolTip(
            f"Send this laptop's changes and fetch head office's ({SYNC_NOW_SHORTCUT})"
        )
        self.details_button = QPushButton("Details…")
        self.details_button.setToolTip("Settings → Sync: the log, and what needs a decision")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 2, 14, 4)
        layout.setSpacing(8)
        layout.addWidget(self.icon)
        layout.addWidget(self.headline, 1)
        layout.addWidget(self.problem)
        layout.addWidget(self.progress)
        layout.addWidget(self.sync_button)
        layout.addWidget(self.details_button)
        self.sync_button.clicked.connect(self.sync_requested)
        self.details_button.clicked.connect(self.details_requested)

    def show_status(self, status: SyncStatus) -> None:
        self.setVisible(status.is_replica)
        text = status.headline()
        if status.synced and not status.attention:
            text = f"Synced · {text}"
        self.headline.setText(text)
        self.headline.setToolTip(status.last_error or text)
        role = ""
        if status.refused:
            role = "error"
        elif status.attention or status.skew_warning or status.sanity_ok is False:
            role = "warning"
        elif status.synced:
            role = "ok"
        self._set_role(role)

    def show_started(self) -> None:
        self.problem.setVisible(False)
        self.progress.setValue(0)
        self.progress.setFormat("syncing…")
        self.progress.setVisible(True)
        self.sync_button.setEnabled(False)

    def show_progress(self, percent: int, text: str) -> None:
        if percent >= 0:
            self.progress.setValue(percent)
        if text:
            self.progress.setFormat(f"{text} %p%")
            self.progress.setToolTip(text)

    def show_finished(self, report: SyncReport) -> None:
        self.progress.setVisible(False)
        self.sync_button.setEnabled(True)
        problem = ""
        if report.offline:
            problem = "head office cannot be reached; retrying"
        elif not report.ok:
            problem = f"sync failed: {report.error}"
        self.problem.setText(problem)
        self.problem.setToolTip(report.summary())
        self.problem.setVisible(bool(problem))

    def _set_role(self, role: str) -> None:
        self.headline.setProperty("role", role)
        style = self.headline.style()
        style.unpolish(self.headline)
        style.polish(self.headline)
