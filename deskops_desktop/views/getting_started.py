"""The dashboard's first-day card: which store is open, and the three ways to begin.

Shown while nothing has been recorded at the site, instead of a wall of zeros: record today's
production, import a spreadsheet (the columns each module reads are listed), or look around in a
throw-away demo store first. Each button asks the main window to do it (``action_requested``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from deskops_desktop.models.enums import RECORD_MODULES
from deskops_desktop.models.modules import SPECS
from deskops_desktop.views.widgets import label

RECORD = "record"
IMPORT = "import"
DEMO = "demo"


def column_lists() -> str:
    """The import columns of every module, one line each (what a spreadsheet needs)."""
    return "\n".join(
        f"{module.heading}: {', '.join(SPECS[module].headers)}" for module in RECORD_MODULES
    )


class GettingStarted(QFrame):
    """Signals:
    action_requested(str): ``record``, ``import`` or ``demo``.
    """

    action_requested = Signal(str)

    def __init__(self, store_label: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setObjectName("getting_started")
        title = QLabel("Nothing is recorded at this site yet")
        title.setStyleSheet("font-weight: 600; font-size: 15px;")
        self.store = label(f"Store: {store_label}", "muted")
        self.store.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        intro = label(
            "Start with today's figures, bring in what you keep in Excel, or look around first"
            " in a demo store (your own store is not touched).",
            "muted",
        )
        intro.setWordWrap(True)
        self.record_button = QPushButton("Record today's production")
        self.record_button.setProperty("role", "primary")
        self.import_button = QPushButton("Import a spreadsheet…")
        self.import_button.setToolTip(column_lists())
        self.demo_button = QPushButton("Open a demo store…")
        self.demo_button.setToolTip(
            "Fills a separate throw-away store with three demo plants and signs you in to it"
        )
        buttons = QHBoxLayout()
        for button in (self.record_button, self.import_button, self.demo_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        self.columns = label("Import columns (first row of the sheet):\n" + column_lists(), "muted")
        self.columns.setWordWrap(True)
        self.columns.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.setSpacing(6)
        layout.addWidget(title)
        layout.addWidget(self.store)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(self.columns)
        self.record_button.clicked.connect(lambda: self.action_requested.emit(RECORD))
        self.import_button.clicked.connect(lambda: self.action_requested.emit(IMPORT))
        self.demo_button.clicked.connect(lambda: self.action_requested.emit(DEMO))
