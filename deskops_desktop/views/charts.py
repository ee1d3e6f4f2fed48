"""Bar charts for the module pages (pyqtgraph): stacked, optionally 100 % and horizontal.

Plot items are created once per series and updated with ``setOpts``/``setData`` on refresh. The
legend toggles a series (click its swatch); hovering shows the exact values with units. Data
arrives as plain series from ``services.module_charts``; floats are used only for drawing —
the hover text prints the exact Decimals.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

import pyqtgraph as pg
from PySide6.QtCore import QPointF, Qt, Signal
from PySide6.QtGui import QColor, QCursor, QFontMetrics, QIcon, QPixmap
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolTip,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.services.module_charts import CategorySeries, DailySeries, Series
from deskops_desktop.views.widgets import no_margins

PALETTE = (
    "#1f77b4",
    "#ff7f0e",
    "#2ca02c",
    "#d62728",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#7f7f7f",
    "#bcbd22",
    "#17becf",
    "#393b79",
    "#637939",
    "#8c6d31",
    "#843c39",
    "#7b4173",
    "#3182bd",
    "#e6550d",
)


class SeriesLegend(QListWidget):
    """A checkable list beside a chart: one entry per series, unchecking hides the series.

    Kept outside the plot so 17 materials never cover the data they describe.

    Signals:
        toggled(str, bool): a series was shown or hidden.
    """

    toggled = Signal(str, bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setMaximumWidth(170)
        self.setMinimumWidth(110)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.itemChanged.connect(self._on_item_changed)

    def set_series(self, names: list[tuple[str, str]]) -> None:
        """(name, colour) pairs; entries already present keep their checked state."""
        checked = {self.item(i).text(): self.item(i).checkState() for i in range(self.count())}
        self.blockSignals(True)
        self.clear()
        for name, color in names:
            pixmap = QPixmap(10, 10)
            pixmap.fill(QColor(color))
            item = QListWidgetItem(QIcon(pixmap), name)
            item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(checked.get(name, Qt.CheckState.Checked))
            self.addItem(item)
        self.blockSignals(False)

    def is_shown(self, name: str) -> bool:
        items = self.findItems(name, Qt.MatchFlag.MatchExactly)
        return not items or items[0].checkState() == Qt.CheckState.Checked

    def set_shown(self, name: str, shown: bool) -> None:
        for item in self.findItems(name, Qt.MatchFlag.MatchExactly):
            item.setCheckState(Qt.CheckState.Checked if shown else Qt.CheckState.Unchecked)

    def _on_item_changed(self, item: QListWidgetItem) -> None:
        self.toggled.emit(item.text(), item.checkState() == Qt.CheckState.Checked)


class _LabelAxis(pg.AxisItem):
    """An axis that shows category labels (days or names) at integer positions."""

    def __init__(self, orientation: str) -> None:
        super().__init__(orientation)
        self.labels: list[str] = []

    def tickValues(
        self, minVal: float, maxVal: float, size: float
    ) -> list[tuple[float, list[float]]]:
        if not self.labels:
            return super().tickValues(minVal, maxVal, size)  # type: ignore[no-any-return]
        lo, hi = max(0, int(minVal)), min(len(self.labels) - 1, int(maxVal) + 1)
        span = max(1, hi - lo + 1)
        room = max(1, int(size / (70 if self.orientation in ("bottom", "top") else 13)))
        step = max(1, -(-span // room))
        return [(float(step), [float(i) for i in range(lo, hi + 1, step)])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:
        if not self.labels:
            return super().tickStrings(values, scale, spacing)  # type: ignore[no-any-return]
        return [self.labels[int(v)] if 0 <= int(v) < len(self.labels) else "" for v in values]


class BarChart(QWidget):
    """Stacked bars per category; ``horizontal`` puts categories on the y axis."""

    def __init__(
        self,
        title: str,
        *,
        horizontal: bool = False,
        percent: bool = False,
        line_series: frozenset[str] = frozenset(),
        overlay_series: frozenset[str] = frozenset(),
        grouped: bool = False,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.horizontal = horizontal
        self.percent = percent
        self.line_series = line_series
        self.overlay_series = overlay_series
        self.grouped = grouped
        self._axis = _LabelAxis("left" if horizontal else "bottom")
        axis_items = {"left": self._axis} if horizontal else {"bottom": self._axis}
        self.plot = pg.PlotWidget(axisItems=axis_items)
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.showGrid(x=horizontal, y=not horizontal, alpha=0.15)
        # The title is a wrapping QLabel, not a pyqtgraph title: a plot title's minimum width
        # is its full text, which pushed narrow plots past their widget and clipped them.
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.title.setProperty("role", "muted")
        self.title.setVisible(bool(title))
        self.legend = SeriesLegend()
        self._bars: dict[str, pg.BarGraphItem] = {}
        self._lines: dict[str, pg.PlotDataItem] = {}
        self._overlays: dict[str, pg.PlotDataItem] = {}
        self._zero = pg.InfiniteLine(
            pos=0, angle=90 if horizontal else 0, pen=pg.mkPen("#8a919c", width=1)
        )
        self._zero.setVisible(False)
        self.plot.addItem(self._zero)
        self._right: pg.ViewBox | None = None
        if line_series:
            # Lines (e.g. trips) get their own right-hand axis: a different unit and scale.
            self._right = pg.ViewBox()
            item = self.plot.getPlotItem()
            item.showAxis("right")
            item.scene().addItem(self._right)
            item.getAxis("right").linkToView(self._right)
            self._right.setXLink(item)
            item.getViewBox().sigResized.connect(self._on_view_resized)
        self._labels: list[str] = []
        self._series: list[Series] = []
        self.empty_label = QLabel("No data for the selected period", self)
        self.empty_label.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty_label.setProperty("role", "muted")
        row = no_margins(QHBoxLayout(), 4)
        row.addWidget(self.plot, 1)
        row.addWidget(self.legend)
        layout = no_margins(QVBoxLayout(self), 2)
        layout.addWidget(self.title)
        layout.addLayout(row, 1)
        self.legend.toggled.connect(self._on_legend_toggled)
        self._proxy = pg.SignalProxy(
            self.plot.scene().sigMouseMoved, rateLimit=30, slot=self._on_scene_mouse_moved
        )
        self.setMinimumHeight(110)  # below a table on a 768-pixel screen, still readable

    def apply_colors(self, dark: bool) -> None:
        self.plot.setBackground("#16181c" if dark else "#ffffff")
        pen = pg.mkPen("#c9ced6" if dark else "#3a3f47")
        for name in ("left", "bottom"):
            axis = self.plot.getAxis(name)
            axis.setPen(pen)
            axis.setTextPen(pen)

    def set_data(
        self,
        labels: Sequence[str],
        series: Sequence[Series],
        y_label: str = "",
        *,
        bar_colors: Sequence[str] | None = None,
    ) -> None:
        """Draw ``series`` over category ``labels``.

        Bars stack per unit (different units stand side by side, never on top of each other),
        or stand side by side per series when the chart is ``grouped``. Series named in
        ``overlay_series`` are lines on the same axis (a target, a net); those in
        ``line_series`` are lines on a right-hand axis (another unit, e.g. trips).
        ``bar_colors`` colours each category's bar (single-series charts such as levels).
        """
        self._labels = list(labels)
        self._series = list(series)
        self._axis.labels = self._labels
        self._axis.picture = None
        if self.horizontal and self._labels:
            # Category names sit on the left axis: make it as wide as the longest name.
            metrics = QFontMetrics(self.font())
            self._axis.setWidth(max(metrics.horizontalAdvance(t) for t in self._labels) + 14)
        self._axis.update()
        n_labels = len(labels)
        bar_series = [x for x in series if x.name not in self.line_series | self.overlay_series]
        groups = (
            [x.name for x in bar_series]
            if self.grouped
            else list(dict.fromkeys(x.unit for x in bar_series))
        )
        slot = 0.8 / max(1, len(groups))
        bases: dict[str, list[float]] = {g: [0.0] * n_labels for g in groups}
        totals = {
            g: [
                sum(
                    (
                        value
                        for x in bar_series
                        if self._group_of(x) == g and (value := x.values[i]) is not None
                    ),
                    Decimal(0),
                )
                for i in range(n_labels)
            ]
            for g in groups
        }
        low, high = 0.0, 0.0
        seen = set()
        for n, s in enumerate(series):
            seen.add(s.name)
            values = [float("nan") if v is None else float(v) for v in s.values]
            if s.name in self.line_series and self._right is not None:
                self._set_line(n, s, values)
                continue
            if s.name in self.overlay_series:
                self._set_overlay(n, s, values)
                finite = [v for v in values if v == v]
                low, high = min([low, *finite]), max([high, *finite])
                continue
            group = self._group_of(s)
            base = bases[group]
            if self.percent:
                values = [
                    100.0 * v / float(t) if t else 0.0
                    for v, t in zip(values, totals[group], strict=True)
                ]
            offset = (groups.index(group) - (len(groups) - 1) / 2) * slot
            positions = [i + offset for i in range(n_labels)]
            color = QColor(PALETTE[n % len(PALETTE)])
            brushes = [QColor(c) for c in bar_colors] if bar_colors else None
            if self.horizontal:
                opts = {"x0": base, "y": positions, "height": slot * 0.9, "width": values}
            else:
                opts = {"x": positions, "y0": base, "height": values, "width": slot * 0.9}
            opts["brushes" if brushes else "brush"] = brushes or color
            bar = self._bars.get(s.name)
            if bar is None:
                bar = pg.BarGraphItem(pen=pg.mkPen(color.darker(115)), **opts)
                self._bars[s.name] = bar
                self.plot.addItem(bar)
            else:
                bar.setOpts(**opts)
            bases[group] = [b + v for b, v in zip(base, values, strict=True)]
            for b, v in zip(base, values, strict=True):
                low, high = min(low, b + v, b), max(high, b + v)
        self._drop_missing(seen)
        self.legend.set_series([(x.name, PALETTE[n % len(PALETTE)]) for n, x in enumerate(series)])
        for x in series:
            item = self._bars.get(x.name) or self._lines.get(x.name) or self._overlays.get(x.name)
            if item is not None:
                item.setVisible(self.legend.is_shown(x.name))
        self._zero.setVisible(low < 0)
        unit_axis = "bottom" if self.horizontal else "left"
        self.plot.setLabel(unit_axis, "%" if self.percent else y_label)
        empty = not labels or not any(any(v for v in x.values if v is not None) for x in series)
        self.empty_label.setVisible(empty)
        self.empty_label.resize(self.size())
        if labels:
            top = 100.0 if self.percent else max(high, 1.0)
            bottom = 0.0 if self.percent else low
            if self.horizontal:
                self.plot.setXRange(bottom, top, padding=0.02)
                self.plot.setYRange(-0.6, n_labels - 0.4, padding=0)
            else:
                self.plot.setXRange(-0.6, n_labels - 0.4, padding=0)
                self.plot.setYRange(bottom, top, padding=0.05)

    def _group_of(self, s: Series) -> str:
        return s.name if self.grouped else s.unit

    def _set_overlay(self, n: int, s: Series, values: list[float]) -> None:
        line = self._overlays.get(s.name)
        xs = list(range(len(values)))
        if line is None:
            color = QColor(PALETTE[n % len(PALETTE)])
            line = pg.PlotDataItem(
                pen=pg.mkPen(color, width=2.2),
                symbol="o",
                symbolSize=4,
                symbolBrush=color,
                connect="finite",
            )
            line.setZValue(5)
            self._overlays[s.name] = line
            self.plot.addItem(line)
        if all(v != v for v in values):  # nothing to draw (e.g. no target set yet)
            line.setData([], [])
        else:
            line.setData(xs, values)

    def _drop_missing(self, seen: set[str]) -> None:
        for name in [k for k in self._lines if k not in seen]:
            assert self._right is not None
            self._right.removeItem(self._lines.pop(name))
        for name in [k for k in self._overlays if k not in seen]:
            self.plot.removeItem(self._overlays.pop(name))
        for name in [k for k in self._bars if k not in seen]:
            self.plot.removeItem(self._bars.pop(name))

    def _set_line(self, n: int, s: Series, values: list[float]) -> None:
        assert self._right is not None
        line = self._lines.get(s.name)
        xs = list(range(len(values)))
        if line is None:
            color = QColor(PALETTE[n % len(PALETTE)])
            line = pg.PlotDataItem(
                xs,
                values,
                pen=pg.mkPen(color, width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=color,
            )
            self._lines[s.name] = line
            self._right.addItem(line)
        else:
            line.setData(xs, values)
        self.plot.getPlotItem().getAxis("right").setLabel(s.unit)
        self._right.setYRange(0, max([*values, 1.0]) * 1.1, padding=0)

    def _on_legend_toggled(self, name: str, shown: bool) -> None:
        item = self._bars.get(name) or self._lines.get(name) or self._overlays.get(name)
        if item is not None:
            item.setVisible(shown)

    def _on_view_resized(self) -> None:
        if self._right is not None:
            self._right.setGeometry(self.plot.getPlotItem().getViewBox().sceneBoundingRect())
            self._right.linkedViewChanged(self.plot.getPlotItem().getViewBox(), self._right.XAxis)

    def resizeEvent(self, event: object) -> None:
        super().resizeEvent(event)  # type: ignore[arg-type]
        self.empty_label.resize(self.size())

    def hover_text(self, index: int) -> str:
        """Exact values of category ``index`` with units (what the tooltip shows)."""
        if not 0 <= index < len(self._labels):
            return ""
        lines = [self._labels[index]]
        for s in self._series:
            item = self._bars.get(s.name) or self._lines.get(s.name) or self._overlays.get(s.name)
            if item is not None and not item.isVisible():
                continue
            value = s.values[index]
            text = "—" if value is None else f"{_fmt(value)} {s.unit}".rstrip()
            lines.append(f"{s.name}: {text}")
        return "\n".join(lines)

    def _on_scene_mouse_moved(self, event: tuple[QPointF]) -> None:
        pos = event[0]
        if not self.plot.sceneBoundingRect().contains(pos):
            return
        point = self.plot.getViewBox().mapSceneToView(pos)
        index = round(point.y() if self.horizontal else point.x())
        text = self.hover_text(index)
        if text:
            QToolTip.showText(QCursor.pos(), text, self)


def _fmt(value: Decimal) -> str:
    return f"{value:,f}"


def daily_labels(data: DailySeries) -> list[str]:
    return [d.strftime("%d %b") for d in data.days]


def show_daily(chart: BarChart, data: DailySeries, y_label: str) -> None:
    chart.set_data(daily_labels(data), data.series, y_label)


def show_categories(chart: BarChart, data: CategorySeries, y_label: str) -> None:
    chart.set_data(list(data.labels), data.series, y_label)
