"""Small widget factories every page uses the same way (one look, one behaviour).

A page's ``__init__`` builds its layout from these instead of repeating the same five lines:
a title, a muted hint, a pair of date fields, a debounce timer for a search box.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TypeVar

from PySide6.QtCore import QDate, QObject, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLayout,
    QLineEdit,
    QTableWidget,
    QWidget,
)

from deskops_desktop.models.errors import DeskOpsError, ValidationError

LayoutT = TypeVar("LayoutT", bound=QLayout)

MIN_DATE = QDate(2000, 1, 1)  # validation's earliest date (models.validation.MIN_DATE)
DEBOUNCE_MS = 250


def label(text: str, role: str) -> QLabel:
    """A label styled by the theme's ``role`` property (``title``, ``muted``, ``error``)."""
    widget = QLabel(text)
    widget.setProperty("role", role)
    return widget


def error_label() -> QLabel:
    """An empty, wrapping error line under a field or a form, filled when a save is refused."""
    widget = label("", "error")
    widget.setWordWrap(True)
    return widget


def date_edits() -> tuple[QDateEdit, QDateEdit]:
    """A from/to pair of ISO date fields with a calendar popup, none before 2000-01-01."""
    edits = (QDateEdit(), QDateEdit())
    for edit in edits:
        edit.setCalendarPopup(True)
        edit.setDisplayFormat("yyyy-MM-dd")
        edit.setMinimumDate(MIN_DATE)
    return edits


def dialog_buttons(
    dialog: QDialog,
    ok: QDialogButtonBox.StandardButton,
    accepted: Callable[[], object],
    ok_text: str | None = None,
) -> QDialogButtonBox:
    """``ok`` and Cancel wired to ``accepted`` and ``dialog.reject``: how every form dialog ends."""
    buttons = QDialogButtonBox(ok | QDialogButtonBox.StandardButton.Cancel)
    if ok_text is not None:
        buttons.button(ok).setText(ok_text)
    buttons.accepted.connect(accepted)
    buttons.rejected.connect(dialog.reject)
    return buttons


def show_error(exc: DeskOpsError, errors: Mapping[str, QLabel], general: QLabel) -> list[str]:
    """Each problem under its field, the rest in ``general``; returns the fields (to mark)."""
    problems = exc.problems if isinstance(exc, ValidationError) else ()
    if not problems:
        general.setText(str(exc))
        return []
    shown: list[str] = []
    rest: list[str] = []
    for problem in problems:
        target = errors.get(problem.field)
        if target is None:
            rest.append(str(problem))
        else:
            target.setText(problem.message)
            shown.append(problem.field)
    general.setText("\n".join(rest))
    return shown


def header_row(left: Sequence[QWidget], right: Sequence[QWidget]) -> QHBoxLayout:
    """A page's top line: its title on the left, its actions pushed to the right."""
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def password_edit() -> QLineEdit:
    """A line edit that hides what is typed (every password and secret field)."""
    edit = QLineEdit()
    edit.setEchoMode(QLineEdit.EchoMode.Password)
    return edit


def active_check(checked: bool) -> QCheckBox:
    """The "Active" box of an edit form, set as the item is now."""
    box = QCheckBox("Active")
    box.setChecked(checked)
    return box


def no_margins(layout: LayoutT, spacing: int | None = None) -> LayoutT:
    """``layout`` without margins (it sits in a box that has them), ``spacing`` between items."""
    layout.setContentsMargins(0, 0, 0, 0)
    if spacing is not None:
        layout.setSpacing(spacing)
    return layout


def row_table(headers: Sequence[str], *, single: bool = True) -> QTableWidget:
    """A read-only table picked by whole rows (one at a time when ``single``): every list's look."""
    table = QTableWidget(0, len(headers))
    table.setHorizontalHeaderLabels(list(headers))
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    if single:
        table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.verticalHeader().setVisible(False)
    return table


def search_edit(placeholder: str, width: int) -> QLineEdit:
    """A page's filter box: a hint, a clear button, no wider than ``width`` pixels."""
    edit = QLineEdit()
    edit.setPlaceholderText(placeholder)
    edit.setClearButtonEnabled(True)
    edit.setMaximumWidth(width)
    return edit


def debounce(parent: QObject, ms: int = DEBOUNCE_MS) -> QTimer:
    """A single-shot timer: typing restarts it, the reload runs once the clerk pauses."""
    timer = QTimer(parent)
    timer.setSingleShot(True)
    timer.setInterval(ms)
    return timer
