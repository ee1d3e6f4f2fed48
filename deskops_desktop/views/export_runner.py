"""Runs export jobs off the GUI thread: a dedicated ``QThreadPool`` of ``QRunnable`` tasks.

Each task calls ``ExportJobService.run(job_id, progress)`` — a plain function that opens its own
database sessions in the pool thread — and reports through ``ExportRunnerSignals``, a ``QObject``
owned by the runner on the GUI side (a ``QRunnable`` is not a ``QObject`` and may be deleted when
it ends, so it must never own the signals). Emitting from the pool thread queues the slot calls
onto the GUI thread.

Invariants a newcomer must not break:
- The GUI thread never runs an export and never waits for one (except ``shutdown``).
- Progress signals are throttled (``PROGRESS_INTERVAL_S``): a job emits at most ~10 per second
  whatever its row count, so the event queue stays short.
- Cancelling sets a thread-safe flag; the writer notices at its next checkpoint, removes its
  temporary file and the job ends ``failed`` with the reason "Cancelled".
- While exports run, the objects that existed when the first one started are frozen out of the
  garbage collector (``gc.freeze``) and thawed when the last one ends. An export allocates
  millions of cells; each full collection then scanned the whole application heap with the GIL
  held, freezing the GUI thread for 70–110 ms (measured). Frozen, a full collection only scans
  what the export itself made. Nothing leaks: ``gc.unfreeze`` hands everything back.
- One export at a time by default: the writers are pure Python under the GIL, so a second
  thread adds no speed on a laptop, only contention with the GUI thread. Jobs queue instead.
"""

from __future__ import annotations

import gc
import logging
import time
import traceback
from collections.abc import Callable

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

from deskops_desktop.export.jobs import ExportJobService, JobInfo
from deskops_desktop.models.progress import CancelFlag

log = logging.getLogger(__name__)

PROGRESS_INTERVAL_S = 0.1
DEFAULT_PARALLEL_JOBS = 1


class ExportRunnerSignals(QObject):
    """Signals:
    job_started(str): a job left the queue and began (its id).
    job_progressed(str, int, str): job id, percent 0–100, status text (throttled).
    job_finished(str, object, str): job id, the final ``JobInfo`` (or None when the job could
        not even start), and an error text for that case ("" otherwise).
    background_finished(int, object): a ``run_background`` call ended (its ticket, result).
    """

    job_started = Signal(str)
    job_progressed = Signal(str, int, str)
    job_finished = Signal(str, object, str)
    background_finished = Signal(int, object)


class _SignalProgress:
    """The ``Progress`` a pool thread reports to: throttled signals plus the cancel flag."""

    def __init__(self, job_id: str, signals: ExportRunnerSignals, flag: CancelFlag) -> None:
        self._job_id = job_id
        self._signals = signals
        self._flag = flag
        self._percent = 0
        self._status = ""
        self._emitted_at = 0.0
        self._emitted: tuple[int, str] | None = None

    def set_progress(self, percent: int) -> None:
        self._percent = percent
        self._emit(force=percent >= 100)

    def set_status(self, text: str) -> None:
        self._status = text
        self._emit(force=True)

    def is_cancelled(self) -> bool:
        return self._flag.is_set()

    def _emit(self, *, force: bool) -> None:
        now = time.monotonic()
        state = (self._percent, self._status)
        if state == self._emitted:
            return
        if not force and now - self._emitted_at < PROGRESS_INTERVAL_S:
            return
        self._emitted_at = now
        self._emitted = state
        self._signals.job_progressed.emit(self._job_id, self._percent, self._status)


class _ExportTask(QRunnable):
    def __init__(
        self, jobs: ExportJobService, job_id: str, signals: ExportRunnerSignals, flag: CancelFlag
    ) -> None:
        super().__init__()
        self._jobs = jobs
        self._job_id = job_id
        self._signals = signals
        self._flag = flag

    def run(self) -> None:
        self._signals.job_started.emit(self._job_id)
        progress = _SignalProgress(self._job_id, self._signals, self._flag)
        try:
            info: JobInfo | None = self._jobs.run(self._job_id, progress)
            error = ""
        except Exception as exc:  # the job could not start (removed, not pending, store gone)
            log.warning("export %s could not run: %s", self._job_id, traceback.format_exc())
            info, error = None, str(exc) or type(exc).__name__
        self._signals.job_finished.emit(self._job_id, info, error)


class _FunctionTask(QRunnable):
    def __init__(
        self, ticket: int, function: Callable[[], object], signals: ExportRunnerSignals
    ) -> None:
        super().__init__()
        self._ticket = ticket
        self._function = function
        self._signals = signals

    def run(self) -> None:
        try:
            result: object = self._function()
        except Exception as exc:  # reported to the caller, never raised in a pool thread
            log.warning("background export task failed: %s", traceback.format_exc())
            result = exc
        self._signals.background_finished.emit(self._ticket, result)


class ExportRunner(QObject):
    """Queues jobs on its own thread pool; at most ``max_parallel`` run at once.

    Reads and exports may run in parallel (each job has its own sessions); the pool is separate
    from ``QThreadPool.globalInstance()`` so exports never starve other background work.
    """

    def __init__(
        self,
        jobs: ExportJobService,
        *,
        max_parallel: int = DEFAULT_PARALLEL_JOBS,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.jobs = jobs
        self.signals = ExportRunnerSignals(self)
        self._pool = QThreadPool(self)
        self._pool.setMaxThreadCount(max_parallel)
        self._flags: dict[str, CancelFlag] = {}
        self._callbacks: dict[int, Callable[[object], None]] = {}
        self._ticket = 0
        self.signals.job_finished.connect(self._on_signals_job_finished)
        self.signals.background_finished.connect(self._on_signals_background_finished)

    def submit(self, job_id: str) -> None:
        """Queue a pending job (created with ``ExportJobService.create`` or ``retry``)."""
        if job_id in self._flags:
            return
        if not self._flags:
            gc.freeze()
        flag = CancelFlag()
        self._flags[job_id] = flag
        self._pool.start(_ExportTask(self.jobs, job_id, self.signals, flag))

    def cancel(self, job_id: str) -> bool:
        """Ask a queued or running job to stop; False when this runner does not know it."""
        flag = self._flags.get(job_id)
        if flag is None:
            return False
        flag.cancel()
        return True

    def is_running(self, job_id: str) -> bool:
        return job_id in self._flags

    @property
    def active_ids(self) -> tuple[str, ...]:
        return tuple(self._flags)

    def run_background(
        self, function: Callable[[], object], done: Callable[[object], None] | None = None
    ) -> None:
        """Run ``function`` on the pool; ``done(result)`` is called on the GUI thread after."""
        self._ticket += 1
        if done is not None:
            self._callbacks[self._ticket] = done
        self._pool.start(_FunctionTask(self._ticket, function, self.signals))

    def wait(self, msecs: int = -1) -> bool:
        """Block until the pool is idle (tests, shutdown); True when it is."""
        return self._pool.waitForDone(msecs)

    def shutdown(self, msecs: int = 10_000) -> bool:
        """Cancel everything and wait for the threads (call before the store is disposed)."""
        for flag in self._flags.values():
            flag.cancel()
        return self._pool.waitForDone(msecs)

    def _on_signals_job_finished(self, job_id: str, _info: object, _error: str) -> None:
        if self._flags.pop(job_id, None) is not None and not self._flags:
            gc.unfreeze()

    def _on_signals_background_finished(self, ticket: int, result: object) -> None:
        callback = self._callbacks.pop(ticket, None)
        if callback is not None:
            callback(result)
