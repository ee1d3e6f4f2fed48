"""The main window only composes: sidebar, header, lazily built pages, status bar, export dock.

Pages follow the contract of ``views.page.Page`` and reach data only through the
``DataGateway``; the window knows them only as ``Page``. Site and date changes in the header go
to every built page; the gateway's change-sets arrive as one Qt signal and each page decides
whether the change touches what it shows. The settings (``Settings``) are one immutable value:
the window replaces it (site, sidebar, theme, geometry, splitters) and saves it on close.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QByteArray, QObject, Qt, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QMainWindow, QStackedWidget, QVBoxLayout, QWidget

from deskops_desktop.export.jobs import ExportJobService
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.modules import ReferenceIndex
from deskops_desktop.services.app_state import Settings
from deskops_desktop.services.changes import Area, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.reference import SiteInfo
from deskops_desktop.services.store import Store
from deskops_desktop.sync.desk import SyncDesk
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.dialogs import ChangePasswordDialog
from deskops_desktop.views.export_panel import ExportPanel
from deskops_desktop.views.export_runner import ExportRunner
from deskops_desktop.views.offline_banner import OfflineBanner
from deskops_desktop.views.pack_runner import PackRunner
from deskops_desktop.views.page import AppPage, Page, PageKey, PlaceholderPage
from deskops_desktop.views.shell import HEAD_OFFICE_PAGES, PAGES, SHORTCUTS, Header, Sidebar
from deskops_desktop.views.sync_bar import SYNC_NOW_SHORTCUT, SyncBar
from deskops_desktop.views.sync_controller import SyncController
from deskops_desktop.views.theme import icon, is_dark
from deskops_desktop.views.widgets import no_margins

PageFactory = Callable[[], Page]


class AppSignals(QObject):
    """Signals:
    changes_announced(object): a ``ChangeSet`` from any write anywhere in the app.
    """

    changes_announced = Signal(object)


class MainWindow(QMainWindow):
    """The window around the pages.

    Args:
        data: the signed-in user's gateway (every page gets it).
        settings: the app's settings (``Settings``), replaced as a whole and saved on close.
        exports: the export job service behind the dock and every Export… button.
        backups_store: the store whose backups the administrator's Settings tab manages.
        sync_desk: this store's sync (a remote-site laptop syncs on a timer and shows its
            status under the header; on any store, supervisors decide sync conflicts in
            Settings → Sync).
        page_factories: replace how a page is built (tests).

    Signals:
        sign_out_requested(): the user chose Sign out.
        theme_change_requested(str): light, dark or system (the application restyles itself).
        demo_store_requested(): the first-day card's "Open a demo store…" (the composition
            root makes the store and calls ``switch_store``).
    """

    sign_out_requested = Signal()
    theme_change_requested = Signal(str)
    demo_store_requested = Signal()

    def __init__(
        self,
        data: DataGateway,
        settings: Settings,
        exports: ExportJobService,
        *,
        backups_store: Store | None = None,
        sync_desk: SyncDesk | None = None,
        page_factories: dict[PageKey, PageFactory] | None = None,
    ) -> None:
        super().__init__()
        self.setWindowTitle("DeskOps Desktop")
        self.setWindowIcon(icon("app"))
        self.data = data
        self.settings = settings
        self.signals = AppSignals()
        self._backups_store = backups_store
        self._factories = page_factories or {}
        self._dark = is_dark(settings.current.theme)
        self.pages: dict[PageKey, Page] = {}
        self._context: PageContext | None = None
        self._refs = self._read_references()
        self.signing_out = False  # closed by Sign out (the app asks for a sign-in again)
        self.switch_to: str | None = None  # closed to open another store (the demo store)
        state = settings.current

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
        body_layout = no_margins(QVBoxLayout(body), 0)
        body_layout.addWidget(self.header)
        self.sync_bar = SyncBar()
        self.sync_bar.hide()
        body_layout.addWidget(self.sync_bar)
        self.sync: SyncController | None = (
            SyncController(sync_desk, data, parent=self) if sync_desk is not None else None
        )
        self.offline_banner = OfflineBanner(data)
        body_layout.addWidget(self.offline_banner)
        body_layout.addWidget(self.stack, 1)
        central = QWidget()
        row = no_margins(QHBoxLayout(central), 0)
        row.addWidget(self.sidebar)
        row.addWidget(body, 1)
        self.setCentralWidget(central)
        self.statusBar().showMessage(
            f"Signed in as {actor.username} · store {data.store_label}", 8000
        )

        self.sites: list[SiteInfo] = data.read(lambda s, a: s.master.sites(a))
        self.header.set_sites(self.sites, state.selected_site_id)
        self.sidebar.set_collapsed(state.sidebar_collapsed)
        self.export_jobs = exports
        self.export_runner = ExportRunner(exports, parent=self)
        self.export_panel = ExportPanel(exports, self.export_runner, actor, settings, parent=self)
        # At the bottom: the history is a wide, short table, and a side dock would push the
        # window past 1280 px.
        self.addDockWidget(Qt.DockWidgetArea.BottomDockWidgetArea, self.export_panel)
        self.export_panel.hide()
        self.export_panel.set_dialog_context(lambda: self.sites, self._export_context)
        # Report packs that fall due while the app is open run in the same dock.
        self.pack_runner = PackRunner(self.data, self)
        self.pack_runner.started.connect(
            lambda key, title: self.export_panel.task_started(key, title, self.pack_runner.cancel)
        )
        self.pack_runner.progressed.connect(self.export_panel.task_progressed)
        self.pack_runner.finished.connect(self.export_panel.task_finished)
        self.header.export_button.setVisible(True)
        self._connect_signals()
        self._restore_geometry()
        self._apply_site(self.header.current_site_id())
        head_office = actor.role is not Role.OPERATOR
        for key in HEAD_OFFICE_PAGES:
            self.sidebar.buttons[key].setVisible(head_office)
        self._head_office = head_office
        # Head office lands on every site side by side; a one-site store on its dashboard.
        landing = AppPage.OVERVIEW if head_office and len(self.sites) > 1 else AppPage.DASHBOARD
        self.show_page(landing)
        self.export_panel.startup()  # fails a crash's leftover jobs, removes expired files
        self.pack_runner.start()
        if self.sync is not None:
            self._connect_sync(self.sync)
            self.sync.start()

    def _connect_sync(self, sync: SyncController) -> None:
        self.sync_bar.show_status(sync.status)
        sync.status_changed.connect(self.sync_bar.show_status)
        sync.started.connect(self.sync_bar.show_started)
        sync.progressed.connect(self.sync_bar.show_progress)
        sync.finished.connect(self.sync_bar.show_finished)
        sync.finished.connect(lambda report: self._show_message(f"Sync: {report.summary()}"))
        self.sync_bar.sync_requested.connect(sync.sync_now)
        self.sync_bar.details_requested.connect(self.open_sync_settings)
        self.signals.changes_announced.connect(sync.local_change)
        if sync.active:
            shortcut = QShortcut(QKeySequence(SYNC_NOW_SHORTCUT), self)
            shortcut.activated.connect(sync.sync_now)

    def open_sync_settings(self) -> None:
        """Settings → Sync (the sync bar's Details…)."""
        self.show_page(AppPage.SETTINGS)
        self.pages[AppPage.SETTINGS].show_section("sync")

    def _connect_signals(self) -> None:
        self.data.subscribe(self.signals.changes_announced.emit)
        self.signals.changes_announced.connect(self._on_changes_announced)
        self.sidebar.page_requested.connect(self.show_page)
        self.sidebar.collapsed_changed.connect(self._on_sidebar_collapsed_changed)
        self.header.site_changed.connect(self._apply_site)
        self.header.range_changed.connect(self._on_header_range_changed)
        self.header.theme_changed.connect(self._on_header_theme_changed)
        self.header.sign_out_requested.connect(self._on_header_sign_out_requested)
        self.header.change_password_requested.connect(self._on_change_password_requested)
        self.offline_banner.install_excepthook()
        self.offline_banner.connection_restored.connect(self._on_offline_banner_connection_restored)
        self.header.export_requested.connect(lambda: self.open_export_dialog())
        self.export_panel.message_posted.connect(self._show_message)
        self.export_panel.notification_posted.connect(
            lambda title, text: self.statusBar().showMessage(f"{title}: {text}", 10000)
        )
        for key, sequence in SHORTCUTS.items():
            shortcut = QShortcut(QKeySequence(sequence), self)
            shortcut.activated.connect(lambda k=key: self._on_page_shortcut(k))

    def _on_page_shortcut(self, key: PageKey) -> None:
        if key in HEAD_OFFICE_PAGES and not self._head_office:
            return
        self.show_page(key)

    def _show_message(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    def _read_references(self) -> ReferenceIndex:
        return self.data.read(lambda s, _a: s.master.reference(), area=Area.MASTER)

    # ------------------------------------------------------------------ pages
    def page(self, key: PageKey) -> Page:
        """The page for ``key``, built on first use (start-up stays fast)."""
        if key not in self.pages:
            page = self._build_page(key)
            self.pages[key] = page
            self.stack.addWidget(page)
            page.message_posted.connect(lambda text: self.statusBar().showMessage(text, 6000))
            page.export_requested.connect(self.open_export_dialog)
            if page.splitter is not None:
                saved = self.settings.current.splitters.get(page.splitter.objectName())
                if saved:
                    page.splitter.restoreState(QByteArray.fromBase64(saved.encode()))
            page.apply_theme(self._dark)
            if self._context is not None:
                page.set_context(self._context)
        return self.pages[key]

    def _build_page(self, key: PageKey) -> Page:
        # Pages are imported here, not at the top: their charts pull in pyqtgraph and numpy
        # (~0.5 s), which must not delay the first paint of the window.
        if key in self._factories:
            return self._factories[key]()
        if isinstance(key, Module) and key.is_record and key is not Module.ADJUSTMENTS:
            from deskops_desktop.views.record_page import RecordPage

            return RecordPage(key, self.data, self._refs)
        if key is Module.INVENTORY:
            from deskops_desktop.views.inventory_page import InventoryPage

            return InventoryPage(self.data)
        if key is Module.MASS_BALANCE:
            from deskops_desktop.views.mass_balance_page import MassBalancePage

            return MassBalancePage(self.data)
        if key is AppPage.OVERVIEW:
            from deskops_desktop.views.overview_page import OverviewPage

            overview = OverviewPage(self.data)
            overview.site_requested.connect(self.open_site_dashboard)
            return overview
        if key is AppPage.DASHBOARD:
            from deskops_desktop.views.dashboard_page import DashboardPage

            dashboard = DashboardPage(self.data, self.settings)
            dashboard.navigate_requested.connect(self._on_navigate_requested)
            dashboard.start_requested.connect(self._on_start_requested)
            return dashboard
        if key is AppPage.SETTINGS:
            from deskops_desktop.views.settings_page import SettingsPage

            return SettingsPage(
                self.data,
                self.settings,
                self._backups_store,
                run_pack=self.pack_runner.run,
                sync=self.sync,
                references=lambda: self._refs,
            )
        titles = dict(PAGES)
        return PlaceholderPage(
            self.data, titles[key], f"The {titles[key]} page is not part of this build yet."
        )

    def _export_context(self) -> tuple[str | None, date | None, date | None]:
        ctx = self._context
        return (ctx.site.id, ctx.date_from, ctx.date_to) if ctx else (None, None, None)

    def open_export_dialog(self, module: Module | None = None) -> None:
        """The export dialog, preset to the current site, range and (from a page) module."""
        site_id, start, end = self._export_context()
        self.export_panel.make_dialog(self.sites, site_id, start, end, module).open()

    def show_page(self, key: PageKey) -> None:
        if key is AppPage.EXPORTS or key == AppPage.EXPORTS.value:
            # Exports live in a dock beside whatever page is open.
            self.export_panel.show()
            self.export_panel.raise_()
            self.sidebar.set_current(self.current_page_key() or AppPage.DASHBOARD)
            return
        key = page_key(key)
        page = self.page(key)
        self.stack.setCurrentWidget(page)
        self.sidebar.set_current(key)
        page.focus_first()

    def _on_navigate_requested(self, key: str, code: str) -> None:
        target = page_key(key)
        self.show_page(target)
        search = self.pages[target].search_box
        if code and search is not None:
            search.setText(code)

    def _on_offline_banner_connection_restored(self) -> None:
        """The server is back: pages save what they kept, and everything shown is re-read."""
        for page in self.pages.values():
            page.retry_pending()
        self.data.announce(ChangeSet(frozenset(Area)))
        self.statusBar().showMessage("Connected to the server again", 6000)

    def current_page_key(self) -> PageKey | None:
        current = self.stack.currentWidget()
        return next((k for k, p in self.pages.items() if p is current), None)

    # ---------------------------------------------------------------- context
    def _apply_site(self, site_id: str | None) -> None:
        site = next((s for s in self.sites if s.id == site_id), None)
        if site is None:
            return
        self.settings.update(selected_site_id=site.id)
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
        for page in self.pages.values():
            page.set_context(context)

    @property
    def context(self) -> PageContext | None:
        return self._context

    def _on_changes_announced(self, changes: ChangeSet) -> None:
        if Area.MASTER in changes.areas:
            self._refs = self._read_references()
            for page in self.pages.values():
                page.set_references(self._refs)
        for page in self.pages.values():
            page.on_changes(changes)

    # ------------------------------------------------------------- settings
    def _on_sidebar_collapsed_changed(self, collapsed: bool) -> None:
        self.settings.update(sidebar_collapsed=collapsed)

    def _on_header_theme_changed(self, theme: str) -> None:
        self.settings.update(theme=theme)
        self.theme_change_requested.emit(theme)
        self._dark = is_dark(theme)
        for page in self.pages.values():
            page.apply_theme(self._dark)

    def _on_start_requested(self, action: str) -> None:
        """The first-day card: record production, import a spreadsheet, or a demo store."""
        if action == "demo":
            self.demo_store_requested.emit()
            return
        self.show_page(Module.PRODUCTION)
        if action == "import":
            self.pages[Module.PRODUCTION].import_file()

    def open_site_dashboard(self, site_id: str) -> None:
        """The overview's double-click: that site in the header, and its dashboard."""
        self.header.select_site(site_id)
        self.show_page(AppPage.DASHBOARD)

    def switch_store(self, url: str) -> None:
        """Close, so that the app opens the store at ``url`` and asks for a sign-in there."""
        self.switch_to = url
        self.signing_out = True
        self.close()

    def _on_header_sign_out_requested(self) -> None:
        self.signing_out = True
        self.sign_out_requested.emit()
        self.close()

    def _on_change_password_requested(self) -> None:
        dialog = ChangePasswordDialog(
            lambda old, new: self.data.write(lambda s, a: s.users.change_password(a, old, new)),
            self,
        )
        if dialog.exec():
            self.statusBar().showMessage("Password changed", 5000)

    def _restore_geometry(self) -> None:
        geometry = self.settings.current.window_geometry
        if geometry:
            self.restoreGeometry(QByteArray.fromBase64(geometry.encode()))
        else:
            self.resize(1366, 800)

    def save_state(self) -> None:
        splitters = dict(self.settings.current.splitters)
        for page in self.pages.values():
            if page.splitter is not None:
                state = bytes(page.splitter.saveState().toBase64().data()).decode()
                splitters[page.splitter.objectName()] = state
        self.settings.update(
            window_geometry=bytes(self.saveGeometry().toBase64().data()).decode(),
            splitters=splitters,
        )
        self.settings.save()

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.sync is not None:
            self.sync.timer.stop()
            self.sync.cancel()  # a running sync stops at its next step; what it did is kept
            self.sync.wait(15_000)
        self.export_panel.shutdown()
        self.save_state()
        super().closeEvent(event)


def page_key(text: str) -> PageKey:
    """The ``PageKey`` named ``text`` (a module's value or an ``AppPage``'s)."""
    if isinstance(text, Module | AppPage):
        return text
    try:
        return Module(text)
    except ValueError:
        return AppPage(text)
