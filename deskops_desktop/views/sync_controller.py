"""Sync on a remote-site laptop while the app is open: on a timer, soon after a save, at once on
"Sync now", never on the GUI thread.

The controller owns the timing (``sync.SyncSchedule``: the regular interval, soon after a local
change, capped backoff while head office cannot be reached, no timer for errors that need a
person) and the one worker thread syncs run on. What a sync pulled is announced through the data
gateway on the GUI thread, so every open page refreshes; the status line is re-read (locally,
cheaply) after every sync and every write. Other network calls of the sync desk (the moderators'
queue, a decision) run on the same worker through ``call``, one at a time, so a decision never
races a sync.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from deskops_desktop.services.changes import ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.sync import SyncReport, SyncSchedule, SyncStatus
from deskops_desktop.sync.desk import SyncDesk
from deskops_desktop.views import background
from deskops_desktop.views.background import SignalProgress, TaskSignals

log = logging.getLogger(__name__)

FIRST_SYNC_DELAY_S = 3.0  # after the window is up: the clerk sees the app before any network


class SyncController(QObject):
    """Signals:
    status_changed(object): the ``SyncStatus`` after a sync or a local write.
    started(): a sync began.
    progressed(int, str): percent (-1: unchanged) and what it is doing.
    finished(object): the ``SyncReport`` of the sync that ended.
    """

    status_changed = Signal(object)
    started = Signal()
    progressed = Signal(int, str)
    finished = Signal(object)

    def __init__(
        self,
        desk: SyncDesk,
        data: DataGateway,
        schedule: SyncSchedule | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.desk = desk
        self._data = data
        self.schedule = schedule or SyncSchedule()
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)  # one network task at a time: a sync or a decision
        self.running = False
        self.failures = 0  # consecutive syncs that could not reach head office
        self.next_delay_s: float | None = None  # when the timer fires next (None: no timer)
        self.last_report: SyncReport | None = None
        self.status: SyncStatus = desk.status()
        self._progress: SignalProgress | None = None
        self._tasks: list[TaskSignals] = []
        self._announcing = False
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self.sync_now)

    @property
    def active(self) -> bool:
        """Whether this store syncs at all (a remote-site laptop)."""
        return self.status.is_replica

    def start(self) -> None:
        """Plan the first sync shortly after start-up (laptops only)."""
        if self.active:
            self._plan(FIRST_SYNC_DELAY_S)

    # ------------------------------------------------------------------ syncs
    def sync_now(self) -> bool:
        """Sync now ("Sync now", the timer); False when one is already running."""
        if not self.active or self.running:
            return False
        self.timer.stop()
        self.running = True
        progress = SignalProgress(self)
        progress.percent.connect(self._on_percent)
        progress.status.connect(self._on_status)
        self._progress = progress
        self.started.emit()
        self.call(lambda: self.desk.run(progress), self._on_synced, self._on_sync_failed)
        return True

    def cancel(self) -> None:
        if self._progress is not None:
            self._progress.cancel()

    def wait(self, msecs: int = 120_000) -> bool:
        """Block until the worker is idle (tests, closing the window)."""
        return self._pool.waitForDone(msecs)

    def local_change(self, changes: ChangeSet) -> None:
        """A write in this app: refresh the status line, and sync soon."""
        if not self.active or self._announcing:
            return
        self.refresh_status()
        if not self.running and self.status.waiting:
            # What is left of the planned wait (not the wait as planned): a save never delays
            # a sync that is due sooner.
            left = self.schedule.soon
            if self.timer.isActive():
                left = self.timer.remainingTime() / 1000
            self._plan(self.schedule.after_local_change(left))

    def refresh_status(self) -> SyncStatus:
        self.status = self.desk.status()
        self.status_changed.emit(self.status)
        return self.status

    # ------------------------------------------------------------ the worker
    def call(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None],
        failed: Callable[[Exception], None],
    ) -> None:
        """Run one network call of the desk (a sync, the queue, a decision) on the sync worker.

        The worker has one thread, so calls run one at a time: a decision never races a sync.
        """
        holder: list[TaskSignals] = []

        def finish(callback: Callable[[Any], None], value: Any) -> None:
            for signals in holder:
                self._tasks.remove(signals)
                signals.deleteLater()
            callback(value)

        signals = background.start(
            self._pool,
            self,
            "sync",
            work,
            lambda value: finish(done, value),
            lambda exc: finish(failed, exc),
        )
        holder.append(signals)
        self._tasks.append(signals)

    # ---------------------------------------------------------------- inside
    @Slot(int)
    def _on_percent(self, percent: int) -> None:
        self.progressed.emit(percent, "")

    @Slot(str)
    def _on_status(self, text: str) -> None:
        self.progressed.emit(-1, text)

    def _plan(self, delay_s: float | None) -> None:
        self.next_delay_s = delay_s
        if delay_s is None:
            self.timer.stop()
            return
        self.timer.start(max(0, int(delay_s * 1000)))

    def _on_synced(self, report: SyncReport) -> None:
        self.running = False
        self._progress = None
        self.last_report = report
        if report.changes.areas:
            self._announcing = True  # what head office sent is not a local change to push
            try:
                self._data.announce(report.changes)
            finally:
                self._announcing = False
        status = self.refresh_status()
        if report.ok:
            self.failures = 0
            self._plan(self.schedule.after_success(waiting=status.waiting))
        elif report.offline:
            self.failures += 1
            self._plan(self.schedule.after_offline(self.failures))
        elif self.schedule.needs_a_person(report.error):
            self._plan(None)  # the status line says what to do; "Sync now" still runs
        else:
            self.failures += 1
            self._plan(self.schedule.after_offline(self.failures))
        self.finished.emit(report)

    def _on_sync_failed(self, exc: Exception) -> None:
        log.error("sync failed: %s", exc)
        report = SyncReport(ok=False, error=str(exc) or type(exc).__name__)
        self._on_synced(report)
