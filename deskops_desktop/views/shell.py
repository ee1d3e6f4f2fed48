"""The window chrome: collapsible sidebar and the header (site, dates, theme, user menu)."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.enums import Module
from deskops_desktop.services.date_ranges import DEFAULT_PRESET
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.page import AppPage, PageKey
from deskops_desktop.views.period_fields import PeriodFields, qdate
from deskops_desktop.views.theme import icon

# The sidebar in order. Icons are named after the key; the mass balance sits under Inventory.
PAGES: tuple[tuple[PageKey, str], ...] = (
    (AppPage.DASHBOARD, "Dashboard"),
    (Module.PRODUCTION, Module.PRODUCTION.heading),
    (Module.DISPATCH, Module.DISPATCH.heading),
    (Module.RECEIVED, Module.RECEIVED.heading),
    (Module.FEED, Module.FEED.heading),
    (Module.EQUIPMENT, Module.EQUIPMENT.heading),
    (Module.MANPOWER, Module.MANPOWER.heading),
    (Module.INVENTORY, Module.INVENTORY.heading),
    (Module.MASS_BALANCE, Module.MASS_BALANCE.heading),
    (AppPage.OVERVIEW, "Company"),
    (AppPage.EXPORTS, "Exports"),
    (AppPage.SETTINGS, "Settings"),
)
# Ctrl+1 … Ctrl+9 follow the sidebar; the company overview is Ctrl+0, the export dock
# Ctrl+Shift+E and Settings Ctrl+, (as in most desktop apps).
SHORTCUTS: dict[PageKey, str] = {
    key: f"Ctrl+{(n + 1) % 10}" for n, (key, _label) in enumerate(PAGES[:10])
}
SHORTCUTS[AppPage.EXPORTS] = "Ctrl+Shift+E"
SHORTCUTS[AppPage.SETTINGS] = "Ctrl+,"
# Pages only head office sees (administrators, and moderators over their sites).
HEAD_OFFICE_PAGES: frozenset[PageKey] = frozenset({AppPage.OVERVIEW})
EXPANDED_WIDTH = 188
COLLAPSED_WIDTH = 56


class Sidebar(QFrame):
    """Signals:
    page_requested(str): the user picked a page (its key).
    collapsed_changed(bool): the sidebar was collapsed or expanded.
    """

    page_requested = Signal(str)
    collapsed_changed = Signal(bool)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("Sidebar")
        self.buttons: dict[str, QToolButton] = {}
        self._group = QButtonGroup(self)
        self._group.setExclusive(True)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 10, 8, 10)
        layout.setSpacing(2)
        self.toggle = QToolButton()
        self.toggle.setIcon(icon("menu"))
        self.toggle.setToolTip("Collapse or expand the sidebar")
        self.toggle.setIconSize(QSize(20, 20))
        layout.addWidget(self.toggle)
        layout.addSpacing(6)
        for key, label in PAGES:
            button = QToolButton()
            button.setObjectName(f"nav_{key}")
            button.setText(label)
            button.setIcon(icon(key))
            button.setIconSize(QSize(20, 20))
            button.setCheckable(True)
            button.setToolTip(f"{label} ({SHORTCUTS[key]})")
            button.setSizePolicy(
                button.sizePolicy().horizontalPolicy().Expanding,
                button.sizePolicy().verticalPolicy(),
            )
            button.clicked.connect(lambda _checked=False, k=key: self.page_requested.emit(k))
            self._group.addButton(button)
            self.buttons[key] = button
            if key == "settings":
                layout.addStretch(1)
            layout.addWidget(button)
        self.collapsed: bool = False
        self.toggle.clicked.connect(lambda: self.set_collapsed(not self.collapsed))
        self.set_collapsed(False)

    def set_collapsed(self, collapsed: bool) -> None:
        changed = collapsed != self.collapsed
        self.collapsed = collapsed
        style = (
            Qt.ToolButtonStyle.ToolButtonIconOnly
            if collapsed
            else Qt.ToolButtonStyle.ToolButtonTextBesideIcon
        )
        for button in self.buttons.values():
            button.setToolButtonStyle(style)
        self.setFixedWidth(COLLAPSED_WIDTH if collapsed else EXPANDED_WIDTH)
        if changed:
            self.collapsed_changed.emit(collapsed)

    def set_current(self, key: str) -> None:
        self.buttons[key].setChecked(True)


class Header(QFrame):
    """Signals:
    site_changed(str): the selected site id.
    range_changed(object, object): the selected (from, to) dates.
    theme_changed(str): light, dark or system.
    change_password_requested(), sign_out_requested(), export_requested().
    """

    site_changed = Signal(str)
    range_changed = Signal(object, object)
    theme_changed = Signal(str)
    change_password_requested = Signal()
    sign_out_requested = Signal()
    export_requested = Signal()

    def __init__(
        self, username: str, role: str, theme: str, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("Header")
        self._today = today  # the selected site's date, from the app's clock (``set_today``)
        self.site_combo = QComboBox()
        self.site_combo.setObjectName("site_combo")
        self.site_combo.setMinimumWidth(260)
        self.site_combo.setToolTip("Site (Ctrl+Shift+S)")
        # Moving one end of the range past the other drags the other along: always valid.
        self.period = PeriodFields(
            lambda: self._today, self, preset=DEFAULT_PRESET, keep_order=True
        )
        self.preset_combo = self.period.preset_combo
        self.from_edit, self.to_edit = self.period.from_edit, self.period.to_edit
        self.theme_combo = QComboBox()
        for value, text in (("system", "Follow system"), ("light", "Light"), ("dark", "Dark")):
            self.theme_combo.addItem(text, value)
        self.theme_combo.setCurrentIndex(max(self.theme_combo.findData(theme), 0))
        self.export_button = QPushButton("Export…")
        self.export_button.setVisible(False)  # shown once the export queue is wired in
        self.user_button = QToolButton()
        self.user_button.setIcon(icon("user"))
        self.user_button.setText(f"{username} · {role.title()}")
        self.user_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.user_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        menu = QMenu(self.user_button)
        self.change_password_action = QAction("Change password…", menu)
        self.sign_out_action = QAction("Sign out", menu)
        menu.addAction(self.change_password_action)
        menu.addSeparator()
        menu.addAction(self.sign_out_action)
        self.user_button.setMenu(menu)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(14, 8, 14, 8)
        layout.setSpacing(8)
        layout.addWidget(QLabel("Site"))
        layout.addWidget(self.site_combo)
        layout.addSpacing(12)
        layout.addWidget(QLabel("Dates"))
        for widget in self.period.widgets():
            layout.addWidget(widget)
        layout.addStretch(1)
        layout.addWidget(self.export_button)
        layout.addWidget(self.theme_combo)
        layout.addWidget(self.user_button)
        self._connect_signals()

    def _connect_signals(self) -> None:
        self.site_combo.currentIndexChanged.connect(self._on_site_combo_changed)
        self.period.range_changed.connect(self.range_changed)
        self.theme_combo.currentIndexChanged.connect(
            lambda _i: self.theme_changed.emit(self.theme_combo.currentData())
        )
        self.change_password_action.triggered.connect(self.change_password_requested)
        self.sign_out_action.triggered.connect(self.sign_out_requested)
        self.export_button.clicked.connect(self.export_requested)

    def set_sites(self, sites: list[SiteInfo], selected_id: str | None) -> None:
        self.site_combo.blockSignals(True)
        self.site_combo.clear()
        for site in sites:
            self.site_combo.addItem(site.label, site.id)
        index = self.site_combo.findData(selected_id) if selected_id else -1
        self.site_combo.setCurrentIndex(index if index >= 0 else 0)
        self.site_combo.blockSignals(False)

    def select_site(self, site_id: str) -> None:
        """Choose the site as if the user picked it (its pages follow)."""
        index = self.site_combo.findData(site_id)
        if index >= 0 and index != self.site_combo.currentIndex():
            self.site_combo.setCurrentIndex(index)

    def current_site_id(self) -> str | None:
        value = self.site_combo.currentData()
        return str(value) if value else None

    def set_today(self, today: date) -> None:
        """The site's today; re-applies the preset (a new day moves "Last 30 days")."""
        self._today = today
        for edit in (self.from_edit, self.to_edit):
            edit.setMaximumDate(qdate(today))
        self.period.reapply()

    def select_preset(self, name: str) -> None:
        self.period.select(name)

    def current_range(self) -> tuple[date, date]:
        return self.period.current_range()

    def _on_site_combo_changed(self, _index: int) -> None:
        site_id = self.current_site_id()
        if site_id:
            self.site_changed.emit(site_id)
