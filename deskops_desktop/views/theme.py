"""Light and dark themes: a Fusion palette plus one small style sheet.

Level colours come from DOMAIN.md (oklch values converted to sRGB once, here) and are used
with dark text in both themes so they stay readable; the level is always written as text too.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QGuiApplication, QIcon, QPalette
from PySide6.QtWidgets import QApplication

# oklch(0.63 0.2 18.13), oklch(0.92 0.15 98.96), oklch(0.8 0.15 155.88) in sRGB.
LEVEL_COLORS = {"LOW": "#e5484d", "WARNING": "#f1d54a", "HEALTHY": "#4fcf8a"}
LEVEL_TEXT = "#1a1a1a"
ERROR_COLOR = "#d13438"
ACCENT = "#1f6f5c"


def resources_dir() -> Path:
    """``resources/`` next to the package in a checkout, or inside the frozen bundle."""
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        return Path(frozen) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"


def icon(name: str) -> QIcon:
    return QIcon(str(resources_dir() / "icons" / f"{name}.svg"))


def is_dark(theme: str) -> bool:
    if theme == "dark":
        return True
    if theme == "light":
        return False
    return QGuiApplication.styleHints().colorScheme() == Qt.ColorScheme.Dark


def tabular_font(base: QFont | None = None) -> QFont:
    """Digits of equal width so columns of numbers line up."""
    font = QFont(base) if base is not None else QFont()
    font.setFeature(QFont.Tag("tnum"), 1)
    return font


def apply_theme(app: QApplication, theme: str) -> bool:
    """Apply ``theme`` (light/dark/system); returns whether the result is dark."""
    dark = is_dark(theme)
    app.setStyle("Fusion")
    palette = QPalette()
    if dark:
        colors = {
            QPalette.ColorRole.Window: "#1e2126",
            QPalette.ColorRole.WindowText: "#e6e8eb",
            QPalette.ColorRole.Base: "#16181c",
            QPalette.ColorRole.AlternateBase: "#1c1f24",
            QPalette.ColorRole.Text: "#e6e8eb",
            QPalette.ColorRole.Button: "#2a2e35",
            QPalette.ColorRole.ButtonText: "#e6e8eb",
            QPalette.ColorRole.Highlight: "#2f8f77",
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.ToolTipBase: "#2a2e35",
            QPalette.ColorRole.ToolTipText: "#e6e8eb",
            QPalette.ColorRole.PlaceholderText: "#8a919c",
            QPalette.ColorRole.Mid: "#3a3f47",
            QPalette.ColorRole.Link: "#6cc4ab",
        }
    else:
        colors = {
            QPalette.ColorRole.Window: "#f4f5f7",
            QPalette.ColorRole.WindowText: "#1d2127",
            QPalette.ColorRole.Base: "#ffffff",
            QPalette.ColorRole.AlternateBase: "#f7f8fa",
            QPalette.ColorRole.Text: "#1d2127",
            QPalette.ColorRole.Button: "#ffffff",
            QPalette.ColorRole.ButtonText: "#1d2127",
            QPalette.ColorRole.Highlight: ACCENT,
            QPalette.ColorRole.HighlightedText: "#ffffff",
            QPalette.ColorRole.ToolTipBase: "#ffffff",
            QPalette.ColorRole.ToolTipText: "#1d2127",
            QPalette.ColorRole.PlaceholderText: "#8a919c",
            QPalette.ColorRole.Mid: "#d5d9e0",
            QPalette.ColorRole.Link: ACCENT,
        }
    for role, value in colors.items():
        palette.setColor(role, QColor(value))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor("#7c838d"))
    palette.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor("#7c838d"))
    app.setPalette(palette)
    app.setStyleSheet(_STYLE_DARK if dark else _STYLE_LIGHT)
    return dark


_COMMON = """
QLabel[role="error"] { color: %(error)s; font-size: 11px; }
QLabel[role="title"] { font-size: 18px; font-weight: 600; }
QLabel[role="muted"] { color: %(muted)s; }
QLabel[role="unit"] { color: %(muted)s; min-width: 34px; }
QFrame#Sidebar { background: %(sidebar)s; border-right: 1px solid %(border)s; }
QFrame#Sidebar QToolButton { border: none; border-radius: 6px; padding: 5px 10px; color: %(text)s;
    text-align: left; font-size: 13px; }
QFrame#Sidebar QToolButton:hover { background: %(hover)s; }
QFrame#Sidebar QToolButton:checked { background: %(accent_bg)s; color: %(accent_fg)s;
    font-weight: 600; }
QFrame#Header { background: %(header)s; border-bottom: 1px solid %(border)s; }
QFrame[role="card"] { background: %(card)s; border: 1px solid %(border)s; border-radius: 8px; }
QTableView { gridline-color: %(border)s; selection-background-color: %(accent_sel)s;
    selection-color: %(text)s; }
QHeaderView::section { background: %(header)s; border: none; border-bottom: 1px solid %(border)s;
    padding: 4px 6px; font-weight: 600; }
QLineEdit[invalid="true"], QComboBox[invalid="true"], QDateEdit[invalid="true"] {
    border: 1px solid %(error)s; border-radius: 3px; }
QPushButton[role="primary"] { background: %(accent)s; color: white; border: none;
    border-radius: 5px;
    padding: 6px 16px; font-weight: 600; }
QPushButton[role="primary"]:hover { background: %(accent_hover)s; }
QFrame#Banner { background: %(banner)s; border-bottom: 1px solid %(border)s; }
QFrame#SyncBar { background: %(header)s; border-bottom: 1px solid %(border)s; }
QLabel#sync_headline[role="error"] { color: %(error)s; font-size: 12px; font-weight: 600; }
QLabel#sync_headline[role="warning"] { color: %(warning)s; font-weight: 600; }
QLabel#sync_headline[role="ok"] { color: %(ok)s; }
"""

_STYLE_LIGHT = _COMMON % {
    "error": ERROR_COLOR,
    "warning": "#9a6700",
    "ok": ACCENT,
    "muted": "#6b7380",
    "sidebar": "#ffffff",
    "border": "#dfe3e8",
    "text": "#1d2127",
    "hover": "#eef1f4",
    "accent_bg": "#e1f0eb",
    "accent_fg": ACCENT,
    "header": "#ffffff",
    "card": "#ffffff",
    "accent_sel": "#cfe7df",
    "accent": ACCENT,
    "accent_hover": "#195e4e",
    "banner": "#fff4ce",
}
_STYLE_DARK = _COMMON % {
    "error": "#ff6b6e",
    "warning": "#f1d54a",
    "ok": "#6cc4ab",
    "muted": "#9aa1ab",
    "sidebar": "#181b20",
    "border": "#2f343c",
    "text": "#e6e8eb",
    "hover": "#262a31",
    "accent_bg": "#1f3a33",
    "accent_fg": "#8fe0c6",
    "header": "#1b1e23",
    "card": "#22262c",
    "accent_sel": "#24514a",
    "accent": "#2f8f77",
    "accent_hover": "#37a386",
    "banner": "#4a3f14",
}
