"""A small dialog of labelled fields that shows service problems next to each field.

Used by the Settings page for every master-data form, so each form is a list of fields plus the
service call that saves it — no per-form validation code in the view.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QWidget,
)

from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.views.widgets import (
    column,
    dialog_buttons,
    error_label,
    field_box,
    show_error,
)


def widget_value(widget: QWidget) -> Any:
    if isinstance(widget, QLineEdit):
        return widget.text()
    if isinstance(widget, QComboBox):
        data = widget.currentData()
        return data if data is not None else widget.currentText()
    if isinstance(widget, QCheckBox):
        return widget.isChecked()
    if isinstance(widget, QListWidget):
        return [
            widget.item(i).data(Qt.ItemDataRole.UserRole)
            for i in range(widget.count())
            if widget.item(i).checkState() == Qt.CheckState.Checked
        ]
    raise TypeError(type(widget))


def combo(options: Sequence[tuple[str, Any]], current: Any = None) -> QComboBox:
    box = QComboBox()
    for text, value in options:
        box.addItem(text, value)
    if current is not None:
        box.setCurrentIndex(max(box.findData(current), 0))
    return box


def checklist(options: Sequence[tuple[str, Any]], checked: Sequence[Any]) -> QListWidget:
    widget = QListWidget()
    for text, value in options:
        item = QListWidgetItem(text)
        item.setData(Qt.ItemDataRole.UserRole, value)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        item.setCheckState(Qt.CheckState.Checked if value in checked else Qt.CheckState.Unchecked)
        widget.addItem(item)
    widget.setMaximumHeight(120)
    return widget


class FormDialog(QDialog):
    """A small form for an admin action (add a site, a user…): every problem next to its field."""

    def __init__(
        self,
        title: str,
        fields: Sequence[tuple[str, str, QWidget]],
        submit: Callable[[dict[str, Any]], object],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self._submit = submit
        self.inputs: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label, widget in fields:
            error = QLabel("")
            error.setProperty("role", "error")
            form.addRow(label, field_box(widget, error))
            self.inputs[key] = widget
            self.errors[key] = error
        self.general = error_label()
        buttons = dialog_buttons(self, QDialogButtonBox.StandardButton.Save, self.try_submit)
        column(self, [form, self.general, buttons])
        self.setMinimumWidth(420)

    def values(self) -> dict[str, Any]:
        return {key: widget_value(widget) for key, widget in self.inputs.items()}

    def try_submit(self) -> bool:
        for label in self.errors.values():
            label.setText("")
        self.general.setText("")
        try:
            self._submit(self.values())
        except DeskOpsError as exc:
            show_error(exc, self.errors, self.general)
            return False
        self.accept()
        return True
