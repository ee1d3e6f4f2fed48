"""The entry form of a module page, built from the module's ``FieldSpec``s.

Keyboard-first: Tab walks the fields in order, Enter saves, Esc clears, and after a save the
cursor returns to the first field (the date keeps its value so the next line is typed at once).
The form never validates on its own: it hands raw text to the service, which applies the same
rules as imports and the CLI, and shows every returned problem next to its field together.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent, QResizeEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.display import unit_symbol
from deskops_desktop.models.enums import (
    FATE_HINTS,
    FATE_NAMES,
    OPERATION_NAMES,
    AdjustmentReason,
    EquipmentStatus,
    Fate,
    Operation,
    Shift,
)
from deskops_desktop.models.errors import Problem
from deskops_desktop.models.lookup import Choice
from deskops_desktop.models.modules import FieldSpec, Kind, ModuleSpec, ReferenceIndex
from deskops_desktop.views.search_combo import SearchCombo
from deskops_desktop.views.widgets import error_label, no_margins

_NUMERIC = {Kind.QUANTITY, Kind.SIGNED_QUANTITY, Kind.HOURS, Kind.COUNT, Kind.HEADCOUNT, Kind.TRIPS}
_CHOICES: dict[Kind, list[tuple[str, str]]] = {
    Kind.SHIFT: [(s.value, s.value.title()) for s in Shift],
    Kind.STATUS: [(s.value, s.value.title()) for s in EquipmentStatus],
    Kind.REASON: [(r.value, r.value.replace("_", " ").title()) for r in AdjustmentReason],
    Kind.FATE: [(f.value, FATE_NAMES[f]) for f in Fate],
}
_REFERENCE = {Kind.MATERIAL, Kind.EQUIPMENT, Kind.ROLE}
FIELDS_PER_ROW = 6  # at most, on a wide screen
MIN_FIELDS_PER_ROW = 3
FIELD_WIDTH = 215  # what "CRU-PRO – Crushing – Production" needs to show whole


def current_shift(now: datetime) -> str:
    """MORNING 06–14, AFTERNOON 14–22, NIGHT 22–06 (8 h each)."""
    if 6 <= now.hour < 14:
        return Shift.MORNING.value
    if 14 <= now.hour < 22:
        return Shift.AFTERNOON.value
    return Shift.NIGHT.value


class RecordForm(QWidget):
    """Signals:
    save_requested(dict): the raw values, keyed by ``FieldSpec.key``.
    cleared(): the form was reset (Esc or after a save).
    """

    save_requested = Signal(dict)
    cleared = Signal()

    def __init__(
        self, spec: ModuleSpec, refs: ReferenceIndex, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.spec = spec
        self._refs = refs
        self._inputs: dict[str, QWidget] = {}
        self._errors: dict[str, QLabel] = {}
        self._unit_label: QLabel | None = None
        self._today = today  # the site's date from the app's clock; ``set_defaults`` moves it
        self._default_shift = ""
        self.editing: Any = None  # the RecordRow being edited, or None for a new record
        self._grid = QGridLayout(self)
        self._grid.setContentsMargins(0, 0, 0, 0)
        self._grid.setHorizontalSpacing(10)
        self._grid.setVerticalSpacing(2)
        # (label, cell, error) per field, in form order; ``_place`` puts them on the grid.
        self._cells: list[tuple[FieldSpec, QLabel, QWidget, QLabel]] = []
        for field in spec.fields:
            label = QLabel(field.label + (" *" if field.required else ""))
            label.setProperty("role", "muted")
            widget = self._make_input(field)
            widget.setObjectName(f"field_{field.key}")
            widget.setAccessibleName(field.label)
            label.setBuddy(widget)
            cell: QWidget = widget
            if field.kind in _NUMERIC:
                cell = QWidget()
                row = no_margins(QHBoxLayout(cell), 4)
                row.addWidget(widget)
                unit = QLabel(self._unit_for(field.kind))
                unit.setProperty("role", "unit")
                row.addWidget(unit)
                if field.kind in (Kind.QUANTITY, Kind.SIGNED_QUANTITY):
                    self._unit_label = unit
            error = error_label()
            error.setObjectName(f"error_{field.key}")
            error.hide()  # takes a line only when it has something to say
            self._inputs[field.key] = widget
            self._errors[field.key] = error
            self._cells.append((field, label, cell, error))
        self.save_button = QPushButton("Save")
        self.save_button.setProperty("role", "primary")
        self.save_button.setToolTip("Save (Enter)")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Clear the form (Esc)")
        # Save above Clear, in one column: the fields keep the width a long code needs.
        self._buttons = QWidget()
        stack = no_margins(QVBoxLayout(self._buttons), 4)
        stack.addWidget(self.save_button)
        stack.addWidget(self.clear_button)
        stack.addStretch(1)
        self.general_error = error_label()
        self.general_error.hide()
        self.per_row = 0
        self._place(FIELDS_PER_ROW)
        self._connect_signals()
        for widget in self._inputs.values():
            widget.installEventFilter(self)
        self.clear()

    # ------------------------------------------------------------- layout
    def _place(self, per_row: int) -> None:
        """Lay the fields out ``per_row`` to a band (label, input, error line); the notes take
        the rest of their band. Re-run when the width changes (``resizeEvent``), so no field is
        squeezed until its text is clipped on a 1366-pixel screen, and none sprawls on 1920."""
        if per_row == self.per_row:
            return
        self.per_row = per_row
        grid = self._grid
        while grid.count():
            grid.takeAt(0)
        for col in range(grid.columnCount()):
            grid.setColumnStretch(col, 0)
        band = col = 0
        for field, label, cell, error in self._cells:
            if col == per_row:
                band, col = band + 1, 0
            span = per_row - col if field.key == "notes" else 1
            base = band * 3
            grid.addWidget(label, base, col)
            grid.addWidget(cell, base + 1, col, 1, span)
            grid.addWidget(error, base + 2, col, 1, span, Qt.AlignmentFlag.AlignTop)
            col += span
        for c in range(per_row):
            grid.setColumnStretch(c, 1)
        grid.addWidget(self._buttons, 1, per_row, 4, 1, Qt.AlignmentFlag.AlignTop)
        grid.addWidget(self.general_error, band * 3 + 3, 0, 1, per_row + 1)

    def resizeEvent(self, event: QResizeEvent) -> None:
        buttons = max(self.save_button.sizeHint().width(), self.clear_button.sizeHint().width())
        room = max(event.size().width() - buttons - 20, 0)
        self._place(max(MIN_FIELDS_PER_ROW, min(FIELDS_PER_ROW, room // FIELD_WIDTH)))
        super().resizeEvent(event)

    # ------------------------------------------------------------- building
    def _make_input(self, field: FieldSpec) -> QWidget:
        kind = field.kind
        if kind is Kind.DATE:
            edit = QDateEdit()
            edit.setCalendarPopup(True)
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setMinimumDate(QDate(2000, 1, 1))
            return edit
        if kind in _REFERENCE or kind is Kind.OPERATION:
            search = SearchCombo(self._choices_for(field))
            search.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            search.setMinimumContentsLength(14)
            search.view().setMinimumWidth(280)
            return search
        if kind in _CHOICES:
            combo = QComboBox()
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            combo.view().setMinimumWidth(120)
            combo.addItem("", "")
            for value, text in _CHOICES[kind]:
                combo.addItem(text, value)
                if kind is Kind.FATE:
                    combo.setItemData(
                        combo.count() - 1, FATE_HINTS[Fate(value)], Qt.ItemDataRole.ToolTipRole
                    )
            return combo
        line = QLineEdit()
        line.setMinimumWidth(110)
        if kind in _NUMERIC:
            line.setAlignment(Qt.AlignmentFlag.AlignRight)
            line.setMinimumWidth(90)
            line.setMaximumWidth(120)
            line.setPlaceholderText(
                "0.000" if kind in (Kind.QUANTITY, Kind.SIGNED_QUANTITY) else "0"
            )
        return line

    def _choices_for(self, field: FieldSpec) -> list[Choice]:
        """What a type-to-search field offers: active references (of the field's category,
        e.g. raw feed for a feed record) or the operations."""
        if field.kind is Kind.OPERATION:
            return [Choice(op.value, OPERATION_NAMES[op]) for op in Operation]
        return [
            Choice(item.code, item.name)
            for item in self._refs.items(field.kind)
            if item.active and field.category in (None, item.category)
        ]

    def _unit_for(self, kind: Kind) -> str:
        if kind is Kind.HOURS:
            return "h"
        if kind in (Kind.COUNT, Kind.HEADCOUNT):
            return "units" if kind is Kind.COUNT else "people"
        if kind is Kind.TRIPS:
            return "trips"
        return ""

    def _connect_signals(self) -> None:
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.clear_button.clicked.connect(self.clear)
        if "material" in self._inputs:
            combo = self._inputs["material"]
            assert isinstance(combo, QComboBox)
            combo.currentTextChanged.connect(self._on_material_text_changed)

    # ---------------------------------------------------------------- state
    def set_defaults(self, today: date, shift: str) -> None:
        """The site's today and current shift, used when the form is cleared."""
        self._today = today
        self._default_shift = shift
        date_edit = self._inputs.get("date")
        if isinstance(date_edit, QDateEdit):
            date_edit.setMaximumDate(QDate(today.year, today.month, today.day))
        if self.editing is None:
            self.clear()

    def set_references(self, refs: ReferenceIndex) -> None:
        """Master data changed: the search fields offer the new lists (the typed value stays)."""
        self._refs = refs
        for field in self.spec.fields:
            widget = self._inputs[field.key]
            if isinstance(widget, SearchCombo) and field.kind in _REFERENCE:
                widget.set_choices(self._choices_for(field))

    def values(self) -> dict[str, object]:
        out: dict[str, object] = {}
        for field in self.spec.fields:
            widget = self._inputs[field.key]
            if isinstance(widget, QDateEdit):
                qd = widget.date()
                out[field.key] = date(qd.year(), qd.month(), qd.day()).isoformat()
            elif isinstance(widget, SearchCombo):
                out[field.key] = widget.code()
            elif isinstance(widget, QComboBox):
                out[field.key] = widget.currentData() or ""
            elif isinstance(widget, QLineEdit):
                out[field.key] = widget.text()
        return out

    def set_values(self, values: dict[str, Any]) -> None:
        """Show ``values`` (keys are ``FieldSpec.key``); fields not named keep what they hold."""
        for field in self.spec.fields:
            if field.key not in values:
                continue
            widget = self._inputs[field.key]
            value = values.get(field.key)
            if isinstance(widget, QDateEdit) and isinstance(value, date):
                widget.setDate(QDate(value.year, value.month, value.day))
            elif isinstance(widget, SearchCombo):
                widget.set_code(str(value or ""))
            elif isinstance(widget, QComboBox):
                index = widget.findData(value or "")
                widget.setCurrentIndex(max(index, 0))
            elif isinstance(widget, QLineEdit):
                widget.setText("" if value is None else str(value))

    def edit(self, row: Any) -> None:
        """Load an existing record for editing (Save then updates it)."""
        self.clear_errors()
        self.editing = row
        self.set_values(dict(row.values))
        self.save_button.setText("Update")
        self.focus_first()

    def clear(self) -> None:
        self.editing = None
        self.save_button.setText("Save")
        for field in self.spec.fields:
            widget = self._inputs[field.key]
            if isinstance(widget, QDateEdit):
                day = self._today
                widget.setDate(QDate(day.year, day.month, day.day))
            elif isinstance(widget, SearchCombo):
                if field.kind is Kind.OPERATION and field.required:
                    widget.set_code(Operation.CRU_PRO.value)  # the usual production line
                else:
                    widget.set_code("")
            elif isinstance(widget, QComboBox):
                if field.kind is Kind.SHIFT:
                    widget.setCurrentIndex(max(widget.findData(self._default_shift), 0))
                elif field.required:
                    widget.setCurrentIndex(1)
                else:
                    widget.setCurrentIndex(0)
            elif isinstance(widget, QLineEdit):
                widget.clear()
        self.clear_errors()
        self.cleared.emit()

    def reset_after_save(self) -> None:
        """Keep date, shift and operation (the next line usually shares them); clear the rest."""
        kept = {k: v for k, v in self.values().items() if k in ("date", "shift", "operation")}
        self.clear()  # every other field back to its default (a dispatch's fate: Sale)
        self.set_values(_typed(kept))
        self.focus_first()

    def focus_first(self) -> None:
        # The date is usually right already; start at the first field a clerk changes per line.
        keys = [f.key for f in self.spec.fields if f.kind is not Kind.DATE]
        target = self._inputs[keys[0]] if keys else next(iter(self._inputs.values()))
        target.setFocus(Qt.FocusReason.OtherFocusReason)
        if isinstance(target, QLineEdit):
            target.selectAll()

    def input(self, key: str) -> QWidget:
        return self._inputs[key]

    # ---------------------------------------------------------------- errors
    def show_problems(self, problems: tuple[Problem, ...] | list[Problem]) -> None:
        self.clear_errors()
        general: list[str] = []
        first_bad: QWidget | None = None
        for problem in problems:
            label = self._errors.get(problem.field)
            if label is None:
                general.append(str(problem))
                continue
            message = self._explained(problem)
            text = label.text()
            label.setText(f"{text}\n{message}" if text else message)
            label.show()
            widget = self._inputs[problem.field]
            widget.setProperty("invalid", True)
            widget.style().unpolish(widget)
            widget.style().polish(widget)
            widget.setToolTip(problem.message)
            first_bad = first_bad or widget
        self._set_general("\n".join(general))
        if first_bad is not None:
            first_bad.setFocus(Qt.FocusReason.OtherFocusReason)

    def _explained(self, problem: Problem) -> str:
        """A search field's "unknown code" as what the text matched: the candidates to pick
        from, or that nothing matched."""
        widget = self._inputs.get(problem.field)
        if not isinstance(widget, SearchCombo) or not problem.message.startswith("unknown"):
            return problem.message
        found = widget.resolution()
        if not found.ambiguous:
            return problem.message  # "unknown material code 'NOPE'" says it best
        field = next(f for f in self.spec.fields if f.key == problem.field)
        return found.message(field.kind.value)

    def show_message(self, message: str) -> None:
        self.clear_errors()
        self._set_general(message)

    def clear_errors(self) -> None:
        for key, label in self._errors.items():
            label.setText("")
            label.hide()
            widget = self._inputs[key]
            if widget.property("invalid"):
                widget.setProperty("invalid", False)
                widget.style().unpolish(widget)
                widget.style().polish(widget)
            widget.setToolTip("")
        self._set_general("")

    def _set_general(self, text: str) -> None:
        self.general_error.setText(text)
        self.general_error.setVisible(bool(text))

    def error_text(self, key: str) -> str:
        return self._errors[key].text()

    # ---------------------------------------------------------------- events
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            key = event.key()
            view = watched.view() if isinstance(watched, QComboBox) else None
            popup_open = view is not None and view.isVisible()
            completer = watched.completer() if isinstance(watched, QComboBox) else None
            popup = completer.popup() if completer is not None else None
            completing = popup is not None and popup.isVisible()
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and not popup_open and not completing:
                self._on_save_button_clicked()
                return True
            if key == Qt.Key.Key_Escape and not popup_open and not completing:
                self.clear()
                self.focus_first()
                return True
        return super().eventFilter(watched, event)

    def _on_save_button_clicked(self) -> None:
        self.save_requested.emit(self.values())

    def _on_material_text_changed(self, _text: str) -> None:
        if self._unit_label is None:
            return
        combo = self._inputs["material"]
        code = combo.code() if isinstance(combo, SearchCombo) else ""
        item = self._refs.by_code(Kind.MATERIAL, code) if code else None
        self._unit_label.setText(unit_symbol(item.uom) if item else "")


def _typed(values: dict[str, object]) -> dict[str, Any]:
    out: dict[str, Any] = dict(values)
    if isinstance(out.get("date"), str):
        out["date"] = date.fromisoformat(str(out["date"]))
    return out
