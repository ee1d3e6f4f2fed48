"""Starting the desktop app: logging, theme, store, first-start setup, sign-in, main window.

The store is checked before it is opened (``open_checked_store``): a damaged SQLite file is set
aside and the clerk is offered the newest good backup, never an empty store. Once open, the
daily backup runs on a background thread so it never delays the first window.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time

from pyqtgraph.util.garbage_collector import GarbageCollector
from PySide6.QtCore import QEventLoop, QThreadPool
from PySide6.QtWidgets import QApplication, QMessageBox, QProgressDialog
from sqlalchemy.engine import make_url

from deskops_desktop.export.jobs import ExportJobService
from deskops_desktop.logs import setup_logging
from deskops_desktop.models.clock import SYSTEM_CLOCK, Clock
from deskops_desktop.models.display import first_line
from deskops_desktop.models.enums import Role
from deskops_desktop.models.errors import DeskOpsError
from deskops_desktop.services import backups
from deskops_desktop.services.access import Actor
from deskops_desktop.services.app_state import Settings, load_state
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.connectivity import probe
from deskops_desktop.services.demo import DEMO_PASSWORD
from deskops_desktop.services.demo_store import (
    DEMO_ADMIN,
    DemoStore,
    create_demo_store,
    demo_store_path,
)
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.secrets import set_db_password
from deskops_desktop.services.store import (
    ENV_DB_URL,
    Store,
    open_store,
    resolve_db_url,
    sqlite_file,
)
from deskops_desktop.sync import SyncReport, join
from deskops_desktop.sync.desk import SyncDesk
from deskops_desktop.views import background
from deskops_desktop.views.background import SignalProgress
from deskops_desktop.views.dialogs import LoginDialog, SetupDialog, install_excepthook
from deskops_desktop.views.main_window import MainWindow
from deskops_desktop.views.theme import apply_theme, icon

log = logging.getLogger(__name__)

GC_INTERVAL_S = 1.0


def collect_on_gui_thread(app: QApplication) -> GarbageCollector:
    """Python's cycle collector runs only on the GUI thread, on a timer.

    Left automatic, a collection starts in whichever thread allocates: an export, a report
    pack or an import on a worker thread then destroys unreachable Qt wrappers (a closed
    dialog, an old model) off the GUI thread, and Qt warns "Timers cannot be started from
    another thread" or crashes (CI saw it in a pack run). pyqtgraph's collector (already a
    dependency) disables the automatic collector and checks the same thresholds every second.
    """
    collector = GarbageCollector(interval=GC_INTERVAL_S)
    _COLLECTORS.append(collector)  # kept for the life of the process with the application
    return collector


_COLLECTORS: list[GarbageCollector] = []


def application() -> QApplication:
    app = QApplication.instance()
    if isinstance(app, QApplication):
        return app
    app = QApplication(sys.argv[:1])
    collect_on_gui_thread(app)
    app.setApplicationName("DeskOps")
    app.setOrganizationName("DeskOps")
    app.setApplicationDisplayName("DeskOps Desktop")
    app.setWindowIcon(icon("app"))
    return app


def check_connection(url: str, password: str) -> str | None:
    """None when a PostgreSQL server answers at ``url`` (with ``password``), else why not."""
    if not url.startswith(("postgresql", "postgres")):
        return "the URL must start with postgresql://"
    try:
        store = Store(make_url(url).set(password=password or None))
        try:
            answered = probe(store)
        finally:
            store.dispose()
    except Exception as exc:  # any driver or network failure is reported, not raised
        return first_line(exc, 200)
    return None if answered else "the server does not answer (is it running, is the port open?)"


def open_checked_store(url: str | None, clock: Clock) -> Store | None:
    """Check, recover if needed, back up before a schema upgrade, and open the store.

    Returns None when the clerk chose to quit the recovery dialog. Errors (a store on a network
    share, a locked file, a failed upgrade) are raised for the caller to show.
    """
    resolved = resolve_db_url(url)
    path = sqlite_file(resolved)
    if path is not None:
        started = time.perf_counter()
        health = backups.check_store(path, clock.local_now())
        log.info(
            "store check of %s: %s in %.3f s", path, health.state, time.perf_counter() - started
        )
        if health.needs_recovery:
            from deskops_desktop.views.recovery_dialog import QUIT, recover_store

            if recover_store(health, clock) == QUIT:
                return None
    store = open_store(resolved, migrate=False, clock=clock)
    backups.backup_before_upgrade(store)
    store.upgrade()
    store.seed_reference_data()
    return store


def start_daily_backup(store: Store) -> threading.Thread:
    """The once-a-day backup, off the GUI thread; a failure is logged, never shown at start."""

    def work() -> None:
        try:
            info = backups.daily_backup(store)
        except Exception:
            log.exception("the daily backup failed")
            return
        if info is not None:
            log.info("daily backup: %s", info.path)

    thread = threading.Thread(target=work, name="deskops-daily-backup", daemon=True)
    thread.start()
    return thread


def sync_desk_for(store: Store) -> SyncDesk | None:
    """The store's sync: a remote-site laptop syncs; on a company server supervisors decide
    what laptops sent. A lone laptop store has none."""
    desk = SyncDesk(store)
    return desk if desk.is_replica or not store.is_sqlite else None


def build_window(
    services: Services, actor: Actor, settings: Settings, desk: SyncDesk | None = None
) -> MainWindow:
    """The main window for ``actor``: the composition of gateway, export jobs, store and sync."""
    window = MainWindow(
        DataGateway(services, actor),
        settings,
        ExportJobService(services),
        backups_store=services.store,
        sync_desk=desk,
    )
    window.theme_change_requested.connect(lambda theme: apply_theme(application(), theme))
    window.demo_store_requested.connect(
        lambda: DemoStoreOffer(window, services.store.clock).start()
    )
    return window


class DemoStoreOffer:
    """ "Open a demo store…": ask, fill the throw-away store with progress, then switch to it.

    The clerk's own store stays as it is; the next start of DeskOps opens it again.
    """

    def __init__(self, window: MainWindow, clock: Clock, *, ask: bool = True) -> None:
        self._window = window
        self._clock = clock
        self._ask = ask
        self._pool = QThreadPool(window)
        self.progress: QProgressDialog | None = None
        self.result: DemoStore | None = None
        self.error = ""

    def start(self) -> bool:
        path = demo_store_path()
        if self._ask:
            answer = QMessageBox.question(
                self._window,
                "Open a demo store",
                "DeskOps fills a separate, throw-away store with three demo plants and 120 days"
                f" of records ({path}) and opens it. Your own store is not touched: start"
                " DeskOps again to come back to it.\n\nYou sign in to the demo as"
                f" {DEMO_ADMIN}, password {DEMO_PASSWORD}.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                return False
        dialog = QProgressDialog("Preparing the demo store…", "", 0, 100, self._window)
        dialog.setCancelButton(None)  # the demo file is throw-away; it finishes in ~10 s
        dialog.setWindowTitle("Demo store")
        dialog.setMinimumDuration(0)
        dialog.setModal(True)
        self.progress = dialog
        reporter = SignalProgress(dialog)
        reporter.percent.connect(dialog.setValue)
        reporter.status.connect(dialog.setLabelText)
        clock = self._clock
        background.start(
            self._pool,
            dialog,
            "the demo store",
            lambda: create_demo_store(clock, path=path, progress=reporter),
            self._done,
            self._failed,
        )
        return True

    def wait(self, msecs: int = 120_000) -> bool:
        """Block until the store is made (tests)."""
        return self._pool.waitForDone(msecs)

    def _done(self, made: DemoStore) -> None:
        self.result = made
        if self.progress is not None:
            self.progress.close()
        self._window.switch_store(made.url)

    def _failed(self, exc: Exception) -> None:
        self.error = first_line(exc)
        if self.progress is not None:
            self.progress.close()
        QMessageBox.warning(self._window, "No demo store", f"The demo store failed: {self.error}")


class FirstStart:
    """The first-start dialog's work: where the data lives, and the first administrator.

    ``chosen`` ends as the services of the store the clerk chose (this computer's file, or a
    PostgreSQL server); ``actor`` as the administrator just created, signed in — nobody types
    the password they have just typed twice a third time.
    """

    def __init__(self, services: Services, settings: Settings, clock: Clock) -> None:
        self.chosen = services
        self.actor: Actor | None = None
        self.desk: SyncDesk | None = None
        self._settings = settings
        self._clock = clock
        self.join_error = ""

    def join_laptop(self, server_url: str, username: str, password: str, codes: list[str]) -> None:
        """The first-start dialog's third choice: this computer's store becomes a replica of
        ``codes``; the first download runs off the GUI thread with a cancellable progress
        dialog (a cancelled or broken download resumes when the clerk joins again)."""
        store = self.chosen.store
        progress = SignalProgress()
        dialog = QProgressDialog("Connecting to head office…", "Stop", 0, 100)
        dialog.setWindowTitle("First download from head office")
        dialog.setMinimumDuration(0)
        dialog.setAutoClose(False)
        dialog.setAutoReset(False)
        progress.percent.connect(dialog.setValue)
        progress.status.connect(dialog.setLabelText)
        dialog.canceled.connect(progress.cancel)
        pool = QThreadPool()
        pool.setMaxThreadCount(1)
        loop = QEventLoop()
        outcome: list[SyncReport | Exception] = []

        def finish(value: SyncReport | Exception) -> None:
            outcome.append(value)
            loop.quit()

        signals = background.start(
            pool,
            dialog,
            "first download",
            lambda: join(store, server_url, username, password, codes, progress),
            finish,
            finish,
        )
        dialog.show()
        loop.exec()
        pool.waitForDone()
        dialog.close()
        signals.deleteLater()
        result = outcome[0]
        if isinstance(result, Exception):
            self.join_error = first_line(result)
            raise DeskOpsError(f"Not joined: {self.join_error}")
        if not result.ok:
            self.join_error = result.error
            raise DeskOpsError(f"Not joined: {result.error}")
        desk = SyncDesk(store)
        self.actor = desk.sign_in(username, password)
        self.desk = desk

    def create_admin(
        self,
        remote: str | None,
        db_password: str | None,
        username: str,
        display_name: str,
        password: str,
    ) -> None:
        target = self.chosen
        if remote is not None:
            if db_password:
                set_db_password(remote, db_password)
            try:
                target = build_services(open_store(remote, clock=self._clock))
            except Exception as exc:
                raise DeskOpsError(f"cannot open the PostgreSQL store: {exc}") from None
            self._settings.update(db_url=remote)
        if not target.store.needs_sign_in and target.users.count() == 0:
            if remote is not None and not password:
                raise DeskOpsError(
                    "this server has no DeskOps users yet: fill in the first administrator"
                )
            target.users.create(None, username, password, Role.ADMIN, display_name=display_name)
            self.actor = target.users.authenticate(username, password)
        self.chosen = target


def run(db_url: str | None = None, clock: Clock = SYSTEM_CLOCK) -> int:
    """The desktop app from start to exit; ``clock`` is the app's one clock (see models.clock)."""
    log_file = setup_logging()
    app = application()
    install_excepthook(log_file)
    settings = Settings(load_state())
    apply_theme(app, settings.current.theme)
    url = db_url or os.environ.get(ENV_DB_URL) or settings.current.db_url
    try:
        store = open_checked_store(url, clock)
    except Exception as exc:
        log.exception("cannot open the store")
        QMessageBox.critical(None, "DeskOps cannot open its data", f"{exc}\n\nLog: {log_file}")
        return 1
    if store is None:
        return 0
    start_daily_backup(store)
    services = build_services(store)

    # A secured company server (no user name in its URL) is set up by `deskops db init-server`
    # and cannot be read before sign-in: straight to the sign-in dialog.
    actor: Actor | None = None
    desk = sync_desk_for(store)
    if not store.needs_sign_in and services.users.count() == 0:  # a laptop always has users
        first = FirstStart(services, settings, clock)
        setup = SetupDialog(check_connection, first.create_admin, join_laptop=first.join_laptop)
        if not setup.exec():
            return 0
        services = first.chosen
        actor = first.actor  # the new administrator (or the laptop's clerk) goes straight in
        desk = first.desk or sync_desk_for(services.store)
        settings.save()

    switched = False  # on another store for this session (the demo): remember nothing of it
    while True:
        if actor is None:
            # On a laptop the sign-in asks head office when it answers (else the laptop's
            # saved check) and keeps the password for this session's syncs.
            login = LoginDialog(
                desk.sign_in
                if desk is not None and desk.is_replica
                else services.users.authenticate,
                DEMO_ADMIN if switched else settings.current.last_username,
                services.store.display_url,
            )
            if not login.exec() or login.actor is None:
                return 0
            actor = login.actor
        if not switched:
            settings.update(last_username=actor.username)
        window = build_window(services, actor, settings, desk)
        window.show()
        app.exec()
        if not window.signing_out:
            return 0
        actor = None  # signed out: the next one signs in
        if desk is not None:
            desk.forget()
        if window.switch_to is not None:
            # Another store for this session only (the demo); settings keep the clerk's own.
            services = build_services(open_store(window.switch_to, clock=clock))
            desk = None
            switched = True
