"""Stock count: the supervisor types what was counted; the app shows the difference to the book
and saves that difference as an adjustment with a reason (DOMAIN.md, inventory adjustment)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QWidget,
)

from deskops_desktop.models import validation as v
from deskops_desktop.models.display import unit_symbol
from deskops_desktop.models.enums import AdjustmentReason, Module
from deskops_desktop.models.errors import DeskOpsError, ValidationError
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.theme import tabular_font
from deskops_desktop.views.widgets import column, dialog_buttons, error_label


class StockCountDialog(QDialog):
    """A stock count: the book closing, what was counted, the difference saved as an adjustment."""

    def __init__(
        self,
        data: DataGateway,
        site: SiteInfo,
        materials: list[RefItem],
        book: Callable[[str, date], int],
        parent: QWidget | None = None,
    ) -> None:
        """``book(material_id, day)`` returns the book closing in thousandths."""
        super().__init__(parent)
        self.setWindowTitle(f"Stock count — {site.code}")
        self._data = data
        self._site = site
        self._book = book
        self.saved_quantity: str | None = None
        self.material = QComboBox()
        for item in materials:
            self.material.addItem(item.label, item)
        self.day = QDateEdit()
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("yyyy-MM-dd")
        today = data.clock.today(site.timezone)
        self.day.setMaximumDate(QDate(today.year, today.month, today.day))
        self.day.setDate(QDate(today.year, today.month, today.day))
        self.counted = QLineEdit()
        self.counted.setPlaceholderText("what was counted on site")
        self.book_label = QLabel()
        self.diff_label = QLabel()
        for label in (self.book_label, self.diff_label):
            label.setFont(tabular_font(label.font()))
        self.reason = QComboBox()
        for reason in AdjustmentReason:
            self.reason.addItem(reason.value.replace("_", " ").title(), reason.value)
        self.reason.setCurrentIndex(self.reason.findData(AdjustmentReason.STOCK_COUNT.value))
        self.notes = QLineEdit()
        self.error = error_label()
        form = QFormLayout()
        form.addRow("Material", self.material)
        form.addRow("Date", self.day)
        form.addRow("Book closing", self.book_label)
        form.addRow("Counted", self.counted)
        form.addRow("Difference", self.diff_label)
        form.addRow("Reason", self.reason)
        form.addRow("Notes", self.notes)
        self.buttons = dialog_buttons(self, QDialogButtonBox.StandardButton.Save, self.save)
        column(self, [form, self.error, self.buttons])
        self.material.currentIndexChanged.connect(self._update)
        self.day.dateChanged.connect(self._update)
        self.counted.textChanged.connect(self._update)
        self._update()

    def _selected(self) -> tuple[RefItem, date]:
        item = self.material.currentData()
        qd = self.day.date()
        return item, date(qd.year(), qd.month(), qd.day())

    def difference(self) -> int | None:
        """Counted minus book, in thousandths; None while the count is not a valid quantity."""
        item, day = self._selected()
        try:
            counted = v.parse_decimal(self.counted.text())
        except v.FieldError:
            return None
        if counted < 0 or counted != counted.quantize(from_milli(1)):
            return None
        return int(counted * 1000) - self._book(item.id, day)

    def _update(self) -> None:
        item, day = self._selected()
        unit = unit_symbol(item.uom)
        self.book_label.setText(f"{from_milli(self._book(item.id, day))} {unit}")
        diff = self.difference()
        if diff is None:
            self.diff_label.setText("—")
        else:
            sign = "+" if diff > 0 else ""
            self.diff_label.setText(
                f"{sign}{from_milli(diff)} {unit}" + ("  (matches the book)" if diff == 0 else "")
            )

    def save(self) -> bool:
        self.error.setText("")
        item, day = self._selected()
        diff = self.difference()
        if diff is None:
            self.error.setText(
                "Counted: enter the counted quantity (0 or more, at most 3 decimals)"
            )
            return False
        if diff == 0:
            self.error.setText("The count matches the book: there is nothing to adjust")
            return False
        quantity = str(from_milli(diff))
        site_id = self._site.id
        raw = {
            "date": day,
            "material": item.code,
            "quantity": quantity,
            "reason": self.reason.currentData(),
            "notes": self.notes.text(),
        }
        try:
            self._data.write(lambda s, a: s.records.create(a, Module.ADJUSTMENTS, site_id, raw))
        except ValidationError as exc:
            self.error.setText("\n".join(str(p) for p in exc.problems))
            return False
        except DeskOpsError as exc:
            self.error.setText(str(exc))
            return False
        self.saved_quantity = quantity
        self.accept()
        return True
