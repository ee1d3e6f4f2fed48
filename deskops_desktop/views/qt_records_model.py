"""A thin Qt table model over a module's records, fetched in pages and sorted in SQL.

No SQL and no service call inside ``data()``: rows arrive through ``fetchMore`` (500 at a time,
from the data service) and sorting/filtering re-query the store, so 100,000+ rows stay smooth and
a sort answers in one indexed query instead of a Python proxy sort.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, TypeVar

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor

from deskops_desktop.models.enums import (
    FATE_NAMES,
    OPERATION_NAMES,
    Fate,
    MassDetermination,
    Module,
    Operation,
)
from deskops_desktop.models.modules import Kind, ModuleSpec
from deskops_desktop.services.changes import Area
from deskops_desktop.services.gateway import DataGateway, Op
from deskops_desktop.services.records import RecordRow
from deskops_desktop.views.theme import tabular_font

T = TypeVar("T")
ROW_ROLE = Qt.ItemDataRole.UserRole + 1
PAGE_SIZE = 500

_NUMERIC = {Kind.QUANTITY, Kind.SIGNED_QUANTITY, Kind.HOURS, Kind.COUNT, Kind.HEADCOUNT, Kind.TRIPS}
_Index = QModelIndex | QPersistentModelIndex

Fetch = Callable[[int, int, str, bool], list[RecordRow]]
Count = Callable[[], int]


def records_source(
    data: DataGateway, module: Module, site_id: str, start: date, end: date, search: str = ""
) -> tuple[Fetch, Count]:
    """A model's source over one module's records at a site (record pages and the ledger's).

    Both reads are cached under the module's area at the site, so a write there drops them.
    """
    area = Area.of(module)

    def read(op: Op[T], key: Hashable) -> T:
        return data.read(op, area=area, site_id=site_id, key=key)

    def fetch(offset: int, limit: int, sort: str, descending: bool) -> list[RecordRow]:
        return read(
            lambda s, a: s.records.list(
                a,
                module,
                site_id,
                start,
                end,
                search=search,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
            ),
            ("list", start, end, search, sort, descending, offset, limit),
        )

    def count() -> int:
        return read(
            lambda s, a: s.records.count(a, module, site_id, start, end, search=search),
            ("count", start, end, search),
        )

    return fetch, count


@dataclass(frozen=True)
class Column:
    """One column of the records table: its header, the value key and how to show it."""

    key: str  # FieldSpec.key, or "name" / "uom" for the extra display columns
    header: str
    kind: Kind | None
    sortable: bool = True


def columns_for(spec: ModuleSpec) -> list[Column]:
    """The fields in form order, the main reference's name after its code, the unit after the
    quantity and, for material records, their tons and how they were found."""
    cols: list[Column] = []
    main = spec.reference_field
    for field in spec.fields:
        cols.append(Column(field.key, field.label, field.kind))
        if field is main:
            cols.append(Column("name", "Name", None, sortable=False))
        if field.kind in (Kind.QUANTITY, Kind.SIGNED_QUANTITY):
            cols.append(Column("uom", "Unit", None, sortable=False))
            if main.kind is Kind.MATERIAL:
                cols.append(Column("tons", "Tons", Kind.QUANTITY, sortable=False))
                cols.append(Column("mass", "Mass", None, sortable=False))
    return cols


MASS_TEXT = {
    MassDetermination.WEIGHED: "weighed",
    MassDetermination.DEEMED: "deemed",
    MassDetermination.NO_FACTOR: "no factor",
}


def operation_name(code: str) -> str:
    try:
        return f"{code} – {OPERATION_NAMES[Operation(code)]}"
    except ValueError:
        return code


def format_value(kind: Kind | None, value: Any) -> str:
    if value is None or value == "":
        return ""
    if kind is Kind.FATE:
        try:
            return FATE_NAMES[Fate(value)]
        except ValueError:
            return str(value)
    if isinstance(value, Decimal):
        places = 2 if kind is Kind.HOURS else 3
        return f"{value:,.{places}f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


class RecordTableModel(QAbstractTableModel):
    """The records of a module page as a Qt table model: fetched 500 rows at a time, sorted and
    filtered in SQL by the page's ``fetch`` function; ``data()`` never touches the database.
    """

    def __init__(self, spec: ModuleSpec) -> None:
        super().__init__()
        self.spec = spec
        self.columns = columns_for(spec)
        self._rows: list[RecordRow] = []
        self._total = 0
        self._fetch: Fetch | None = None
        self._count: Count | None = None
        self._may_change: Callable[[RecordRow], bool] = lambda _row: True
        self.sort_key = "date"
        self.descending = True
        self._who: dict[str, str] | None = None
        self._font = tabular_font()
        self._muted = QBrush(QColor("#8a919c"))
        self._warning = QBrush(QColor("#c77700"))

    # ----------------------------------------------------------------- query
    def set_source(
        self, fetch: Fetch, count: Count, may_change: Callable[[RecordRow], bool]
    ) -> None:
        """New query (site, range or filter changed): drop rows and load the first page."""
        self._fetch = fetch
        self._count = count
        self._may_change = may_change
        self.reload()

    def reload(self) -> None:
        self.beginResetModel()
        self._rows = []
        self._total = self._count() if self._count else 0
        self.endResetModel()
        if self.canFetchMore(QModelIndex()):
            self.fetchMore(QModelIndex())

    @property
    def total(self) -> int:
        return self._total

    def row_at(self, row: int) -> RecordRow:
        return self._rows[row]

    def find_row(self, record_id: str) -> int:
        for i, r in enumerate(self._rows):
            if r.id == record_id:
                return i
        return -1

    # ------------------------------------------------------------ Qt model API
    def rowCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: _Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self.columns)

    def canFetchMore(self, parent: _Index) -> bool:
        return not parent.isValid() and len(self._rows) < self._total

    def fetchMore(self, parent: _Index) -> None:
        if parent.isValid() or self._fetch is None:
            return
        batch = self._fetch(len(self._rows), PAGE_SIZE, self.sort_key, self.descending)
        if not batch:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self.beginInsertRows(QModelIndex(), first, first + len(batch) - 1)
        self._rows.extend(batch)
        self.endInsertRows()

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation == Qt.Orientation.Horizontal and 0 <= section < len(self.columns):
            col = self.columns[section]
            if role == Qt.ItemDataRole.DisplayRole:
                return col.header
            if role == Qt.ItemDataRole.TextAlignmentRole and col.kind in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

    def data(self, index: _Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not (0 <= index.row() < len(self._rows)):
            return None
        row = self._rows[index.row()]
        col = self.columns[index.column()]
        if role == Qt.ItemDataRole.DisplayRole:
            if col.key == "name":
                return row.ref_name
            if col.key == "uom":
                return row.uom
            if col.key == "tons":
                return "—" if row.tons is None else format_value(Kind.QUANTITY, row.tons)
            if col.key == "mass":
                return MASS_TEXT[row.mass] if row.mass else ""
            if col.key == "created_by":
                return (self._who or {}).get(row.created_by or "", "")
            return format_value(col.kind, row.values.get(col.key))
        if role == Qt.ItemDataRole.TextAlignmentRole:
            if col.kind in _NUMERIC:
                return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            return int(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.FontRole and col.kind in _NUMERIC:
            return self._font
        if role == Qt.ItemDataRole.ForegroundRole and not self._may_change(row):
            return self._muted
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and col.key in ("tons", "mass")
            and row.mass is MassDetermination.NO_FACTOR
        ):
            return self._warning
        if role == Qt.ItemDataRole.ToolTipRole:
            if not self._may_change(row):
                return "Read-only: you may not change this record"
            if col.kind is Kind.OPERATION and row.values.get(col.key):
                return operation_name(str(row.values[col.key]))
            if col.key == "notes":
                return str(row.values.get("notes") or "") or None
            if col.key in ("tons", "mass") and row.mass is MassDetermination.NO_FACTOR:
                return (
                    "No conversion factor covers this date: the loads are not counted in tons"
                    " (an administrator sets one under Settings → Conversion factors)"
                )
            if col.key in ("tons", "mass") and row.mass is MassDetermination.DEEMED:
                return "Loads × the tons-per-load factor valid on this date, rounded to 3 dp"
        if role == ROW_ROLE:
            return row
        return None

    def flags(self, index: _Index) -> Qt.ItemFlag:
        if not index.isValid():
            return Qt.ItemFlag.NoItemFlags
        return Qt.ItemFlag.ItemIsEnabled | Qt.ItemFlag.ItemIsSelectable

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        col = self.columns[column]
        if not col.sortable:
            return
        self.sort_key = col.key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    def set_who(self, names: dict[str, str]) -> None:
        """Show a "By" column with the user name of each record's creator."""
        self.beginResetModel()
        if self._who is None:
            self.columns = [*self.columns, Column("created_by", "By", None, sortable=False)]
        self._who = names
        self.endResetModel()

    def may_change(self, row: RecordRow) -> bool:
        return self._may_change(row)


__all__ = ["PAGE_SIZE", "ROW_ROLE", "Column", "RecordTableModel", "columns_for", "format_value"]
