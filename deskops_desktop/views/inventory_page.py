"""Inventory: the colour-coded stock ledger, its movement chart, totals, stock counts.

Figures come from ``LedgerService`` through the data service (the same numbers as the CLI's
``deskops inventory`` and the exports). The header's site and range load the ledger; the
category, granularity and material search filter it; the chart's brush narrows the table to a
sub-range without another query.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.display import unit_symbol
from deskops_desktop.models.enums import Category, Granularity, Module, Role
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.stock import LEDGER_FIGURES
from deskops_desktop.services.changes import Area
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.ledger import Ledger, LedgerRow
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.movement_chart import MovementChart
from deskops_desktop.views.page import Page
from deskops_desktop.views.qt_ledger_model import LedgerTableModel, total_cells
from deskops_desktop.views.qt_records_model import RecordTableModel, records_source
from deskops_desktop.views.stock_count_dialog import StockCountDialog
from deskops_desktop.views.theme import tabular_font
from deskops_desktop.views.widgets import debounce, label, no_margins, search_edit


class InventoryPage(Page):
    """The stock ledger of one site: movement chart, ledger table, totals, adjustments.

    A ``Page`` (``views.page``) showing ``Area.LEDGER``.

    Signals:
        message_posted(str): see ``Page``.
    """

    areas = frozenset({Area.LEDGER})

    def __init__(self, data: DataGateway, parent: QWidget | None = None) -> None:
        super().__init__(data, parent)
        self._ledger: Ledger | None = None
        self._daily: Ledger | None = None
        self._brush: tuple[date, date] | None = None
        title = label("Inventory", "title")
        self.category = QComboBox()
        self.category.addItem("All categories", None)
        for cat in (
            Category.AGGREGATES,
            Category.PROCESSED_BASE,
            Category.FINE,
            Category.SPECIALTY,
            Category.RAW_FEED,
        ):
            self.category.addItem(cat.value.replace("_", " ").title(), cat.value)
        self.granularity = QComboBox()
        for g in Granularity:
            self.granularity.addItem(g.value.title(), g.value)
        self.search = search_edit("Material code or name", 240)
        self.brush_label = label("", "muted")
        self.reset_brush = QPushButton("Show whole range")
        self.reset_brush.setVisible(False)
        self.count_button = QPushButton("Stock count…")
        self.count_button.setToolTip(
            "Enter a counted quantity; the difference to the book becomes an adjustment"
        )
        self.count_button.setVisible(data.actor.role is not Role.OPERATOR)
        filters = QHBoxLayout()
        for text, widget in (("Category", self.category), ("Granularity", self.granularity)):
            filters.addWidget(QLabel(text))
            filters.addWidget(widget)
        filters.addWidget(self.search)
        filters.addWidget(self.brush_label)
        filters.addWidget(self.reset_brush)
        filters.addStretch(1)
        filters.addWidget(self.count_button)

        self.chart = MovementChart()
        self.model = LedgerTableModel()
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(0, Qt.SortOrder.AscendingOrder)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setDefaultSectionSize(24)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.ResizeToContents
        )
        self.first_button, self.prev_button = QPushButton("« First"), QPushButton("‹ Previous")
        self.next_button, self.last_button = QPushButton("Next ›"), QPushButton("Last »")
        self.page_label = QLabel("")
        pager = QHBoxLayout()
        pager.addWidget(self.page_label)
        pager.addStretch(1)
        for button in (self.first_button, self.prev_button, self.next_button, self.last_button):
            pager.addWidget(button)
        self.totals = QTableWidget(0, 2 + len(LEDGER_FIGURES))
        self.totals.setHorizontalHeaderLabels(["Total", "Unit", *LEDGER_FIGURES])
        self.totals.verticalHeader().setVisible(False)
        self.totals.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.totals.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Stretch)
        self.totals.setMaximumHeight(170)
        ledger_box = QWidget()
        ledger_layout = no_margins(QVBoxLayout(ledger_box))
        ledger_layout.addWidget(self.table, 1)
        ledger_layout.addLayout(pager)
        ledger_layout.addWidget(self.totals)

        self.adjustments = RecordTableModel(SPECS[Module.ADJUSTMENTS])
        self.adjustments_view = QTableView()
        self.adjustments_view.setModel(self.adjustments)
        self.adjustments_view.verticalHeader().setVisible(False)
        self.adjustments_view.horizontalHeader().setStretchLastSection(True)
        self.tabs = QTabWidget()
        self.tabs.addTab(ledger_box, "Ledger")
        self.tabs.addTab(self.adjustments_view, "Adjustments")

        splitter = QSplitter(Qt.Orientation.Vertical)
        splitter.setObjectName("splitter_inventory")
        splitter.addWidget(self.chart)
        splitter.addWidget(self.tabs)
        splitter.setSizes([220, 540])  # on a 768-pixel screen the ledger keeps most rows
        self.splitter = splitter
        self.search_box = self.search
        # A site where nothing ever moved stock: a sentence, not every material in red LOW.
        self.empty = label("", "muted")
        self.empty.setObjectName("inventory_empty")
        self.empty.setWordWrap(True)
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self._ledger_view = splitter
        self.body = QStackedWidget()
        self.body.addWidget(splitter)
        self.body.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addWidget(title)
        layout.addLayout(filters)
        layout.addWidget(self.body, 1)
        self._search_timer = debounce(self)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.category.currentIndexChanged.connect(lambda _i: self.reload())
        self.granularity.currentIndexChanged.connect(lambda _i: self.reload())
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self._search_timer.timeout.connect(self._apply_filters)
        self.chart.range_selected.connect(self._on_chart_range_selected)
        self.reset_brush.clicked.connect(self._on_reset_brush_clicked)
        self.first_button.clicked.connect(lambda: self._go(0))
        self.prev_button.clicked.connect(lambda: self._go(self.model.page - 1))
        self.next_button.clicked.connect(lambda: self._go(self.model.page + 1))
        self.last_button.clicked.connect(lambda: self._go(self.model.page_count - 1))
        self.model.modelReset.connect(self._update_pager)
        self.count_button.clicked.connect(self.open_stock_count)

    # --------------------------------------------------------------- context
    def context_changed(self, context: PageContext) -> None:
        del context
        self._brush = None

    def apply_theme(self, dark: bool) -> None:
        self.chart.apply_colors(dark)

    def reload(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        site_id = ctx.site.id
        moved = self._data.read(
            lambda s, a: s.ledger.has_movements(a, site_id),
            area=Area.LEDGER,
            site_id=site_id,
            key=("has_movements",),
        )
        if not moved:
            self.empty.setText(
                f"{ctx.site.label} has no stock movements yet.\n\nStock appears here as soon as"
                " production, receipts, dispatches or crusher feed are recorded — or an opening"
                " balance: Stock count… above (supervisors and administrators) records what is"
                " on the ground today."
            )
            self.body.setCurrentWidget(self.empty)
            return
        self.body.setCurrentWidget(self._ledger_view)
        category = self.category.currentData()
        granularity = Granularity(self.granularity.currentData())
        self._daily = self._read_ledger(ctx, Granularity.DAILY, category)
        self._ledger = (
            self._daily
            if granularity is Granularity.DAILY
            else self._read_ledger(ctx, granularity, category)
        )
        self._load_adjustments()
        self._apply_filters(redraw_chart=True)

    def _read_ledger(
        self, ctx: PageContext, granularity: Granularity, category: str | None
    ) -> Ledger:
        site_id, start, end = ctx.site.id, ctx.date_from, ctx.date_to
        return self._data.read(
            lambda s, a: s.ledger.ledger(a, site_id, start, end, granularity, category),
            area=Area.LEDGER,
            site_id=site_id,
            key=("ledger", start, end, granularity, category),
        )

    def _load_adjustments(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        fetch, count = records_source(
            self._data, Module.ADJUSTMENTS, ctx.site.id, ctx.date_from, ctx.date_to
        )
        self.adjustments.set_source(fetch, count, lambda _row: False)
        authors = [
            self.adjustments.row_at(i).created_by or "" for i in range(self.adjustments.rowCount())
        ]
        names = self._data.read(lambda s, _a: s.users.usernames(authors))
        self.adjustments.set_who(names)

    def _matches(self, row: LedgerRow) -> bool:
        needle = self.search.text().strip().lower()
        if (
            needle
            and needle not in row.material.code.lower()
            and needle not in row.material.name.lower()
        ):
            return False
        if self._brush is not None:
            first, last = self._brush
            return row.period_end >= first and row.day <= last
        return True

    def _apply_filters(self, redraw_chart: bool = False) -> None:
        if self._ledger is None or self._daily is None:
            return
        rows = [r for r in self._ledger.rows if self._matches(r)]
        self.model.set_rows(rows)
        if redraw_chart or self._brush is None:
            needle = self.search.text().strip().lower()
            daily = [
                r
                for r in self._daily.rows
                if not needle
                or needle in r.material.code.lower()
                or needle in r.material.name.lower()
            ]
            self.chart.set_rows(daily)
        self._fill_totals()

    def _fill_totals(self) -> None:
        ledger = self._ledger
        if ledger is None:
            return
        rows = [*ledger.category_totals, *ledger.grand_totals]
        self.totals.setRowCount(len(rows))
        font = tabular_font()
        for r, total in enumerate(rows):
            name = total.category.replace("_", " ").title() if total.category else "Grand total"
            cells = [name, unit_symbol(total.uom), *total_cells(total)]
            for c, text in enumerate(cells):
                item = QTableWidgetItem(text)
                if c >= 2:
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    item.setFont(font)
                if total.category is None:
                    bold = item.font()
                    bold.setBold(True)
                    item.setFont(bold)
                self.totals.setItem(r, c, item)

    # -------------------------------------------------------------- actions
    def _go(self, page: int) -> None:
        self.model.set_page(page)
        self._update_pager()

    def _update_pager(self) -> None:
        self.page_label.setText(self.model.page_label())
        self.first_button.setEnabled(self.model.page > 0)
        self.prev_button.setEnabled(self.model.page > 0)
        self.next_button.setEnabled(self.model.page < self.model.page_count - 1)
        self.last_button.setEnabled(self.model.page < self.model.page_count - 1)

    def _on_chart_range_selected(self, first: date, last: date) -> None:
        ctx = self._context
        if ctx is None:
            return
        whole = first <= ctx.date_from and last >= ctx.date_to
        self._brush = None if whole else (first, last)
        self.brush_label.setText("" if whole else f"Table limited to {first} – {last}")
        self.reset_brush.setVisible(not whole)
        self._apply_filters()

    def _on_reset_brush_clicked(self) -> None:
        if self._context is not None:
            self.chart.select_range(self._context.date_from, self._context.date_to)

    def open_stock_count(self) -> StockCountDialog | None:
        ctx = self._context
        if ctx is None:
            return None
        refs = self._data.read(lambda s, _a: s.master.reference(), area=Area.MASTER)
        materials = [m for m in refs.materials if m.active]
        site_id = ctx.site.id

        def book(material_id: str, day: date) -> int:
            closings = self._data.read(lambda s, a: s.ledger.latest_closings(a, site_id, day))
            return closings.get(material_id, 0)

        dialog = StockCountDialog(self._data, ctx.site, materials, book, self)
        dialog.setModal(True)
        dialog.finished.connect(lambda result: self._on_count_finished(dialog, result))
        dialog.open()
        return dialog

    def _on_count_finished(self, dialog: StockCountDialog, result: int) -> None:
        if result and dialog.saved_quantity is not None:
            self.message_posted.emit(f"Stock count saved: adjustment of {dialog.saved_quantity}")
            self.tabs.setCurrentIndex(1)
