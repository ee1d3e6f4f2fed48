"""Settings → Dispatches: move mis-booked dispatches of one owner to their fate or to Feed.

The dialog never writes before the administrator has seen what will move: "Preview" asks the
service (``ReclassifyService.preview``, no write), shows the count, the date span and the
quantities, and only then enables "Move…", which asks once more and moves everything in one
transaction. The result is announced like every write, so pages reload.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.enums import FATE_NAMES, Fate
from deskops_desktop.models.errors import DeskOpsError, ValidationError
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.reclassify import TO_FEED, Reclassification
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.widgets import date_edits, label


class ReclassifyDialog(QDialog):
    """Preview, then move, the dispatches of one owner at one site (administrators)."""

    def __init__(self, data: DataGateway, site: SiteInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = data
        self._site = site
        self.result_text = ""
        self.setWindowTitle(f"Reclassify dispatches – {site.code}")
        self.setMinimumWidth(560)
        owners = data.read(lambda s, a: s.reclassify.owners(a, site.id))
        self.owner = QComboBox()
        self.owner.setEditable(True)
        for summary in owners:
            fates = ", ".join(FATE_NAMES[Fate(f)] for f in summary.fates)
            self.owner.addItem(f"{summary.owner}  ({summary.count:,}: {fates})", summary.owner)
        self.target = QComboBox()
        self.target.addItem("Feed records (crusher feed booked as a dispatch)", TO_FEED)
        for fate in Fate:
            self.target.addItem(f"Fate: {FATE_NAMES[fate]}", fate.value)
        self.limit = QCheckBox("Only between")
        self.date_from, self.date_to = date_edits()
        today = site.today(data.clock.now())
        self.date_to.setDate(QDate(today.year, today.month, today.day))
        self.date_from.setDate(QDate(today.year, 1, 1))
        for edit in (self.date_from, self.date_to):
            edit.setEnabled(False)
        self.limit.toggled.connect(self.date_from.setEnabled)
        self.limit.toggled.connect(self.date_to.setEnabled)
        dates = QHBoxLayout()
        dates.addWidget(self.limit)
        dates.addWidget(self.date_from)
        dates.addWidget(QLabel("and"))
        dates.addWidget(self.date_to)
        dates.addStretch(1)
        form = QFormLayout()
        form.addRow("Owner (Customer)", self.owner)
        form.addRow("Move to", self.target)
        form.addRow("Dates", dates)
        self.summary = label("Preview first: nothing moves until you have seen what will.", "muted")
        self.summary.setWordWrap(True)
        self.error = label("", "error")
        self.error.setWordWrap(True)
        self.preview_button = QPushButton("Preview")
        self.move_button = QPushButton("Move…")
        self.move_button.setEnabled(False)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.addButton(self.preview_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.move_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.summary)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.preview_button.clicked.connect(self.preview)
        self.move_button.clicked.connect(lambda: self.move_rows())
        # Any change after a preview needs a new preview.
        self.owner.currentTextChanged.connect(lambda _t: self.move_button.setEnabled(False))
        self.target.currentIndexChanged.connect(lambda _i: self.move_button.setEnabled(False))
        self.limit.toggled.connect(lambda _on: self.move_button.setEnabled(False))
        self._previewed: Reclassification | None = None

    # ----------------------------------------------------------------- input
    def _owner(self) -> str:
        text = self.owner.currentText()
        data = self.owner.currentData()
        # A picked item shows its counts; its data is the owner itself.
        return str(data) if data is not None and text.startswith(str(data)) else text.strip()

    def _window(self) -> tuple[str, str, str, date | None, date | None]:
        first = last = None
        if self.limit.isChecked():
            a, b = self.date_from.date(), self.date_to.date()
            first, last = date(a.year(), a.month(), a.day()), date(b.year(), b.month(), b.day())
        return (self._site.id, self._owner(), str(self.target.currentData()), first, last)

    # --------------------------------------------------------------- actions
    def preview(self) -> Reclassification | None:
        window = self._window()
        self.error.setText("")
        try:
            found = self._data.read(lambda s, a: s.reclassify.preview(a, *window))
        except ValidationError as exc:
            self.error.setText("\n".join(str(p) for p in exc.problems))
            self.move_button.setEnabled(False)
            return None
        self._previewed = found
        self.summary.setText(f"Will move: {found}" if found.count else str(found))
        self.move_button.setEnabled(found.count > 0)
        return found

    def move_rows(self, *, confirm: bool = True) -> None:
        found = self._previewed
        if found is None or not found.count:
            return
        if confirm:
            answer = QMessageBox.question(
                self,
                "Move dispatches",
                f"{found}\n\nMove them now? The change log keeps every row as it was.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        window = self._window()
        try:
            done = self._data.write(lambda s, a: s.reclassify.reclassify(a, *window)).value
        except DeskOpsError as exc:
            problems = exc.problems if isinstance(exc, ValidationError) else ()
            self.error.setText("\n".join(str(p) for p in problems) or str(exc))
            return
        self.result_text = f"Moved: {done}"
        self.summary.setText(self.result_text)
        self.move_button.setEnabled(False)
        self._previewed = None
