"""The layer between pages and services: cached reads, writes that announce what changed.

The desktop's answer to React Query: reads are cached per (kind, module, site, range, …);
a write returns a ``ChangeSet``, every cached entry the change touches is dropped, and the
listeners (the Qt side turns them into one app-level signal) hear about it so each open page
refreshes only when its area was touched. Qt-free, so it is tested without a GUI.

Connection faults are caught here, in one place: a call that finds the PostgreSQL server gone
raises ``StoreOfflineError`` (a ``DeskOpsError`` pages already show without a traceback) and the
connection listeners hear ``False``; the first call or ``check_connection`` that reaches the
server again makes them hear ``True`` (the desktop's offline banner, pages retrying saves).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from datetime import date
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from deskops_desktop.models.enums import Granularity, Module
from deskops_desktop.models.errors import StoreOfflineError
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.changes import Area, ChangeSet
from deskops_desktop.services.connectivity import is_offline_error, probe, with_retries
from deskops_desktop.services.dashboard import DashboardSnapshot
from deskops_desktop.services.imports import ImportResult, ImportService, SheetData
from deskops_desktop.services.ledger import Ledger, LedgerPage
from deskops_desktop.services.records import BatchResult, RecordRow, WriteResult

T = TypeVar("T")
Listener = Callable[[ChangeSet], None]
ConnectionListener = Callable[[bool], None]
OFFLINE_MESSAGE = (
    "the server cannot be reached; nothing was saved — your entry stays in the form and is "
    "saved when the connection is back"
)


class DataService:
    def __init__(self, services: Services, actor: Actor) -> None:
        self.services = services
        self.actor = actor
        self.clock = services.store.clock  # the app's one clock, for pages' "today"
        self._cache: dict[tuple[Hashable, ...], Any] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._connection_listeners: list[ConnectionListener] = []
        self.online = True
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------- listeners
    def subscribe(self, listener: Listener) -> None:
        self._listeners.append(listener)

    def announce(self, changes: ChangeSet) -> None:
        """Drop what ``changes`` touches and tell every listener."""
        self.invalidate(changes)
        for listener in list(self._listeners):
            listener(changes)

    # ------------------------------------------------------------ connection
    def subscribe_connection(self, listener: ConnectionListener) -> None:
        """``listener(online)`` on every change between offline and online."""
        self._connection_listeners.append(listener)

    def _set_online(self, online: bool) -> None:
        if online == self.online:
            return
        self.online = online
        for listener in list(self._connection_listeners):
            listener(online)

    def report_offline(self) -> None:
        """Another path (a page's own service call) found the server gone."""
        self._set_online(False)

    def guarded(self, call: Callable[[], T]) -> T:
        """Run one service call: retried when it lost a deadlock (``with_retries``); a lost
        server becomes ``StoreOfflineError`` (and "offline")."""
        try:
            result = with_retries(call)
        except DBAPIError as exc:
            if is_offline_error(exc):
                self._set_online(False)
                raise StoreOfflineError(OFFLINE_MESSAGE) from exc
            raise
        self._set_online(True)
        return result

    def check_connection(self) -> bool:
        """Probe the server now (the banner's timer and "Retry now"); announces a change."""
        online = probe(self.services.store)
        self._set_online(online)
        return online

    def invalidate(self, changes: ChangeSet) -> None:
        with self._lock:
            for key in [k for k in self._cache if self._touched(k, changes)]:
                del self._cache[key]

    @staticmethod
    def _touched(key: tuple[Hashable, ...], changes: ChangeSet) -> bool:
        area, site_id = key[0], key[1]
        if Area.MASTER in changes.areas:
            return True
        return changes.touches(Area(str(area)), str(site_id) if site_id else None)

    def _cached(self, key: tuple[Hashable, ...], load: Callable[[], T]) -> T:
        with self._lock:
            if key in self._cache:
                self.hits += 1
                return self._cache[key]  # type: ignore[no-any-return]
        value = self.guarded(load)
        with self._lock:
            self.misses += 1
            self._cache[key] = value
        return value

    # ------------------------------------------------------------------ reads
    def records(
        self,
        module: Module,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        search: str = "",
        sort: str = "date",
        descending: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> list[RecordRow]:
        key = (
            module.value,
            site_id,
            "list",
            date_from,
            date_to,
            search,
            sort,
            descending,
            offset,
            limit,
        )
        return self._cached(
            key,
            lambda: self.services.records.list(
                self.actor,
                module,
                site_id,
                date_from,
                date_to,
                search=search,
                sort=sort,
                descending=descending,
                offset=offset,
                limit=limit,
            ),
        )

    def count(
        self, module: Module, site_id: str, date_from: date, date_to: date, search: str = ""
    ) -> int:
        key = (module.value, site_id, "count", date_from, date_to, search)
        return self._cached(
            key,
            lambda: self.services.records.count(
                self.actor, module, site_id, date_from, date_to, search=search
            ),
        )

    def record(self, module: Module, record_id: str) -> RecordRow:
        """One record as it is now (not cached: used to compare with a stale copy)."""
        return self.guarded(lambda: self.services.records.get(self.actor, module, record_id))

    def ledger(
        self,
        site_id: str,
        date_from: date,
        date_to: date,
        granularity: Granularity = Granularity.DAILY,
        category: str | None = None,
    ) -> Ledger:
        key = (Area.LEDGER.value, site_id, "ledger", date_from, date_to, granularity, category)
        return self._cached(
            key,
            lambda: self.services.ledger.ledger(
                self.actor, site_id, date_from, date_to, granularity, category
            ),
        )

    def ledger_page(
        self,
        site_id: str,
        date_from: date,
        date_to: date,
        offset: int,
        limit: int,
        category: str | None = None,
    ) -> LedgerPage:
        key = (Area.LEDGER.value, site_id, "page", date_from, date_to, offset, limit, category)
        return self._cached(
            key,
            lambda: self.services.ledger.page(
                self.actor, site_id, date_from, date_to, offset, limit, category
            ),
        )

    def dashboard(self, site_id: str, date_from: date, date_to: date) -> DashboardSnapshot:
        key = (Area.DASHBOARD.value, site_id, "snapshot", date_from, date_to)
        return self._cached(
            key, lambda: self.services.dashboard.snapshot(self.actor, site_id, date_from, date_to)
        )

    # ----------------------------------------------------------------- writes
    def create(
        self, module: Module, site_id: str, raw: Mapping[str, object], record_id: str | None = None
    ) -> WriteResult:
        result = self.guarded(
            lambda: self.services.records.create(
                self.actor, module, site_id, raw, record_id=record_id
            )
        )
        self.announce(result.changes)
        return result

    def update(
        self,
        module: Module,
        record_id: str,
        raw: Mapping[str, object],
        expected_version: int | None,
    ) -> WriteResult:
        result = self.guarded(
            lambda: self.services.records.update(
                self.actor, module, record_id, raw, expected_version=expected_version
            )
        )
        self.announce(result.changes)
        return result

    def delete(
        self, module: Module, record_id: str, expected_version: int | None = None
    ) -> WriteResult:
        result = self.guarded(
            lambda: self.services.records.delete(
                self.actor, module, record_id, expected_version=expected_version
            )
        )
        self.announce(result.changes)
        return result

    def import_sheet(self, site_id: str, sheet: SheetData, source: str = "") -> ImportResult:
        """Add pasted or imported rows all or nothing (see ``services.imports``)."""
        result = self.guarded(
            lambda: ImportService(self.services.records).import_sheet(
                self.actor, site_id, sheet, source=source
            )
        )
        self.announce(result.changes)
        return result

    def create_many(
        self, module: Module, site_id: str, rows: Sequence[Mapping[str, object]]
    ) -> BatchResult:
        result = self.guarded(
            lambda: self.services.records.create_many(self.actor, module, site_id, rows)
        )
        self.announce(result.changes)
        return result
