"""Report packs while the app is open: a due pack runs by itself, "Run now" on request, one at a
time, off the GUI thread, with its progress in the export dock.

Due packs are asked for every minute (``PackService.due`` with the app's clock) for an
administrator; a pack an OS task is already building marks itself running and is not started
twice. The run itself is ``export.packs.run_pack`` through the data gateway; what it changed is
announced on the GUI thread when it ends, so Settings → Reports and the dock's history follow.
"""

from __future__ import annotations

from collections import deque

from PySide6.QtCore import QObject, QThreadPool, QTimer, Signal, Slot

from deskops_desktop.export.packs import PackRun, run_pack
from deskops_desktop.models.display import first_line
from deskops_desktop.services.changes import EXPORTS_CHANGED, Area, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views import background
from deskops_desktop.views.background import SignalProgress, TaskSignals

CHECK_EVERY_MS = 60_000
PACKS_AND_EXPORTS = ChangeSet(frozenset({Area.PACKS})) | EXPORTS_CHANGED


class PackRunner(QObject):
    """Signals:
    started(str, str): a run began (its key in the dock, a title).
    progressed(str, int, str): percent (-1: unchanged) and status of the running pack.
    finished(str, str, str, bool): key, title, what came of it, whether it succeeded.
    """

    started = Signal(str, str)
    progressed = Signal(str, int, str)
    finished = Signal(str, str, str, bool)

    def __init__(self, data: DataGateway, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._data = data
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(1)
        self._queue: deque[str] = deque()
        self.running: str | None = None
        self._progress: SignalProgress | None = None
        self._signals: TaskSignals | None = None
        self.last_result = ""
        self.timer = QTimer(self)
        self.timer.setInterval(CHECK_EVERY_MS)
        self.timer.timeout.connect(self.check_due)

    def start(self) -> None:
        """Check now and every minute (administrators only: only they run packs)."""
        if self._data.actor.is_admin:
            self.check_due()
            self.timer.start()

    def check_due(self) -> list[str]:
        """Queue the packs whose time has come; the names queued."""
        now = self._data.clock.local_now()
        due = self._data.read(lambda s, a: s.packs.due(a, now))
        queued = [p.name for p in due if p.name != self.running and p.name not in self._queue]
        for name in queued:
            self.run(name)
        return queued

    def run(self, name: str) -> bool:
        """Run pack ``name`` next (``False`` when it is already running or queued)."""
        if name == self.running or name in self._queue:
            return False
        self._queue.append(name)
        self._next()
        return True

    def cancel(self, _key: str) -> None:
        if self._progress is not None:
            self._progress.cancel()

    def wait(self, msecs: int = 120_000) -> bool:
        """Block until the running pack ends (tests)."""
        return self._pool.waitForDone(msecs)

    # ------------------------------------------------------------------ inside
    def _next(self) -> None:
        if self.running is not None or not self._queue:
            return
        name = self._queue.popleft()
        self.running = name
        progress = SignalProgress(self)
        # Bound slots of this GUI-thread object, never lambdas: a lambda would run on the
        # worker thread that emits, and the dock's widgets would be touched from there.
        progress.percent.connect(self._on_percent)
        progress.status.connect(self._on_status)
        self._progress = progress
        self.started.emit(self._key(name), f"Report pack {name}")

        def work() -> PackRun:
            return self._data.read(lambda s, a: run_pack(s, a, name, progress=progress))

        self._signals = background.start(
            self._pool, self, f"report pack {name}", work, self._done, self._failed
        )

    @Slot(int)
    def _on_percent(self, percent: int) -> None:
        if self.running is not None:
            self.progressed.emit(self._key(self.running), percent, "")

    @Slot(str)
    def _on_status(self, text: str) -> None:
        if self.running is not None:
            self.progressed.emit(self._key(self.running), -1, text)

    def _key(self, name: str) -> str:
        return f"pack:{name}"

    def _end(self, text: str, ok: bool) -> None:
        name = self.running or ""
        self.running = None
        self._progress = None
        if self._signals is not None:
            self._signals.deleteLater()
            self._signals = None
        self.last_result = text
        self._data.announce(PACKS_AND_EXPORTS)
        self.finished.emit(self._key(name), f"Report pack {name}", text, ok)
        self._next()

    def _done(self, run: PackRun) -> None:
        self._end(f"{run.period.label}: {len(run.files)} files in {run.folder}", True)

    def _failed(self, exc: Exception) -> None:
        self._end(first_line(exc), False)
