"""A KPI card: title, per-unit figures that count up, change vs the previous period, sparkline."""

from __future__ import annotations

import sys
from decimal import ROUND_HALF_UP, Decimal

from PySide6.QtCore import QEasingCurve, QPointF, QVariantAnimation
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QSizePolicy, QVBoxLayout, QWidget

from deskops_desktop.models.display import summary_places, unit_symbol
from deskops_desktop.services.dashboard import Kpi
from deskops_desktop.views.widgets import figure_label, label

ANIMATION_MS = 1200
UP_COLOR, DOWN_COLOR, FLAT_COLOR = "#2e9d6a", "#d13438", "#8a919c"
# Large figures on a card: (from this size, shown divided by, with suffix), largest first.
# From 100,000 a card shows thousands, so six digits never crowd the tile.
COMPACT_SCALES = ((1_000_000, 1_000_000, "M"), (100_000, 1_000, "k"))


def compact(value: Decimal, uom: str) -> str:
    """1,240 t · 2.4M t · 318 loads: full figures below 100,000, then k / M with one decimal."""
    symbol = unit_symbol(uom)
    for floor, divisor, suffix in COMPACT_SCALES:
        if abs(value) >= floor:
            scaled = (value / divisor).quantize(Decimal("0.1"), ROUND_HALF_UP)
            return f"{scaled}{suffix} {symbol}"
    places = summary_places(uom)
    text = f"{value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP):,.{places}f}"
    if places and "." in text and len(text.replace(",", "")) > 7:
        text = f"{value.quantize(Decimal(1), ROUND_HALF_UP):,.0f}"
    return f"{text} {symbol}"


def change_text(change: Decimal | None) -> tuple[str, str]:
    """Arrow + signed percent and its colour; "—" when there was nothing to compare with."""
    if change is None:
        return "— vs previous", FLAT_COLOR
    if change > 0:
        return f"▲ +{change}% vs previous", UP_COLOR
    if change < 0:
        return f"▼ {change}% vs previous", DOWN_COLOR
    return "■ 0.0% vs previous", FLAT_COLOR


def reduced_motion() -> bool:
    """Whether the system asks for less animation (Windows' "Show animations" off)."""
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import ctypes

        enabled = ctypes.c_bool(True)
        spi_getclientareaanimation = 0x1042
        if ctypes.windll.user32.SystemParametersInfoW(
            spi_getclientareaanimation, 0, ctypes.byref(enabled), 0
        ):
            return not enabled.value
    return False


class Sparkline(QWidget):
    """The 7-day line under a KPI figure (painted with QPainter, no chart library)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.values: list[float] = []
        self.setFixedHeight(28)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def set_values(self, values: list[float]) -> None:
        self.values = values
        self.update()

    def paintEvent(self, event: QPaintEvent) -> None:
        del event
        if len(self.values) < 2:
            return
        lo, hi = min(self.values), max(self.values)
        span = hi - lo or 1.0
        w, h = self.width() - 4, self.height() - 4
        step = w / (len(self.values) - 1)
        points = QPolygonF(
            [QPointF(2 + i * step, 2 + h - (v - lo) / span * h) for i, v in enumerate(self.values)]
        )
        painter = QPainter(self)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(QColor("#2f8f77"), 1.6))
        painter.drawPolyline(points)
        painter.end()


class KpiCard(QFrame):
    """One KPI card: per-unit figures, the change against the previous period, a 7-day sparkline."""

    def __init__(self, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setProperty("role", "card")
        self.setMinimumWidth(220)
        self.title = label(title, "muted")
        self.value = figure_label(1.6)
        self.change = QLabel("")
        # What the figure includes or leaves out ("incl. 204.00 t deemed"); hidden when empty.
        self.note = label("", "muted")
        self.note.setWordWrap(True)
        self.note.hide()
        self.spark = Sparkline()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(14, 10, 14, 10)
        layout.setSpacing(4)
        top = QHBoxLayout()
        top.addWidget(self.title)
        top.addStretch(1)
        layout.addLayout(top)
        layout.addWidget(self.value)
        layout.addWidget(self.change)
        layout.addWidget(self.note)
        layout.addWidget(self.spark)
        self._kpi: Kpi | None = None
        self._animation = QVariantAnimation(self)
        self._animation.setDuration(ANIMATION_MS)
        self._animation.setEasingCurve(QEasingCurve.Type.OutCubic)
        self._animation.valueChanged.connect(self._on_animation_value_changed)

    def set_kpi(self, kpi: Kpi, *, animate: bool) -> None:
        """Show ``kpi``; counts up from 0 over ~1.2 s unless ``animate`` is False."""
        self._kpi = kpi
        first = kpi.figures[0] if kpi.figures else None
        self.change.setText(self.change_html(kpi) if kpi.figures else "")
        self.note.setText(kpi.note)
        self.note.setVisible(bool(kpi.note))
        self.spark.set_values([float(v) for v in first.sparkline] if first else [])
        self._animation.stop()
        if animate:
            self._animation.setStartValue(0.0)
            self._animation.setEndValue(1.0)
            self._animation.start()
        else:
            self._render(1.0)

    @staticmethod
    def change_html(kpi: Kpi) -> str:
        """One coloured change per unit: "▲ +4.2%" alone, or "t ▲ +4.2% · loads —" for two units."""
        parts = []
        for figure in kpi.figures:
            text, color = change_text(figure.change_pct)
            text = text.replace(" vs previous", "")
            unit = f"{unit_symbol(figure.uom)} " if len(kpi.figures) > 1 else ""
            parts.append(f'{unit}<span style="color:{color}">{text}</span>')
        return " · ".join(parts) + ' <span style="color:#8a919c">vs previous period</span>'

    def final_text(self) -> str:
        return self._text(1.0)

    def _text(self, fraction: float) -> str:
        if self._kpi is None or not self._kpi.figures:
            return "—"
        f = Decimal(str(round(fraction, 4)))
        return " · ".join(
            compact(x.current * f if fraction < 1 else x.current, x.uom) for x in self._kpi.figures
        )

    def _render(self, fraction: float) -> None:
        self.value.setText(self._text(fraction))
        self.value.setToolTip(
            "\n".join(
                f"{x.current} {unit_symbol(x.uom)} (previous {x.previous})"
                for x in (self._kpi.figures if self._kpi else ())
            )
        )

    def _on_animation_value_changed(self, value: float) -> None:
        self._render(float(value))
