"""How long work reports progress and learns it was cancelled: a three-method protocol.

Exports, the demo generator, imports and backups never know who listens. The Qt runner passes an
object that emits throttled signals, the command line one that draws a bar, tests a
``RecordingProgress``. Keeping the protocol this small is what lets every long function be tested
without threads or Qt (Orange's ``TaskState`` is the model). It lives in ``models`` so every layer
can speak it.

Invariants:
- ``set_progress`` receives whole percentages 0-100 that never go down within one run.
- ``is_cancelled`` is polled by the worker; raising ``Cancelled`` (or a subclass) is the worker's
  job, so cancelled work unwinds through its ``finally`` blocks and leaves nothing half-written.
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


class Cancelled(DeskOpsError):
    """The caller cancelled long work; the worker unwound and left nothing half-written."""

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
