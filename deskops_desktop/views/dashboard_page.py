"""Dashboard: four KPI cards, six charts and a "needs attention" list for one site and period.

Everything comes from one ``DashboardService.snapshot`` (one consistent read) plus the daily
ledger for the inventory chart — the same numbers the inventory page and exports show. The page
refreshes on its interval and at once when any write touches the site; it reflows its cards and
charts from 4 / 3 columns down to one as the window narrows.
"""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.display import unit_symbol
from deskops_desktop.models.enums import Granularity, Uom
from deskops_desktop.services.app_state import AppState, Settings
from deskops_desktop.services.changes import Area
from deskops_desktop.services.dashboard import AttentionItem, AttentionKind, DashboardSnapshot
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.module_charts import Series
from deskops_desktop.views.getting_started import GettingStarted
from deskops_desktop.views.kpi_card import KpiCard, reduced_motion
from deskops_desktop.views.page import Page
from deskops_desktop.views.theme import LEVEL_COLORS
from deskops_desktop.views.widgets import header_row, label, no_margins

# The KPI cards: (key, title).
CARDS = (
    ("production", "Production"),
    ("received", "Received (t, deemed incl.)"),
    ("sold", "Sold"),
    ("inventory", "Current inventory"),
)
# The plant's ratios from the mass balance, a row of their own under the four cards.
PLANT_CARDS = (
    ("yield", "Yield (produced ÷ fed)"),
    ("tons_per_crusher_hour", "Tons per crusher hour"),
    ("tons_per_man_hour", "Tons per man-hour"),
)
_ATTENTION_COLORS = {
    AttentionKind.NEGATIVE_STOCK: LEVEL_COLORS["LOW"],
    AttentionKind.LOW_STOCK: LEVEL_COLORS["LOW"],
    AttentionKind.BREAKDOWN: "#e08a1e",
    AttentionKind.MISSING_ENTRIES: "#8a919c",
}


def _card(title: str, body: QWidget, extra: QWidget | None = None) -> QFrame:
    frame = QFrame()
    frame.setProperty("role", "card")
    layout = QVBoxLayout(frame)
    layout.setContentsMargins(10, 8, 10, 8)
    layout.setSpacing(4)
    head = QHBoxLayout()
    label = QLabel(title)
    label.setStyleSheet("font-weight: 600;")
    head.addWidget(label)
    head.addStretch(1)
    if extra is not None:
        head.addWidget(extra)
    layout.addLayout(head)
    layout.addWidget(body, 1)
    return frame


class DashboardPage(Page):
    """The site's figures for the period at a glance (a ``Page`` showing ``Area.DASHBOARD``).

    It follows the settings: a new "Dashboard refresh" interval re-arms the timer at once, and
    "Animate dashboard counters" applies to the next refresh.

    Signals:
        navigate_requested(str, str): open a page (key) focused on a code (may be empty).
        start_requested(str): the first-day card's ``record``, ``import`` or ``demo``.
    """

    navigate_requested = Signal(str, str)
    start_requested = Signal(str)
    areas = frozenset({Area.DASHBOARD})

    def __init__(
        self, data: DataGateway, settings: Settings, parent: QWidget | None = None
    ) -> None:
        super().__init__(data, parent)
        self._settings = settings
        self._snapshot: DashboardSnapshot | None = None
        self._dark = False
        self._columns = (0, 0)
        title = label("Dashboard", "title")
        self.updated = label("", "muted")
        self.refresh_button = QPushButton("Refresh")
        self.refresh_button.setToolTip("Refresh now (F5)")
        self.refresh_button.setShortcut("F5")
        head = header_row([title], [self.updated, self.refresh_button])

        self.cards = {key: KpiCard(text) for key, text in CARDS}
        self.plant_cards = {key: KpiCard(text) for key, text in PLANT_CARDS}
        self.rd_unit = QComboBox()
        self.rd_unit.addItem("tons (deemed incl.)", Uom.TON.value)
        self.rd_unit.addItem("loads", Uom.LOAD.value)
        self.chart_cards: list[QFrame] = []  # built after the first paint (see _build_charts)
        self.attention = QListWidget()
        self.attention.setObjectName("attention_list")
        self.attention.setWordWrap(True)
        self.attention_card = _card("Needs attention", self.attention)
        self.attention_card.setMinimumWidth(240)

        self.card_grid = QGridLayout()
        self.card_grid.setSpacing(10)
        self.chart_grid = QGridLayout()
        self.chart_grid.setSpacing(10)
        charts_box = QWidget()
        charts_box.setLayout(self.chart_grid)
        self.body = QGridLayout()
        self.body.setSpacing(10)
        inner = QWidget()
        inner_layout = no_margins(QVBoxLayout(inner))
        self.getting_started = GettingStarted(data.store_label)
        self.getting_started.hide()
        self.getting_started.action_requested.connect(self.start_requested.emit)
        inner_layout.addWidget(self.getting_started)
        inner_layout.addLayout(self.card_grid)
        inner_layout.addLayout(self.body, 1)
        self._charts_box = charts_box
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setWidget(inner)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addWidget(scroll, 1)
        self.timer = QTimer(self)
        self._reflow(1366)
        self._connect_signals()
        self._refresh_minutes = 0
        self._on_settings_changed(settings.current)

    def _connect_signals(self) -> None:
        self._settings.subscribe(self._on_settings_changed)
        self.refresh_button.clicked.connect(self.refresh)
        self.timer.timeout.connect(self.refresh)
        self.rd_unit.currentIndexChanged.connect(lambda _i: self._show_received_dispatched())
        self.attention.itemActivated.connect(self._on_attention_item_activated)

    @property
    def charts_ready(self) -> bool:
        return bool(self.chart_cards)

    def _build_charts(self) -> None:
        """Create the six charts. Deferred: pyqtgraph and numpy take ~0.5 s to import, and the
        window (with its KPI cards and attention list) should paint before that."""
        if self.chart_cards:
            return
        from deskops_desktop.views.charts import BarChart
        from deskops_desktop.views.movement_chart import MovementChart

        self.rd_chart = BarChart("", grouped=True, overlay_series=frozenset({"Net"}))
        self.target_chart = BarChart("", overlay_series=frozenset({"Target"}))
        self.inventory_chart = MovementChart()
        self.inventory_chart.overview.setVisible(False)
        self.levels_chart = BarChart("", horizontal=True)
        self.utilisation_chart = BarChart("", horizontal=True, percent=True)
        self.manpower_chart = BarChart("", horizontal=True)
        self._bar_charts = (
            self.rd_chart,
            self.target_chart,
            self.levels_chart,
            self.utilisation_chart,
            self.manpower_chart,
        )
        for chart in self._bar_charts:
            chart.legend.setMaximumWidth(130)
        self.levels_chart.legend.setVisible(False)
        self.chart_cards = [
            _card("Received vs dispatched (net line)", self.rd_chart, self.rd_unit),
            _card("Production vs target (t)", self.target_chart),
            _card("Inventory closing over time (t)", self.inventory_chart),
            _card("Top 10 material levels", self.levels_chart),
            _card("Equipment utilisation (8 h per shift)", self.utilisation_chart),
            _card("Manpower by role and shift", self.manpower_chart),
        ]
        for card in self.chart_cards:
            card.setMinimumHeight(250)
        self.apply_theme(self._dark)
        self._columns = (0, 0)
        self._reflow(self.width())

    def _fill_charts_later(self) -> None:
        self._build_charts()
        if self._snapshot is not None:
            self._fill_charts(self._snapshot)

    # --------------------------------------------------------------- layout
    def _reflow(self, width: int) -> None:
        cards = 4 if width >= 1000 else 2 if width >= 560 else 1
        charts = 3 if width >= 1700 else 2 if width >= 900 else 1
        if (cards, charts) == self._columns:
            return
        self._columns = (cards, charts)
        for grid in (self.card_grid, self.chart_grid, self.body):
            while grid.count():
                grid.takeAt(0)
        for n, card in enumerate(self.cards.values()):
            self.card_grid.addWidget(card, n // cards, n % cards)
        first_plant_row = (len(self.cards) + cards - 1) // cards
        for n, card in enumerate(self.plant_cards.values()):
            self.card_grid.addWidget(card, first_plant_row + n // cards, n % cards)
        for n, chart_card in enumerate(self.chart_cards):
            self.chart_grid.addWidget(chart_card, n // charts, n % charts)
        if width >= 1000:
            self.body.addWidget(self._charts_box, 0, 0)
            self.body.addWidget(self.attention_card, 0, 1)
            self.body.setColumnStretch(0, 1)
            self.body.setColumnStretch(1, 0)
            self.attention_card.setMaximumWidth(300)
        else:
            self.body.addWidget(self.attention_card, 0, 0)
            self.body.addWidget(self._charts_box, 1, 0)
            self.attention_card.setMaximumWidth(16777215)
            self.attention_card.setMaximumHeight(200)

    @property
    def columns(self) -> tuple[int, int]:
        return self._columns

    def resizeEvent(self, event: Any) -> None:
        super().resizeEvent(event)
        self._reflow(self.width())

    def apply_theme(self, dark: bool) -> None:
        self._dark = dark
        if not self.chart_cards:
            return
        for chart in (*self._bar_charts, self.inventory_chart):
            chart.apply_colors(dark)

    def _on_settings_changed(self, state: AppState) -> None:
        """Re-arm the refresh timer when the interval changed (the setting applies at once)."""
        if state.dashboard_refresh_minutes != self._refresh_minutes:
            self._refresh_minutes = state.dashboard_refresh_minutes
            self.timer.start(max(1, self._refresh_minutes) * 60_000)

    # --------------------------------------------------------------- context
    def reload(self) -> None:
        self.refresh()

    def showEvent(self, event: Any) -> None:
        super().showEvent(event)
        self._reflow(self.width())

    def refresh(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        site_id, start, end = ctx.site.id, ctx.date_from, ctx.date_to
        # Always fresh: the timer and the button exist for what other clerks wrote on a shared
        # server, which this app never hears of.
        snap = self._data.read(
            lambda s, a: s.dashboard.snapshot(a, site_id, start, end),
            area=Area.DASHBOARD,
            site_id=site_id,
            key=("snapshot", start, end),
            fresh=True,
        )
        self._snapshot = snap
        animate = self._settings.current.animations and not reduced_motion()
        for card, kpi in zip(self.cards.values(), snap.kpis.cards, strict=True):
            card.set_kpi(kpi, animate=animate)
        for card, kpi in zip(self.plant_cards.values(), snap.kpis.plant, strict=True):
            card.set_kpi(kpi, animate=animate)
        self._show_attention(snap.attention)
        self.getting_started.setVisible(not snap.has_records)
        self.updated.setText(f"Updated {self._data.clock.local_now():%H:%M}")
        if self.charts_ready:
            self._fill_charts(snap)
        else:
            QTimer.singleShot(0, self._fill_charts_later)

    def _fill_charts(self, snap: DashboardSnapshot) -> None:
        ctx = self._context
        if ctx is None:
            return
        self._show_received_dispatched()
        self._show_production(snap)
        site_id, start, end = ctx.site.id, snap.date_from, snap.date_to
        ledger = self._data.read(
            lambda s, a: s.ledger.ledger(a, site_id, start, end, Granularity.DAILY),
            area=Area.LEDGER,
            site_id=site_id,
            key=("ledger", start, end, Granularity.DAILY, None),
            fresh=True,
        )
        self.inventory_chart.set_rows([r for r in ledger.rows if r.material.uom == Uom.TON])
        self._show_levels(snap)
        self._show_utilisation(snap)
        self._show_manpower(snap)

    def _show_received_dispatched(self) -> None:
        snap = self._snapshot
        if snap is None or not self.charts_ready:
            return
        rd = snap.received_dispatched
        uom = self.rd_unit.currentData()
        flows = rd.unit(uom)
        labels = [d.strftime("%d %b") for d in rd.days]
        unit = unit_symbol(uom)
        if flows is None:
            self.rd_chart.set_data(labels, [], unit)
            return
        self.rd_chart.set_data(
            labels,
            [
                Series("Received", unit, flows.received),
                Series("Dispatched", unit, flows.dispatched),
                Series("Net", unit, flows.net),
            ],
            unit,
        )

    def _show_production(self, snap: DashboardSnapshot) -> None:
        p = snap.production
        self.target_chart.set_data(
            [d.strftime("%d %b") for d in p.days],
            [Series("Produced", "t", p.produced), Series("Target", "t", p.target)],
            "t",
        )

    def _show_levels(self, snap: DashboardSnapshot) -> None:
        levels = list(reversed(snap.top_levels))  # biggest at the top of a horizontal chart
        self.levels_chart.set_data(
            [f"{m.code} ({m.level.value})" for m in levels],
            [Series("Closing", "t / loads", tuple(m.closing for m in levels))],
            "closing",
            bar_colors=[LEVEL_COLORS[m.level.value] for m in levels],
        )

    def _show_utilisation(self, snap: DashboardSnapshot) -> None:
        units = [u for u in snap.utilisation if u.logs]
        self.utilisation_chart.set_data(
            [u.code for u in units],
            [
                Series("Operating", "h", tuple(u.operating_hours for u in units)),
                Series("Idle", "h", tuple(u.idle_hours for u in units)),
            ],
        )

    def _show_manpower(self, snap: DashboardSnapshot) -> None:
        m = snap.manpower
        self.manpower_chart.set_data(
            list(m.roles),
            [Series(s.label, "people", tuple(s.average)) for s in m.shifts],
            "average people per day",
        )

    def _show_attention(self, items: tuple[AttentionItem, ...]) -> None:
        self.attention.clear()
        if not items:
            empty = QListWidgetItem("Nothing needs attention — all good.")
            empty.setFlags(Qt.ItemFlag.NoItemFlags)
            self.attention.addItem(empty)
            return
        for entry in items:
            item = QListWidgetItem(f"● {entry.message}")
            item.setForeground(QBrush(QColor(_ATTENTION_COLORS.get(entry.kind, "#8a919c"))))
            item.setData(Qt.ItemDataRole.UserRole, entry)
            item.setToolTip("Open the page that fixes this (Enter or double-click)")
            self.attention.addItem(item)

    def _on_attention_item_activated(self, item: QListWidgetItem) -> None:
        entry = item.data(Qt.ItemDataRole.UserRole)
        if isinstance(entry, AttentionItem):
            target = entry.target
            self.navigate_requested.emit(
                target.page, target.material_code or target.equipment_code or ""
            )
