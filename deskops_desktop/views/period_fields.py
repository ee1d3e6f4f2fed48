"""A period picked as a preset or two dates: the header's range and the export dialog's.

Invariants a newcomer must not break:
- Choosing a preset fills both dates; editing a date switches the preset to "Custom". The
  fields set each other with their signals blocked, so a change is heard once, as
  ``range_changed``, and only for what the clerk did (or ``select``/``reapply`` asked for).
- The dates come from ``today()`` at the moment a preset is applied (the site's day, from the
  app's clock), never from the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, QObject, QSignalBlocker, Signal
from PySide6.QtWidgets import QComboBox, QDateEdit, QLabel, QWidget

from deskops_desktop.services.date_ranges import PRESETS, preset_range
from deskops_desktop.views.widgets import date_edits

CUSTOM = "Custom"


def qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class PeriodFields(QObject):
    """A preset combo and a from/to pair kept in step; the owner lays them out (``widgets``).

    Args:
        today: the day presets count back from, asked each time one is applied.
        parent: the owning widget.
        preset: the preset shown at first, not applied yet (the owner applies it once it
            knows its today, with ``reapply``).
        keep_order: moving one date past the other drags the other along (the header's range
            is always valid); without it a reversed range stays, for the owner to refuse.

    Signals:
        range_changed(object, object): the (from, to) dates after a preset or a date edit.
    """

    range_changed = Signal(object, object)

    def __init__(
        self,
        today: Callable[[], date],
        parent: QObject,
        *,
        preset: str | None = None,
        keep_order: bool = False,
    ) -> None:
        super().__init__(parent)
        self._today = today
        self._keep_order = keep_order
        self.preset_combo = QComboBox()
        self.preset_combo.addItems(PRESETS)
        if preset is not None:
            self.preset_combo.setCurrentText(preset)
        self.from_edit, self.to_edit = date_edits()
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.preset_combo.currentTextChanged.connect(self._on_preset_combo_changed)
        self.from_edit.dateChanged.connect(self._on_from_edit_changed)
        self.to_edit.dateChanged.connect(self._on_to_edit_changed)

    def widgets(self) -> list[QWidget]:
        """Preset, from, a dash, to: the order every owner shows them in."""
        return [self.preset_combo, self.from_edit, QLabel("–"), self.to_edit]

    def current_range(self) -> tuple[date, date]:
        return pydate(self.from_edit.date()), pydate(self.to_edit.date())

    def select(self, name: str) -> None:
        """Choose preset ``name`` and apply it (again, when it was already chosen); the new
        range is heard once (a changed combo applies it through its own signal)."""
        if self.preset_combo.currentText() == name:
            self.apply_preset(name)
        else:
            self.preset_combo.setCurrentText(name)

    def reapply(self) -> None:
        """Apply the chosen preset again: ``today()`` moved (a new day, another site)."""
        name = self.preset_combo.currentText()
        if name != CUSTOM:
            self.apply_preset(name)

    def apply_preset(self, name: str) -> None:
        if name == CUSTOM:
            return
        start, end = preset_range(name, self._today())
        self._show_dates(start, end)
        self.range_changed.emit(start, end)

    def set_range(self, start: date, end: date) -> None:
        """Show a custom range (the preset combo switches to "Custom"); nothing is emitted."""
        self._show_dates(start, end)
        self._show_custom()

    def _show_dates(self, start: date, end: date) -> None:
        for edit, value in ((self.from_edit, start), (self.to_edit, end)):
            with QSignalBlocker(edit):
                edit.setDate(qdate(value))

    def _show_custom(self) -> None:
        with QSignalBlocker(self.preset_combo):
            self.preset_combo.setCurrentText(CUSTOM)

    def _on_preset_combo_changed(self, name: str) -> None:
        self.apply_preset(name)

    def _on_from_edit_changed(self, _value: QDate) -> None:
        self._edited(self.from_edit, self.to_edit)

    def _on_to_edit_changed(self, _value: QDate) -> None:
        self._edited(self.to_edit, self.from_edit)

    def _edited(self, moved: QDateEdit, other: QDateEdit) -> None:
        start, end = self.current_range()
        if self._keep_order and end < start:
            with QSignalBlocker(other):
                other.setDate(moved.date())
            start, end = self.current_range()
        self._show_custom()
        self.range_changed.emit(start, end)
