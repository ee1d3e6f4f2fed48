"""One function off the GUI thread, its result or its error back on the GUI thread.

The backups tab and a page's file import use it: the work runs in a ``QRunnable`` on the
caller's pool, and the signals — owned by a ``QObject`` on the GUI side — deliver the result or
the exception through Qt's queued connections, so the callbacks may touch widgets.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class TaskSignals(QObject):
    """``finished(result)`` or ``failed(exception)``, delivered on the owner's thread."""

    finished = Signal(object)
    failed = Signal(object)


class Task(QRunnable):
    """Runs one function off the GUI thread; reports through signals owned by the GUI side."""

    def __init__(self, work: Callable[[], Any], signals: TaskSignals, what: str) -> None:
        super().__init__()
        self._work = work
        self._signals = signals
        self._what = what

    def run(self) -> None:
        try:
            result = self._work()
        except Exception as exc:  # reported to the clerk; the traceback goes to the log
            log.exception("%s failed", self._what)
            self._signals.failed.emit(exc)
        else:
            self._signals.finished.emit(result)


def start(
    pool: QThreadPool,
    owner: QObject,
    what: str,
    work: Callable[[], Any],
    done: Callable[[Any], None],
    failed: Callable[[Exception], None],
) -> TaskSignals:
    """Run ``work`` on ``pool``; ``done(result)`` or ``failed(exc)`` later on the GUI thread.

    The returned signals belong to ``owner``; delete them (``deleteLater``) once handled.
    """
    signals = TaskSignals(owner)
    signals.finished.connect(done)
    signals.failed.connect(failed)
    pool.start(Task(work, signals, what))
    return signals


class SignalProgress(QObject):
    """A ``Progress`` for work on a worker thread: emits ``percent``/``status`` to the GUI
    thread (a progress dialog listens); ``cancel()`` on the GUI side is seen by the worker."""

    percent = Signal(int)
    status = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._cancelled = False

    def set_progress(self, percent: int) -> None:
        self.percent.emit(percent)

    def set_status(self, text: str) -> None:
        self.status.emit(text)

    def is_cancelled(self) -> bool:
        return self._cancelled

    def cancel(self) -> None:
        self._cancelled = True
