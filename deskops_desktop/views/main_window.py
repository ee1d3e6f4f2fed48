"""The main window only composes: sidebar, header, lazily built pages, status bar.

Pages receive the services they need in their constructor. Site and date changes in the header
go to every built page; the data service's change-sets arrive as one Qt signal and each page
decides whether the change touches what it shows.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.export.jobs import ExportJobService
from deskops_desktop.models.enums import Module
from deskops_desktop.services.app_state import AppState, save_state
from deskops_desktop.services.changes import Area, ChangeSet
from deskops_desktop.services.data_service import DataService
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.dialogs import ChangePasswordDialog
from deskops_desktop.views.export_panel import ExportPanel
from deskops_desktop.views.export_runner import ExportRunner
from deskops_desktop.views.offline_banner import OfflineBanner
from deskops_desktop.views.shell import PAGES, Header, Sidebar
from deskops_desktop.views.theme import icon

if TYPE_CHECKING:
    from deskops_desktop.services.module_charts import ModuleChartService

RECORD_PAGES = {
    m.value: m
    for m in (
        Module.PRODUCTION,
        Module.DISPATCH,
        Module.RECEIVED,
        Module.EQUIPMENT,
        Module.MANPOWER,
    )
}


class AppSignals(QObject):
    """Signals:
    changes_announced(object): a ``ChangeSet`` from any write anywhere in the app.
    """

    changes_announced = Signal(object)


class PlaceholderPage(QWidget):
    def __init__(self, title: str, text: str) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        heading = QLabel(title)
        heading.setProperty("role", "title")
        body = QLabel(text)
        body.setProperty("role", "muted")
        body.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addStretch(1)

    def set_context(self, context: PageContext) -> None:
        del context

    def on_changes(self, changes: ChangeSet) -> None:
        del changes


class MainWindow(QMainWindow):
    """Signals:
    sign_out_requested(): the user chose Sign out.
    theme_change_requested(str): light, dark or system.
    """

    sign_out_requested = Signal()
    theme_change_requested = Signal(str)

    def __init__(
        self,
        data: DataService,
        state: AppState,
        page_factories: dict[str, Callable[[], QWidget]] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DeskOps Desktop")
        self.setWindowIcon(icon("app"))
        self.data = data
        self.state = state
        self.signals = AppSignals()
        self._charts: ModuleChartService | None = None
        self._refs = data.services.master.reference()
        self._factories = page_factories or {}
        self.pages: dict[str, QWidget] = {}
        self._context: PageContext | None = None

        self.sidebar = Sidebar()
        actor = data.actor
        self.header = Header(
            actor.display_name or actor.username,
            actor.role.value,
            state.theme,
            today=data.clock.local_now().date(),
        )
        self.stack = QStackedWidget()
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setContentsMargins(0, 0, 0, 0)
        body_layout.setSpacing(0)
        body_layout.addWidget(self.header)
        self.offline_banner = OfflineBanner(data)
        body_layout.addWidget(self.offline_banner)
        body_layout.addWidget(self.stack, 1)
        central = QWidget()
        row = QHBoxLayout(central)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(0)
        row.addWidget(self.sidebar)
        row.addWidget(body, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(
            f"Signed in as {actor.username} · store {data.services.store.display_url}", 8000
        )

        self.sites: list[SiteInfo] = data.services.master.sites(actor)
        self.header.set_sites(self.sites, state.selected_site_id)
        self.sidebar.set_collapsed(state.sidebar_collapsed)
        self.export_jobs = ExportJobService(data.services)
        self.export_runner = ExportRunner(self.export_jobs, parent=self)
        self.export_panel = ExportPanel(self.export_jobs, self.export_runner, actor, parent=self)
        # At the bottom: the history is a wide, short table, and a side dock would push the
        # window past 1280 px.
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.export_panel)
        self.export_panel.hide()
        self.export_panel.set_dialog_context(lambda: self.sites, self._export_context)
        self.header.export_button.setVisible(True)
        self._connect_signals()
        self._restore_geometry()
        self._apply_site(self.header.current_site_id())
        self.show_page("dashboard")
        self.export_panel.startup()  # fails a crash's leftover jobs, removes expired files

    def _connect_signals(self) -> None:
        self.data.subscribe(self.signals.changes_announced.emit)
        self.signals.changes_announced.connect(self._on_changes_announced)
        self.sidebar.page_requested.connect(self.show_page)
        self.sidebar.collapsed_changed.connect(self._on_sidebar_collapsed_changed)
        self.header.site_changed.connect(self._apply_site)
        self.header.range_changed.connect(self._on_header_range_changed)
        self.header.theme_changed.connect(self._on_header_theme_changed)
        self.header.sign_out_requested.connect(self.sign_out_requested)
        self.header.change_password_requested.connect(self._on_change_password_requested)
        self.offline_banner.install_excepthook()
        self.offline_banner.connection_restored.connect(self._on_offline_banner_connection_restored)
        self.header.export_requested.connect(lambda: self.open_export_dialog())
        self.export_panel.message_posted.connect(
            lambda text: self.statusBar().showMessage(text, 8000)
        )
        self.export_panel.notification_posted.connect(
            lambda title, text: self.statusBar().showMessage(f"{title}: {text}", 10000)
        )
        for n, (key, _label) in enumerate(PAGES):
            shortcut = QShortcut(QKeySequence(f"Ctrl+{n + 1}"), self)
            shortcut.activated.connect(lambda k=key: self.show_page(k))

    # ------------------------------------------------------------------ pages
    def page(self, key: str) -> QWidget:
        """The page for ``key``, built on first use (start-up stays fast)."""
        if key not in self.pages:
            widget = self._build_page(key)
            self.pages[key] = widget
            self.stack.addWidget(widget)
            message = getattr(widget, "message_posted", None)
            if message is not None:
                message.connect(lambda text: self.statusBar().showMessage(text, 6000))
            export = getattr(widget, "export_requested", None)
            if export is not None:
                export.connect(self.open_export_dialog)
            splitter = getattr(widget, "splitter", None)
            if splitter is not None:
                splitter_state = self.state.splitters.get(splitter.objectName())
                if splitter_state:
                    splitter.restoreState(QByteArray.fromBase64(splitter_state.encode()))
            if self._context is not None:
                widget.set_context(self._context)  # type: ignore[attr-defined]
        return self.pages[key]

    def _build_page(self, key: str) -> QWidget:
        # Pages are imported here, not at the top: their charts pull in pyqtgraph and numpy
        # (~0.5 s), which must not delay the first paint of the window.
        if key in self._factories:
            return self._factories[key]()
        if key in RECORD_PAGES:
            from deskops_desktop.services.module_charts import ModuleChartService
            from deskops_desktop.views.record_page import RecordPage

            if self._charts is None:
                self._charts = ModuleChartService(self.data.services.store)
            return RecordPage(RECORD_PAGES[key], self.data, self._charts, self._refs)
        if key == "inventory":
            from deskops_desktop.views.inventory_page import InventoryPage

            return InventoryPage(self.data)
        if key == "dashboard":
            from deskops_desktop.views.dashboard_page import DashboardPage

            page = DashboardPage(self.data, self.state)
            page.navigate_requested.connect(self._on_navigate_requested)
            return page
        if key == "settings":
            from deskops_desktop.views.settings_page import SettingsPage

            return SettingsPage(self.data, self.state)
        titles = dict(PAGES)
        return PlaceholderPage(
            titles[key], f"The {titles[key]} page is not part of this build yet."
        )

    def _export_context(self) -> tuple[str | None, date | None, date | None]:
        ctx = self._context
        return (ctx.site.id, ctx.date_from, ctx.date_to) if ctx else (None, None, None)

    def open_export_dialog(self, module: Module | None = None) -> None:
        """The export dialog, preset to the current site, range and (from a page) module."""
        site_id, start, end = self._export_context()
        self.export_panel.make_dialog(self.sites, site_id, start, end, module).open()

    def show_page(self, key: str) -> None:
        if key == "exports":
            # Exports live in a dock beside whatever page is open.
            self.export_panel.show()
            self.export_panel.raise_()
            self.sidebar.set_current(self.current_page_key() or "dashboard")
            return
        widget = self.page(key)
        self.stack.setCurrentWidget(widget)
        self.sidebar.set_current(key)
        form = getattr(widget, "form", None)
        if form is not None:
            form.focus_first()

    def _on_navigate_requested(self, key: str, code: str) -> None:
        self.show_page(key)
        widget = self.pages[key]
        search = getattr(widget, "search", None) or getattr(widget, "filter", None)
        if code and search is not None:
            search.setText(code)

    def _on_offline_banner_connection_restored(self) -> None:
        """The server is back: pages save what they kept, and everything shown is re-read."""
        for widget in self.pages.values():
            retry = getattr(widget, "retry_pending", None)
            if retry is not None:
                retry()
        self.data.announce(ChangeSet(frozenset(Area)))
        self.statusBar().showMessage("Connected to the server again", 6000)

    def current_page_key(self) -> str:
        current = self.stack.currentWidget()
        return next((k for k, w in self.pages.items() if w is current), "")

    # ---------------------------------------------------------------- context
    def _apply_site(self, site_id: str | None) -> None:
        site = next((s for s in self.sites if s.id == site_id), None)
        if site is None:
            return
        self.state.selected_site_id = site.id
        self.header.set_today(self.data.clock.today(site.timezone))
        start, end = self.header.current_range()
        self._set_context(PageContext(site, start, end))

    def _on_header_range_changed(self, start: date, end: date) -> None:
        if self._context is not None:
            self._set_context(PageContext(self._context.site, start, end))

    def _set_context(self, context: PageContext) -> None:
        if context == self._context:
            return
        self._context = context
        for widget in self.pages.values():
            widget.set_context(context)  # type: ignore[attr-defined]

    @property
    def context(self) -> PageContext | None:
        return self._context

    def _on_changes_announced(self, changes: ChangeSet) -> None:
        if Area.MASTER in changes.areas:
            self._refs = self.data.services.master.reference()
            for widget in self.pages.values():
                set_references = getattr(widget, "set_references", None)
                if set_references is not None:
                    set_references(self._refs)
        for widget in self.pages.values():
            widget.on_changes(changes)  # type: ignore[attr-defined]

    # ------------------------------------------------------------- settings
    def _on_sidebar_collapsed_changed(self, collapsed: bool) -> None:
        self.state.sidebar_collapsed = collapsed

    def _on_header_theme_changed(self, theme: str) -> None:
        self.state.theme = theme
        self.theme_change_requested.emit(theme)
        app = QApplication.instance()
        dark = bool(app.property("deskops_dark")) if app is not None else False  # apply_theme
        for widget in self.pages.values():
            apply = getattr(widget, "apply_theme", None)
            if apply is not None:
                apply(dark)

    def _on_change_password_requested(self) -> None:
        dialog = ChangePasswordDialog(
            lambda old, new: self.data.services.users.change_password(self.data.actor, old, new),
            self,
        )
        if dialog.exec():
            self.statusBar().showMessage("Password changed", 5000)

    def _restore_geometry(self) -> None:
        if self.state.window_geometry:
            self.restoreGeometry(QByteArray.fromBase64(self.state.window_geometry.encode()))
        else:
            self.resize(1366, 800)

    def save_state(self) -> None:
        self.state.window_geometry = bytes(self.saveGeometry().toBase64().data()).decode()
        for widget in self.pages.values():
            splitter = getattr(widget, "splitter", None)
            if splitter is not None:
                key = splitter.objectName()
                self.state.splitters[key] = bytes(splitter.saveState().toBase64().data()).decode()
        save_state(self.state)

    def closeEvent(self, event: QCloseEvent) -> None:
        self.export_panel.shutdown()
        self.save_state()
        super().closeEvent(event)
