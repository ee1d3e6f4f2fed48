"""Reload a page now when it is on screen, otherwise the next time it is shown.

Every page hears every site, range and data change; a hidden page that reloaded on each of them
would spend the user's time on figures nobody is looking at.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QWidget


class ShowRefresher(QObject):
    """Reload a page now when it is visible, or the next time it is shown (see the module)."""

    def __init__(self, page: QWidget, reload: Callable[[], None]) -> None:
        super().__init__(page)
        self._page = page
        self._reload = reload
        self.stale = False
        page.installEventFilter(self)

    def request(self) -> None:
        """The page's data changed: reload now if visible, else remember to."""
        if self._page.isVisible():
            self.run()
        else:
            self.stale = True

    def run(self) -> None:
        self.stale = False
        self._reload()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self._page and event.type() == QEvent.Type.Show and self.stale:
            self.run()
        return False
