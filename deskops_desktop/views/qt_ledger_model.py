"""The inventory table: ledger rows with level colours, in-model sorting and 50-row pages.

All rows of the current filter live in the model as plain ``LedgerRow`` values (a site's three
years are ~18,000 rows); sorting is a Python sort over them and a page is a slice, so neither
touches the store. ``data()`` only formats.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from deskops_desktop.models.display import summary_milli, unit_symbol
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.ledger import LedgerRow, LedgerTotal
from deskops_desktop.views.theme import LEVEL_COLORS, LEVEL_TEXT, tabular_font

PAGE_ROWS = 50
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
_Index = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class LedgerColumn:
    """One column of the ledger table: header, how to read it from a row, how to sort it."""

    header: str
    key: Callable[[LedgerRow], Any]
    numeric: bool = False


COLUMNS: tuple[LedgerColumn, ...] = (
    LedgerColumn("Date", lambda r: r.day),
    LedgerColumn("Material", lambda r: (r.material.sort_order, r.material.code)),
    LedgerColumn("Opening", lambda r: r.opening_m, True),
    LedgerColumn("Produced", lambda r: r.produced_m, True),
    LedgerColumn("Received", lambda r: r.received_m, True),
    LedgerColumn("Dispatched", lambda r: r.dispatched_m, True),
    LedgerColumn("Fed", lambda r: r.fed_m, True),
    LedgerColumn("Adjustment", lambda r: r.adjustment_m, True),
    LedgerColumn("Closing", lambda r: r.closing_m, True),
    LedgerColumn("Level", lambda r: r.level.value),
)
CLOSING_COLUMN = 8
LEVEL_COLUMN = 9


def explain(row: LedgerRow) -> str:
    """The closing as a sum a supervisor can check by hand (exact, 3 dp)."""
    unit = unit_symbol(row.material.uom)

    def q(value: int) -> str:
        return "0" if value == 0 else f"{from_milli(value)}"

    return (
        f"opening {q(row.opening_m)} + produced {q(row.produced_m)} + received {q(row.received_m)}"
        f" − dispatched {q(row.dispatched_m)} − fed {q(row.fed_m)}"
        f" + adjustment {q(row.adjustment_m)}"
        f" = {from_milli(row.closing_m)} {unit}"
    )


class LedgerTableModel(QAbstractTableModel):
    """The ledger rows of the inventory page as a Qt table model, paged in memory 50 at a time,
    sorted on precomputed keys; closing cells coloured by level.
    """

    def __init__(self) -> None:
        super().__init__()
        self._all: list[LedgerRow] = []
        self._page = 0
        self._font = tabular_font()
        self._level_brushes = {k: QBrush(QColor(v)) for k, v in LEVEL_COLORS.items()}
        self._level_text = QBrush(QColor(LEVEL_TEXT))
        self.sort_column = 0
        self.sort_order = Qt.SortOrder.AscendingOrder

    # -------------------------------------------------------------- content
    def set_rows(self, rows: Sequence[LedgerRow]) -> None:
        self.beginResetModel()
        self._all = list(rows)
        self._apply_sort()
        self._page = 0
        self.endResetModel()

    @property
    def total(self) -> int:
        return len(self._all)

    @property
    def page(self) -> int:
        return self._page

    @property
    def page_count(self) -> int:
        return max(1, -(-len(self._all) // PAGE_ROWS))

    def set_page(self, page: int) -> None:
        page = max(0, min(page, self.page_count - 1))
        if page != self._page:
            self.beginResetModel()
            self._page = page
            self.endResetModel()

    def page_label(self) -> str:
        if not self._all:
            return "No rows"
        first = self._page * PAGE_ROWS + 1
        last = min(first + PAGE_ROWS - 1, len(self._all))
        return f"Rows {first:,}–{last:,} of {len(self._all):,}"

    def _rows(self) -> list[LedgerRow]:
        start = self._page * PAGE_ROWS
        return self._all[start : start + PAGE_ROWS]

    def row_at(self, row: int) -> LedgerRow:
        return self._rows()[row]

    # ------------------------------------------------------------ Qt model API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows())

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return COLUMNS[section].header
        if role == Qt.ItemDataRole.TextAlignmentRole and COLUMNS[section].numeric:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        rows = self._rows()
        if not 0 <= index.row() < len(rows):
            return None
        row, col = rows[index.row()], index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, col)
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = (
                Qt.AlignmentFlag.AlignRight if COLUMNS[col].numeric else Qt.AlignmentFlag.AlignLeft
            )
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and COLUMNS[col].numeric:
            return self._font
        if role == Qt.ItemDataRole.BackgroundRole and col in (CLOSING_COLUMN, LEVEL_COLUMN):
            return self._level_brushes[row.level.value]
        if role == Qt.ItemDataRole.ForegroundRole and col in (CLOSING_COLUMN, LEVEL_COLUMN):
            return self._level_text
        if role == Qt.ItemDataRole.ToolTipRole and col == CLOSING_COLUMN:
            return explain(row)
        if role == ROW_ROLE:
            return row
        return None

    def _display(self, row: LedgerRow, col: int) -> str:
        uom = row.material.uom
        if col == 0:
            return (
                row.day.isoformat()
                if row.day == row.period_end
                else f"{row.day} – {row.period_end}"
            )
        if col == 1:
            return row.material.label
        if col == LEVEL_COLUMN:
            return row.level.value
        return summary_milli(row.milli_values()[col - 2], uom)

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        self.beginResetModel()
        self.sort_column, self.sort_order = column, order
        self._apply_sort()
        self._page = 0
        self.endResetModel()

    def _apply_sort(self) -> None:
        key = COLUMNS[self.sort_column].key
        tie = COLUMNS[1].key
        if self.sort_column == 0:
            self._all.sort(
                key=lambda r: (r.day, tie(r)),
                reverse=self.sort_order == Qt.SortOrder.DescendingOrder,
            )
        else:
            # Python's sort is stable: sort by the tie-breaker first, then by the column.
            self._all.sort(key=lambda r: (r.day, tie(r)))
            self._all.sort(key=key, reverse=self.sort_order == Qt.SortOrder.DescendingOrder)


def total_cells(total: LedgerTotal) -> list[str]:
    return [summary_milli(v, total.uom) for v in total.milli_values()]
