"""Inventory movement chart: closing per material over time, threshold bands, brush, hover.

The main plot shows one line per material (the legend toggles them) over shaded LOW / WARNING /
HEALTHY bands; a thin overview strip below carries a region (the brush) whose span filters the
inventory table. Items are created once and updated with ``setData``; long ranges rely on
pyqtgraph's clip-to-view and automatic downsampling.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, Signal
from PySide6.QtGui import QColor, QCursor
from PySide6.QtWidgets import QHBoxLayout, QToolTip, QVBoxLayout, QWidget

from deskops_desktop.services.ledger import LedgerRow
from deskops_desktop.views.charts import PALETTE, SeriesLegend
from deskops_desktop.views.qt_ledger_model import explain
from deskops_desktop.views.theme import LEVEL_COLORS
from deskops_desktop.views.widgets import no_margins

_DAY = 86_400


def day_to_x(day: date) -> float:
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def x_to_day(x: float) -> date:
    return datetime.fromtimestamp(round(x / _DAY) * _DAY, tz=UTC).date()


class MovementChart(QWidget):
    """Signals:
    range_selected(object, object): the brush now spans (first day, last day).
    """

    range_selected = Signal(object, object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.plot = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.plot.setMenuEnabled(False)
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.plot.setLabel("left", "closing")
        self.legend = SeriesLegend()
        self.overview = pg.PlotWidget(axisItems={"bottom": pg.DateAxisItem(orientation="bottom")})
        self.overview.setMenuEnabled(False)
        self.overview.setMouseEnabled(x=False, y=False)
        self.overview.hideAxis("left")
        self.overview.setFixedHeight(70)
        self.brush = pg.LinearRegionItem(brush=pg.mkBrush(47, 143, 119, 50))
        self.brush.setZValue(10)
        self.overview.addItem(self.brush)
        self._overview_line = pg.PlotDataItem(pen=pg.mkPen("#8a919c"))
        self.overview.addItem(self._overview_line)
        self._bands = [
            pg.LinearRegionItem(
                orientation="horizontal",
                movable=False,
                brush=pg.mkBrush(
                    QColor(color).red(), QColor(color).green(), QColor(color).blue(), 38
                ),
                pen=pg.mkPen(None),
            )
            for color in (LEVEL_COLORS["LOW"], LEVEL_COLORS["WARNING"], LEVEL_COLORS["HEALTHY"])
        ]
        for band in self._bands:
            band.setZValue(-10)
            self.plot.addItem(band)
        self._lines: dict[str, pg.PlotDataItem] = {}
        self._rows: dict[str, list[LedgerRow]] = {}
        self._days: list[date] = []
        plots = no_margins(QVBoxLayout(), 2)
        plots.addWidget(self.plot, 1)
        plots.addWidget(self.overview)
        layout = no_margins(QHBoxLayout(self), 4)
        layout.addLayout(plots, 1)
        layout.addWidget(self.legend)
        self.legend.toggled.connect(self._on_legend_toggled)
        self.brush.sigRegionChangeFinished.connect(self._on_brush_changed)
        self._proxy = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_mouse_moved
        )
        self.setMinimumHeight(170)  # the ledger below keeps its rows on a 768-pixel screen

    def apply_colors(self, dark: bool) -> None:
        for widget in (self.plot, self.overview):
            widget.setBackground("#16181c" if dark else "#ffffff")
            pen = pg.mkPen("#c9ced6" if dark else "#3a3f47")
            for name in ("left", "bottom"):
                widget.getAxis(name).setPen(pen)
                widget.getAxis(name).setTextPen(pen)

    def set_rows(self, rows: Sequence[LedgerRow]) -> None:
        """Daily ledger rows (any order) of the materials to draw."""
        by_material: dict[str, list[LedgerRow]] = {}
        for row in rows:
            by_material.setdefault(row.material.code, []).append(row)
        for series in by_material.values():
            series.sort(key=lambda r: r.day)
        self._rows = by_material
        self._days = sorted({r.day for r in rows})
        seen = set()
        ordered = sorted(by_material.items(), key=lambda kv: kv[1][0].material.sort_order)
        self.legend.set_series(
            [(code, PALETTE[n % len(PALETTE)]) for n, (code, _s) in enumerate(ordered)]
        )
        for n, (code, series) in enumerate(ordered):
            seen.add(code)
            xs = np.fromiter((day_to_x(r.day) for r in series), dtype=float, count=len(series))
            ys = np.fromiter((r.closing_m / 1000 for r in series), dtype=float, count=len(series))
            line = self._lines.get(code)
            if line is None:
                line = pg.PlotDataItem(pen=pg.mkPen(PALETTE[n % len(PALETTE)], width=1.6))
                line.setClipToView(True)
                line.setDownsampling(auto=True, method="peak")
                self._lines[code] = line
                self.plot.addItem(line)
            line.setPen(pg.mkPen(PALETTE[n % len(PALETTE)], width=1.6))
            line.setData(xs, ys)
            line.setVisible(self.legend.is_shown(code))
        for code in [c for c in self._lines if c not in seen]:
            self.plot.removeItem(self._lines.pop(code))
        self._update_bands()
        self._update_overview()

    def _on_legend_toggled(self, code: str, shown: bool) -> None:
        line = self._lines.get(code)
        if line is not None:
            line.setVisible(shown)

    def _update_bands(self) -> None:
        thresholds = {
            (s[0].material.low_threshold, s[0].material.high_threshold) for s in self._rows.values()
        }
        show = len(thresholds) == 1
        for band in self._bands:
            band.setVisible(show)
        if show:
            low, high = (float(v) for v in next(iter(thresholds)))
            top = max(
                [high * 2, *(r.closing_m / 1000 for s in self._rows.values() for r in s)],
                default=high * 2,
            )
            bottom = min(
                [0.0, *(r.closing_m / 1000 for s in self._rows.values() for r in s)], default=0.0
            )
            self._bands[0].setRegion((bottom - abs(bottom) * 0.1 - 1, low))
            self._bands[1].setRegion((low, high))
            self._bands[2].setRegion((high, top * 1.1 + 1))

    def _update_overview(self) -> None:
        if not self._days:
            self._overview_line.setData([], [])
            return
        totals: dict[date, float] = {}
        for series in self._rows.values():
            if series[0].material.uom != "TON":
                continue
            for r in series:
                totals[r.day] = totals.get(r.day, 0.0) + r.closing_m / 1000
        days = sorted(totals)
        self._overview_line.setData([day_to_x(d) for d in days], [totals[d] for d in days])
        first, last = day_to_x(self._days[0]), day_to_x(self._days[-1])
        self.overview.setXRange(first, last, padding=0.01)
        self.plot.setXRange(first, last, padding=0.01)
        self.brush.blockSignals(True)
        self.brush.setBounds((first, last))
        self.brush.setRegion((first, last))
        self.brush.blockSignals(False)

    def select_range(self, first: date, last: date) -> None:
        """Move the brush (and emit ``range_selected``) — what a mouse drag does."""
        self.brush.setRegion((day_to_x(first), day_to_x(last)))
        self._on_brush_changed()

    def selected_range(self) -> tuple[date, date]:
        lo, hi = self.brush.getRegion()
        return x_to_day(lo), x_to_day(hi)

    def _on_brush_changed(self) -> None:
        if not self._days:
            return
        first, last = self.selected_range()
        first, last = max(first, self._days[0]), min(last, self._days[-1])
        self.plot.setXRange(day_to_x(first), day_to_x(last), padding=0.01)
        self.range_selected.emit(first, last)

    def hover_text(self, day: date, value: float) -> str:
        """The tooltip for the visible material nearest to ``value`` on ``day``."""
        best: LedgerRow | None = None
        for code, series in self._rows.items():
            line = self._lines.get(code)
            if line is None or not line.isVisible():
                continue
            index = (day - series[0].day).days
            if 0 <= index < len(series) and series[index].day == day:
                row = series[index]
                if best is None or abs(row.closing_m / 1000 - value) < abs(
                    best.closing_m / 1000 - value
                ):
                    best = row
        if best is None:
            return ""
        return (
            f"{best.material.label} · {day.isoformat()}\n{explain(best)}\nlevel {best.level.value}"
        )

    def _on_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.plot.getViewBox().mapSceneToView(pos)
        text = self.hover_text(x_to_day(point.x()), point.y())
        if text:
            QToolTip.showText(QCursor.pos(), text, self)
