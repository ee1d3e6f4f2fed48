"""Company overview: every site side by side for the header's period (head office's page).

Each figure with its change against the equally long period before; sortable by any column; a
double-click (or Enter) opens that site's dashboard. The columns and their values are the
export's own (``export.overview_table.FIGURES``), so the page and the files agree to the digit;
"Export…" writes the same table as xlsx, csv or pdf off the GUI thread.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QThreadPool, Signal
from PySide6.QtGui import QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.export.csv_writer import write_csv
from deskops_desktop.export.overview_table import FIGURES, overview_table
from deskops_desktop.export.pdf_writer import write_pdf
from deskops_desktop.export.table import ColumnKind
from deskops_desktop.export.xlsx_writer import write_xlsx
from deskops_desktop.models.display import grouped
from deskops_desktop.models.progress import NullProgress
from deskops_desktop.services.changes import Area
from deskops_desktop.services.dashboard.maths import percent_change
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.overview import CompanyOverview, SiteFigures
from deskops_desktop.views import background
from deskops_desktop.views.kpi_card import change_text
from deskops_desktop.views.page import Page
from deskops_desktop.views.theme import tabular_font
from deskops_desktop.views.widgets import fit_columns, header_row, label, row_table

SORT_ROLE = Qt.ItemDataRole.UserRole + 1
SITE_ROLE = Qt.ItemDataRole.UserRole + 2


def figure_text(kind: ColumnKind, value: Any) -> str:
    """A figure as the export's cell shows it (tons exact to 3 dp, ratios as computed)."""
    if value is None:
        return "—"
    if kind is ColumnKind.QUANTITY:
        return grouped(Decimal(value), 3)
    return f"{value:,}"


def two_lines(header: str) -> str:
    """A long column title on two lines ("t per" / "Crusher Hour"): the numbers set the width."""
    words = header.split()
    if len(header) <= 10 or len(words) < 2:
        return header
    middle = min(
        range(1, len(words)), key=lambda n: abs(len(" ".join(words[:n])) - len(header) / 2)
    )
    return " ".join(words[:middle]) + "\n" + " ".join(words[middle:])


def change_of(current: Any, previous: Any) -> Decimal | None:
    if current is None or previous is None:
        return None
    return percent_change(Decimal(current), Decimal(previous))


class _Item(QTableWidgetItem):
    """A cell that sorts by its number, not by its text."""

    def __lt__(self, other: QTableWidgetItem) -> bool:
        mine, theirs = self.data(SORT_ROLE), other.data(SORT_ROLE)
        if isinstance(mine, int | float) and isinstance(theirs, int | float):
            return mine < theirs
        # Not QTableWidgetItem.__lt__: PySide routes it back to this override (recursion).
        return self.text().casefold() < other.text().casefold()


class OverviewPage(Page):
    """Every site the user may see, this period against the previous one.

    Signals:
        site_requested(str): open this site's dashboard (a site id).
    """

    site_requested = Signal(str)
    areas = frozenset({Area.LEDGER, Area.DASHBOARD})

    def __init__(self, data: DataGateway, parent: QWidget | None = None) -> None:
        super().__init__(data, parent)
        self.overview: CompanyOverview | None = None
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self.last_export = ""
        title = label("Company overview", "title")
        self.period = label("", "muted")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Write this table as xlsx, csv or pdf")
        head = header_row([title, self.period], [self.export_button])
        self.hint = label(
            "Each figure with its change against the previous period. Double-click a site (or"
            " press Enter) to open its dashboard; click a header to sort.",
            "muted",
        )
        headers = ["Site", *(two_lines(f[0]) for f in FIGURES)]
        self.table = row_table(headers)
        self.table.setObjectName("overview_table")
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.setWordWrap(False)
        fit_columns(self.table)
        self.table.verticalHeader().setDefaultSectionSize(40)
        # The company's line under the sites, its columns kept in step with the table's.
        self.total = QTableWidget(1, len(headers))
        self.total.horizontalHeader().setVisible(False)
        self.total.verticalHeader().setVisible(False)
        self.total.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.total.verticalHeader().setDefaultSectionSize(40)
        self.total.setFixedHeight(44)
        self.total.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.total.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.total.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalScrollBar().valueChanged.connect(
            self.total.horizontalScrollBar().setValue
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addWidget(self.hint)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.total)
        self.table.doubleClicked.connect(lambda index: self._open_row(index.row()))
        self.table.installEventFilter(self)
        self.table.horizontalHeader().sectionResized.connect(self._align_total)
        self.export_button.clicked.connect(lambda: self.export())

    # ---------------------------------------------------------------- contract
    def reload(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        start, end = ctx.date_from, ctx.date_to
        ov = self._data.read(lambda s, a: s.overview.overview(a, start, end))
        self.show_overview(ov)

    def focus_first(self) -> None:
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # ----------------------------------------------------------------- showing
    def show_overview(self, ov: CompanyOverview) -> None:
        self.overview = ov
        self.period.setText(
            f"{len(ov.sites)} sites · {ov.date_from} to {ov.date_to}"
            f" against {ov.previous_from} to {ov.previous_to}"
        )
        self.table.setSortingEnabled(False)
        self.table.setRowCount(len(ov.sites))
        for r, line in enumerate(ov.sites):
            incomplete = not line.current.complete
            # A site whose loads lack a factor says so beside its code (the export's
            # "Complete" column).
            site = _Item(f"{line.site.code} ⚠" if incomplete else line.site.code)
            site.setToolTip(
                f"{line.site.label}: loads without a conversion factor are not in these tons"
                if incomplete
                else line.site.label
            )
            site.setData(SITE_ROLE, line.site.id)
            self.table.setItem(r, 0, site)
            self._fill(self.table, r, line.current, line.previous)
        self.table.setSortingEnabled(True)
        column = self.table.horizontalHeader().sortIndicatorSection()
        order = self.table.horizontalHeader().sortIndicatorOrder()
        self.table.sortItems(max(column, 0), order)  # the clerk's sort, by site code at first
        self.total.setItem(0, 0, QTableWidgetItem("Company"))
        self._fill(self.total, 0, ov.total, ov.previous_total, bold=True)
        self._align_total()

    def _fill(
        self,
        table: QTableWidget,
        row: int,
        now: SiteFigures,
        before: SiteFigures,
        *,
        bold: bool = False,
    ) -> None:
        font = tabular_font()
        if bold:
            font.setBold(True)
        for c, (_header, _key, kind, value) in enumerate(FIGURES, start=1):
            current, previous = value(now), value(before)
            text, _color = change_text(change_of(current, previous))
            item = _Item(f"{figure_text(kind, current)}\n{text.replace(' vs previous', '')}")
            item.setData(SORT_ROLE, float(current) if current is not None else float("-inf"))
            item.setTextAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            item.setFont(font)
            item.setToolTip(f"previous period: {figure_text(kind, previous)}")
            table.setItem(row, c, item)
        if bold:
            for c in range(table.columnCount()):
                cell = table.item(row, c)
                if cell is not None:
                    bold_font = QFont(cell.font())
                    bold_font.setBold(True)
                    cell.setFont(bold_font)

    def _align_total(self, *_args: object) -> None:
        for c in range(self.table.columnCount()):
            self.total.setColumnWidth(c, self.table.columnWidth(c))

    def cell_text(self, row: int, column: int) -> str:
        item = self.table.item(row, column)
        return item.text() if item is not None else ""

    # ----------------------------------------------------------------- actions
    def _open_row(self, row: int) -> None:
        item = self.table.item(row, 0)
        if item is not None:
            self.site_requested.emit(str(item.data(SITE_ROLE)))

    def eventFilter(self, watched: Any, event: Any) -> bool:
        if (
            watched is self.table
            and isinstance(event, QKeyEvent)
            and event.type() == QKeyEvent.Type.KeyPress
            and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
        ):
            self._open_row(self.table.currentRow())
            return True
        return super().eventFilter(watched, event)

    def export(self, path: Path | None = None) -> bool:
        """Write the shown overview to ``path`` (asked for when None); the format follows the
        file's extension (.xlsx, .csv, .pdf). Written off the GUI thread."""
        ov = self.overview
        if ov is None:
            return False
        if path is None:
            chosen, _filter = QFileDialog.getSaveFileName(
                self,
                "Export the company overview",
                f"Company overview {ov.date_from} to {ov.date_to}.xlsx",
                "Excel workbook (*.xlsx);;CSV (*.csv);;PDF (*.pdf)",
            )
            if not chosen:
                return False
            path = Path(chosen)
        suffix = path.suffix.lower()
        if suffix not in (".xlsx", ".csv", ".pdf"):
            path = path.with_suffix(".xlsx")
            suffix = ".xlsx"
        now, who = (
            self._data.clock.now(),
            self._data.actor.display_name or self._data.actor.username,
        )
        target = path

        def work() -> Path:
            table = overview_table(ov, now, who, long=suffix == ".pdf")
            writer = {".xlsx": write_xlsx, ".csv": write_csv, ".pdf": write_pdf}[suffix]
            return writer(table, target, NullProgress()).path

        background.start(self._pool, self, "overview export", work, self._exported, self._failed)
        return True

    def wait_for_export(self, msecs: int = 30_000) -> bool:
        return self._pool.waitForDone(msecs)

    def _exported(self, path: Path) -> None:
        self.last_export = f"Company overview written to {path}"
        self.message_posted.emit(self.last_export)

    def _failed(self, exc: Exception) -> None:
        self.last_export = f"The overview was not written: {exc}"
        QMessageBox.warning(self, "Not written", self.last_export)
