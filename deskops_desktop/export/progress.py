"""How long work reports progress and learns it was cancelled: a three-method protocol.

Writers and the job service never know who listens. The Qt runner passes an object that emits
throttled signals, the command line one that draws a bar, tests a ``RecordingProgress``. Keeping
the protocol this small is what lets every writer be tested without threads or Qt.

Invariants:
- ``set_progress`` receives whole percentages 0–100 that never go down within one run.
- ``is_cancelled`` is polled by the worker; raising ``ExportCancelled`` is the worker's job, so a
  cancelled writer unwinds through its ``finally`` blocks and leaves no temporary file.
"""

from __future__ import annotations

import threading
from typing import Protocol

from deskops_desktop.models.errors import DeskOpsError


class Progress(Protocol):
    """What a long-running function may tell its caller, and ask it."""

    def set_progress(self, percent: int) -> None:
        """Whole percent done, 0–100, never decreasing."""

    def set_status(self, text: str) -> None:
        """A short line for people ("Writing rows…")."""

    def is_cancelled(self) -> bool:
        """Whether the caller wants the work stopped as soon as possible."""


class ExportCancelled(DeskOpsError):
    """The caller cancelled the export; nothing was written at the target path."""

    def __init__(self, message: str = "cancelled") -> None:
        super().__init__(message)


class NullProgress:
    """Progress for callers that do not listen (scripts, the benchmark)."""

    def set_progress(self, percent: int) -> None:
        del percent

    def set_status(self, text: str) -> None:
        del text

    def is_cancelled(self) -> bool:
        return False


class CancelFlag:
    """A thread-safe cancel request shared by the GUI thread and a worker."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    def is_set(self) -> bool:
        return self._event.is_set()


class RecordingProgress:
    """Remembers every report; can cancel itself once a percentage is reached (tests).

    Args:
        cancel_at: cancel as soon as progress reaches this percentage (None: never).
    """

    def __init__(self, cancel_at: int | None = None) -> None:
        self.percents: list[int] = []
        self.statuses: list[str] = []
        self.cancel_at = cancel_at
        self.flag = CancelFlag()

    def set_progress(self, percent: int) -> None:
        self.percents.append(percent)
        if self.cancel_at is not None and percent >= self.cancel_at:
            self.flag.cancel()

    def set_status(self, text: str) -> None:
        self.statuses.append(text)

    def is_cancelled(self) -> bool:
        return self.flag.is_set()


class RowTicker:
    """Turns "row n of total" into at most ~100 ``set_progress`` calls and cheap cancel checks.

    Writers call ``tick()`` once per row; only every ``check_every`` rows does it compute a
    percentage and poll ``is_cancelled`` — a per-row callback would cost more than the cell.

    Args:
        progress: where to report.
        total: rows expected (0 is fine: the span is reported as done at ``finish``).
        start: the percentage at row 0.
        end: the percentage at the last row (the rest is left for saving the file).
    """

    __slots__ = (
        "_countdown",
        "_end",
        "_last",
        "_progress",
        "_start",
        "check_every",
        "done",
        "total",
    )

    def __init__(self, progress: Progress, total: int, start: int = 0, end: int = 90) -> None:
        self._progress = progress
        self.total = max(total, 0)
        self._start = start
        self._end = end
        self._last = -1
        self.done = 0
        self.check_every = 512
        self._countdown = self.check_every
        self.report(start)

    def tick(self, rows: int = 1) -> None:
        self.done += rows
        self._countdown -= rows
        if self._countdown <= 0:
            self._countdown = self.check_every
            self.checkpoint()

    def checkpoint(self) -> None:
        """Report the current percentage and raise ``ExportCancelled`` when asked to stop."""
        if self._progress.is_cancelled():
            raise ExportCancelled()
        if self.total:
            share = min(self.done / self.total, 1.0)
            self.report(self._start + int((self._end - self._start) * share))

    def report(self, percent: int) -> None:
        percent = max(0, min(100, percent))
        if percent > self._last:
            self._last = percent
            self._progress.set_progress(percent)

    def finish(self) -> None:
        self.report(self._end)
