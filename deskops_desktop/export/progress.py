"""Export progress: the row ticker the writers use, and the export's own "cancelled" error.

The progress protocol itself (``Progress``, ``NullProgress``, ``RecordingProgress``,
``CancelFlag``) lives in ``models.progress``: every layer speaks it.
"""

from __future__ import annotations

from deskops_desktop.models.progress import Cancelled, Progress


class ExportCancelled(Cancelled):
    """The caller cancelled the export; nothing was written at the target path."""


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
