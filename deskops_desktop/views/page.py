"""The page contract: what every page of the main window is and may do.

``MainWindow`` knows pages only through this class — it iterates over ``dict[PageKey, Page]``
and never probes for attributes. A new page subclasses ``Page``, declares the ``areas`` it
shows, implements ``reload()`` and reads and writes only through ``self._data`` (the
``DataGateway``). Everything else has a working default:

- ``set_context(context)``: the header's site and date range. Stores it, lets the page react in
  ``context_changed`` and reloads (now if visible, else when next shown: ``ShowRefresher``).
- ``on_changes(changes)``: a change-set from any write anywhere in the app. The default reloads
  when it touches one of ``areas`` at the page's site, or master data; pages rarely override it.
- ``apply_theme(dark)``: the theme changed (charts recolour). Called once right after the page
  is built, so a page never reads the theme from a global.
- ``set_references(refs)``: materials, equipment or roles changed (forms rebuild their lists).
- ``retry_pending()``: the server is back; save what an offline save kept (``True`` if saved).
- ``focus_first()``: the page was opened from the sidebar; put the cursor where typing starts.
- ``import_file(path)``: bring in a spreadsheet (record pages; the first-day card asks for it).
- Optional capabilities as typed attributes: ``splitter`` (its state is saved and restored
  across restarts) and ``search_box`` (the dashboard's "needs attention" items type a code in).

Signals:
    message_posted(str): a short status line for the main window's status bar.
    export_requested(object): the page's Export… button, with its ``Module`` preset.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLineEdit, QSplitter, QVBoxLayout, QWidget

from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import ReferenceIndex
from deskops_desktop.services.changes import Area, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.views.context import PageContext
from deskops_desktop.views.refresh import ShowRefresher
from deskops_desktop.views.widgets import label


class AppPage(StrEnum):
    """The pages that are not a module (a module's page is keyed by its ``Module``)."""

    DASHBOARD = "dashboard"
    OVERVIEW = "overview"  # every site side by side (head office)
    EXPORTS = "exports"
    SETTINGS = "settings"


PageKey = Module | AppPage


class Page(QWidget):
    """Base of every page (see the module docstring for the contract)."""

    message_posted = Signal(str)
    export_requested = Signal(object)

    #: The areas whose changes this page shows (master data always counts). A class sets it;
    #: a page whose areas depend on its arguments (a module's page) sets it per instance.
    areas: frozenset[Area] = frozenset()

    def __init__(self, data: DataGateway, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._data = data
        self._context: PageContext | None = None
        self._refresher = ShowRefresher(self, self.reload)
        self.splitter: QSplitter | None = None
        self.search_box: QLineEdit | None = None

    @property
    def context(self) -> PageContext | None:
        return self._context

    # --------------------------------------------------------------- contract
    def set_context(self, context: PageContext) -> None:
        self._context = context
        self.context_changed(context)
        self._refresher.request()

    def context_changed(self, context: PageContext) -> None:
        """Hook: the site or range changed, before the reload (defaults to nothing)."""
        del context

    def on_changes(self, changes: ChangeSet) -> None:
        """Reload when a change touches what this page shows at its site."""
        if self._context is None:
            return
        site_id = self._context.site.id
        if Area.MASTER in changes.areas or any(changes.touches(a, site_id) for a in self.areas):
            self._refresher.request()

    def reload(self) -> None:
        """Read what the page shows for the current context (every page implements this)."""
        raise NotImplementedError(f"{type(self).__name__} must implement reload()")

    def apply_theme(self, dark: bool) -> None:
        """The theme changed (or the page was just built); charts recolour here."""
        del dark

    def set_references(self, refs: ReferenceIndex) -> None:
        """Reference data changed (forms rebuild their pick lists)."""
        del refs

    def retry_pending(self) -> bool:
        """The server is back: save what an offline save kept; ``True`` if something was saved."""
        return False

    def focus_first(self) -> None:
        """The page was opened: put the keyboard where a clerk starts typing."""

    def show_section(self, name: str) -> bool:
        """Bring a named part of the page forward (Settings' ``"sync"`` tab); ``False`` when
        the page has no such part."""
        del name
        return False

    def import_file(self, path: Path | None = None) -> bool:
        """Import a spreadsheet into this page's module (asked for when ``path`` is None);
        ``False`` when the page imports nothing (only record pages do)."""
        del path
        return False


class PlaceholderPage(Page):
    """A page of a build that does not have it yet (a title and a line of text)."""

    def __init__(self, data: DataGateway, title: str, text: str) -> None:
        super().__init__(data)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        heading = label(title, "title")
        body = label(text, "muted")
        body.setWordWrap(True)
        layout.addWidget(heading)
        layout.addWidget(body)
        layout.addStretch(1)

    def reload(self) -> None:
        """Nothing to read."""
