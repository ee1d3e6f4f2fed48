"""A type-to-search field: part of a code or of a name, completed from a popup or resolved alone.

A clerk types "g1", "4 inch" or "washed". While the popup is open, Tab and Enter take the
highlighted completion (or the only one shown); when the field loses focus, or the form saves,
text that names exactly one choice becomes that choice (``models.lookup.resolve``) — so "G1"
plus Tab is AGG-G1, never "unknown material code 'G1'". Text that matches several stays as
typed, and ``resolution().message()`` lists the candidates for the form's error line.
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QComboBox, QCompleter, QWidget
from shiboken6 import isValid

from deskops_desktop.models.lookup import Choice, Resolution, resolve

_TAKE_KEYS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab, Qt.Key.Key_Return, Qt.Key.Key_Enter)


class SearchCombo(QComboBox):
    """An editable combo over ``choices`` (stored code, shown "CODE – Name")."""

    def __init__(self, choices: Sequence[Choice], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self._choices: tuple[Choice, ...] = ()
        completer = QCompleter(self.model(), self)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setCompletionMode(QCompleter.CompletionMode.PopupCompletion)
        self.setCompleter(completer)
        self._completer = completer
        self._popup = completer.popup()
        # Installed after the completer's own filter, so it sees the popup's keys first.
        if self._popup is not None:
            self._popup.installEventFilter(self)
        # Leaving the field (Tab, a click elsewhere) resolves what was typed. The line edit has
        # the focus, not the combo, so its editingFinished is what tells.
        line = self.lineEdit()
        if line is not None:
            line.editingFinished.connect(self._on_editing_finished)
        self.set_choices(choices)

    # ----------------------------------------------------------------- choices
    def set_choices(self, choices: Sequence[Choice]) -> None:
        """Replace the choices, keeping the current one when it is still offered."""
        current = self.code()
        self._choices = tuple(choices)
        self.blockSignals(True)
        self.clear()
        self.addItem("", "")
        for choice in self._choices:
            self.addItem(choice.label, choice.code)
        self.blockSignals(False)
        self.set_code(current)

    @property
    def choices(self) -> tuple[Choice, ...]:
        return self._choices

    def set_code(self, code: str | None) -> None:
        """Select the choice stored as ``code`` (text as typed when there is none)."""
        index = self.findData(code or "")
        if index >= 0:
            self.setCurrentIndex(index)
        else:
            self.setCurrentIndex(0)
            self.setEditText(code or "")

    # --------------------------------------------------------------- resolving
    def resolution(self) -> Resolution:
        """What the current text names (a picked item names its own code)."""
        text = self.currentText()
        index = self.currentIndex()
        if index > 0 and text == self.itemText(index):
            return Resolution(text, str(self.itemData(index)), ())
        return resolve(self._choices, text)

    def code(self) -> str:
        """The resolved code, or the text as typed when it names no single choice."""
        found = self.resolution()
        return found.code if found.code is not None else found.text.strip()

    def resolve_now(self) -> Resolution:
        """Turn a unique match into its choice in place (what Tab and leaving the field do)."""
        found = self.resolution()
        if found.code is not None:
            index = self.findData(found.code)
            if index >= 0:
                self.setCurrentIndex(index)
                self.setEditText(self.itemText(index))  # typed "g1" reads "AGG-G1 – G1"
        return found

    # ------------------------------------------------------------------ events
    def _on_editing_finished(self) -> None:
        # While the popup is open its own keys (Tab, Enter) arrive in ``eventFilter``; this is
        # the field really being left, so the popup goes and a unique match is taken.
        if not isValid(self):  # the window is closing: its children go first
            return
        popup = self._popup
        if popup is not None and isValid(popup) and popup.isVisible():
            popup.hide()
        self.resolve_now()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        completer, popup = self._completer, self._popup
        if (
            watched is popup
            and popup is not None
            and event.type() == QEvent.Type.KeyPress
            and isinstance(event, QKeyEvent)
            and event.key() in _TAKE_KEYS
            and popup.isVisible()
        ):
            index = popup.currentIndex()
            if not index.isValid() and completer.completionCount() == 1:
                index = completer.completionModel().index(0, 0)
            if index.isValid():
                self._take_label(str(index.data()))
            else:
                self.resolve_now()
            popup.hide()
            if event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
                self.focusNextPrevChild(event.key() == Qt.Key.Key_Tab)
            return True
        return super().eventFilter(watched, event)

    def _take_label(self, label: str) -> None:
        index = self.findText(label, Qt.MatchFlag.MatchExactly)
        if index >= 0:
            self.setCurrentIndex(index)
