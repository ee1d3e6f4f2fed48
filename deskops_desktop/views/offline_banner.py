"""The strip that says the server is unreachable, and the probe that notices when it is back.

Shown when ``DataGateway`` reports the PostgreSQL server gone (a save or read raised
``StoreOfflineError``); while shown it probes the server every ``PROBE_MS`` and on "Retry now".
When the server answers again it hides and emits ``connection_restored``: record pages then save
the entry they kept in their form. A connection error that escapes some other page's slot is
caught by ``install_excepthook`` and shows this banner instead of an error dialog.
"""

from __future__ import annotations

import logging
import sys
import weakref
from types import TracebackType

from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QWidget

from deskops_desktop.models.errors import StoreOfflineError
from deskops_desktop.services.connectivity import is_offline_error
from deskops_desktop.services.gateway import DataGateway

log = logging.getLogger(__name__)

PROBE_MS = 3000
TEXT = (
    "Offline — the server cannot be reached. Unsaved entries stay in their forms and are saved "
    "when it is back."
)


class OfflineBanner(QFrame):
    """Signals:
    connection_restored(): the server answered again after being unreachable.
    """

    connection_restored = Signal()
    _state_changed = Signal(bool)  # listeners may be called on a worker thread: queue to GUI

    def __init__(self, data: DataGateway, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = data
        self.setObjectName("offline_banner")
        self.setProperty("role", "banner")
        self.setStyleSheet(
            "#offline_banner { background: #fde2e1; border-bottom: 1px solid #e5a3a0; }"
            "#offline_banner QLabel { color: #7a1c17; }"
        )
        self.label = QLabel(TEXT)
        self.label.setWordWrap(True)
        self.retry_button = QPushButton("Retry now")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(16, 6, 16, 6)
        layout.addWidget(self.label, 1)
        layout.addWidget(self.retry_button)
        self.timer = QTimer(self)
        self.timer.setInterval(PROBE_MS)
        self._connect_signals()
        self.hide()

    def _connect_signals(self) -> None:
        self._data.subscribe_connection(self._state_changed.emit)
        self._state_changed.connect(self._on_state_changed)
        self.timer.timeout.connect(self.probe)
        self.retry_button.clicked.connect(self.probe)

    @property
    def offline(self) -> bool:
        return not self.isHidden()

    def probe(self) -> bool:
        """Ask the server now; True when it answered (the banner then hides itself)."""
        try:
            return self._data.check_connection()
        except Exception:  # a server that answers with an error is not "back" for us
            log.exception("connection probe failed")
            return False

    def _on_state_changed(self, online: bool) -> None:
        if not online:
            if self.isHidden():
                log.warning("store offline: %s", self._data.store_label)
            self.show()
            self.timer.start()
            return
        self.timer.stop()
        if not self.isHidden():
            self.hide()
            log.info("store back online")
            self.connection_restored.emit()

    def install_excepthook(self) -> None:
        """Turn a stray connection error in any slot into this banner (not an error dialog)."""
        previous = sys.excepthook
        banner = weakref.ref(self)
        data = self._data

        def hook(kind: type[BaseException], value: BaseException, tb: TracebackType | None) -> None:
            if banner() is not None and (
                isinstance(value, StoreOfflineError) or is_offline_error(value)
            ):
                log.warning("connection lost during %s: %s", kind.__name__, value)
                data.report_offline()
                return
            previous(kind, value, tb)

        sys.excepthook = hook
        self.destroyed.connect(lambda *_: _restore_hook(hook, previous))


def _restore_hook(ours: object, previous: object) -> None:
    if sys.excepthook is ours:
        sys.excepthook = previous  # type: ignore[assignment]
