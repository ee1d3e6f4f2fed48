"""Your values next to the record as it is now, after a save was refused as stale.

Someone changed the record after it was loaded into the form (``StaleRecordError``). Reloading
throws the clerk's typing away; saving blindly would throw the other person's change away. This
dialog shows both side by side, differences marked, and lets the clerk choose: take the current
record into the form, or keep their own values — now based on the current version, so the next
Save replaces the other change knowingly instead of silently.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal, InvalidOperation

from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.modules import ModuleSpec
from deskops_desktop.services.records import RecordRow

RELOAD = 1
KEEP_MINE = 2


def as_text(value: object) -> str:
    """A value as the form would show it (dates ISO, decimals without trailing zeros)."""
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        text = format(value.normalize(), "f")
        return text
    return str(value).strip()


def same(mine: object, current: object) -> bool:
    a, b = as_text(mine), as_text(current)
    if a == b:
        return True
    try:
        return Decimal(a) == Decimal(b)
    except (InvalidOperation, ValueError):
        return a.casefold() == b.casefold()


def differences(
    spec: ModuleSpec, mine: Mapping[str, object], current: RecordRow
) -> list[tuple[str, str, str, bool]]:
    """(label, your value, current value, differs) for every field of the form."""
    rows = []
    for field in spec.fields:
        a, b = mine.get(field.key), current.values.get(field.key)
        rows.append((field.label, as_text(a), as_text(b), not same(a, b)))
    return rows


Row = tuple[str, str, str, bool]
"""(label, left value, right value, differs): one line of the comparison."""


class CompareDialog(QDialog):
    """Two versions of one record side by side, differences marked; the clerk picks one.

    Result: ``RELOAD`` (the right-hand, current version), ``KEEP_MINE`` (the left-hand one), or
    0 when closed (nothing changes). ``stale_record`` builds it for a save refused as stale; the
    sync tab builds it for a conflict or held record (a moderator's decision).
    """

    @classmethod
    def stale_record(
        cls,
        spec: ModuleSpec,
        mine: Mapping[str, object],
        current: RecordRow,
        who: str = "",
        parent: QWidget | None = None,
    ) -> CompareDialog:
        """The clerk's unsaved values (left) beside the record as it is now (right)."""
        return cls(
            f"Compare — {spec.title.lower()} {current.ref_code} {current.date}",
            f"This record was {who}." if who else "",
            differences(spec, mine, current),
            ("Your values", "Current values"),
            ("Use current values", "Keep my values"),
            "Save again to replace the current values with yours",
            parent,
        )

    def __init__(
        self,
        title: str,
        who: str,
        rows: list[Row],
        sides: tuple[str, str],
        choices: tuple[str, str],
        keep_tip: str = "",
        parent: QWidget | None = None,
    ) -> None:
        """``sides``: the left and right column titles; ``choices``: the buttons that keep the
        right-hand (``RELOAD``) and the left-hand (``KEEP_MINE``) version."""
        super().__init__(parent)
        self.setWindowTitle(title)
        self.rows = rows
        changed = sum(1 for *_, differs in self.rows if differs)
        intro = QLabel(
            (f"{who}\n" if who else "")
            + (
                f"{changed} field{'s' if changed != 1 else ''} differ — the marked rows."
                if changed
                else "The two versions hold the same values."
            )
        )
        intro.setWordWrap(True)
        self.table = QTableWidget(len(self.rows), 3)
        self.table.setHorizontalHeaderLabels(["Field", *sides])
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        bold = QFont()
        bold.setBold(True)
        marked = QBrush(QColor(255, 214, 102, 110))
        for r, (label, a, b, differs) in enumerate(self.rows):
            for c, value in enumerate((label, a, b)):
                item = QTableWidgetItem(value)
                if differs:
                    item.setFont(bold)
                    item.setBackground(marked)
                    item.setToolTip("differs")
                self.table.setItem(r, c, item)
        buttons = QDialogButtonBox()
        self.reload_button = QPushButton(choices[0])
        self.keep_button = QPushButton(choices[1])
        if keep_tip:
            self.keep_button.setToolTip(keep_tip)
        buttons.addButton(self.reload_button, QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.addButton(self.keep_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.reload_button.clicked.connect(lambda: self.done(RELOAD))
        self.keep_button.clicked.connect(lambda: self.done(KEEP_MINE))
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table)
        layout.addWidget(buttons)
        # Every row in view without scrolling: the intro's lines, the header, the rows, buttons.
        self.resize(640, 150 + 32 * len(self.rows))
