"""Small widget factories every page uses the same way (one look, one behaviour).

A page's ``__init__`` builds its layout from these instead of repeating the same five lines:
a title, a muted hint, a pair of date fields, a debounce timer for a search box, a form's rows,
a dialog's column of parts, a row of buttons, a table's column widths.
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
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLayout,
    QLineEdit,
    QPushButton,
    QTableWidget,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.errors import DeskOpsError, ValidationError
from deskops_desktop.views.theme import tabular_font

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


def figure_label(scale: float) -> QLabel:
    """A card's big number: bold, ``scale`` times the normal size, digits of equal width.

    It shows "—" until the first figure arrives, so an empty card never looks like a zero.
    """
    widget = QLabel("—")
    font = tabular_font(widget.font())
    font.setPointSizeF(font.pointSizeF() * scale)
    font.setBold(True)
    widget.setFont(font)
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


def header_row(left: Sequence[QWidget], right: Sequence[QWidget] = ()) -> QHBoxLayout:
    """A line of widgets: ``left`` packed at the start, ``right`` pushed to the end.

    A page's top line (its title, its actions) and a table's row of buttons look alike this way.
    """
    row = QHBoxLayout()
    for widget in left:
        row.addWidget(widget)
    row.addStretch(1)
    for widget in right:
        row.addWidget(widget)
    return row


def action_buttons(actions: Sequence[tuple[str, Callable[[], object]]]) -> dict[str, QPushButton]:
    """A push button per ``(text, slot)``, keyed by its text (to enable it, or click it in tests).

    The slot is called without the ``checked`` flag ``clicked`` carries, so any plain method fits.
    """
    buttons: dict[str, QPushButton] = {}
    for text, slot in actions:
        button = QPushButton(text)
        button.clicked.connect(lambda _checked=False, s=slot: s())
        buttons[text] = button
    return buttons


def form_rows(rows: Sequence[tuple[str, QWidget]], parent: QWidget | None = None) -> QFormLayout:
    """A form of labelled rows, in order (on ``parent`` when given, else for a dialog's column)."""
    form = QFormLayout(parent)
    for text, field in rows:
        form.addRow(text, field)
    return form


def column(owner: QWidget, parts: Sequence[QWidget | QLayout]) -> QVBoxLayout:
    """``owner``'s layout: ``parts`` top to bottom (a dialog's form, error line and buttons)."""
    layout = QVBoxLayout(owner)
    for part in parts:
        if isinstance(part, QLayout):
            layout.addLayout(part)
        else:
            layout.addWidget(part)
    return layout


def field_box(field: QWidget | QLayout, error: QLabel) -> QWidget:
    """A form's field with its error line right under it (filled when a save is refused)."""
    box = QWidget()
    inner = no_margins(QVBoxLayout(box), 1)
    if isinstance(field, QLayout):
        inner.addLayout(field)
    else:
        inner.addWidget(field)
    inner.addWidget(error)
    return box


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


def fit_columns(table: QTableWidget, stretch: int | None = None) -> None:
    """Every column as wide as its contents; column ``stretch`` takes the room left over.

    Without ``stretch`` the last column fills the rest (and keeps its contents' width at least).
    """
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    if stretch is None:
        header.setStretchLastSection(True)
    else:
        header.setSectionResizeMode(stretch, QHeaderView.ResizeMode.Stretch)


def select_row(table: QTableWidget, keys: Sequence[object], key: object) -> None:
    """Select the row whose key is ``key`` (after a reload, so the clerk keeps their place)."""
    if key in keys:
        table.selectRow(list(keys).index(key))


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
