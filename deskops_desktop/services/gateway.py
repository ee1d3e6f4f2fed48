"""The one door between the pages and the data: cached, guarded reads; writes that announce.

A page never calls a service directly. It hands the gateway a small function of the services
and the signed-in actor — Anki's ``CollectionOp`` pattern:

    rows = data.read(lambda s, a: s.ledger.ledger(a, site.id, start, end), area=Area.LEDGER,
                     site_id=site.id, key=("ledger", start, end))
    saved = data.write(lambda s, a: s.records.create(a, Module.PRODUCTION, site.id, raw))

Both run ``guarded``: a deadlock lost on PostgreSQL is retried (``with_retries``), and a server
that went away becomes ``StoreOfflineError`` (a ``DeskOpsError`` pages show without a
traceback) while the connection listeners hear ``False``; the first call or probe that reaches
the server again makes them hear ``True`` (the offline banner, pages retrying their saves).

A read with an ``area`` is cached under ``(area, site_id, key)`` until a change touching that
area and site is announced (``Area.MASTER`` drops everything). A write returns ``Changed[T]``;
the gateway drops what the change touches and tells every listener (the Qt side turns that into
one app-level signal, and each page reloads only when an area it shows was touched). Sync
announces what it pulled through ``announce`` — the same path.

Qt-free, so it is tested without a GUI; one instance per signed-in user.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable
from typing import Any, TypeVar

from sqlalchemy.exc import DBAPIError

from deskops_desktop.models.clock import Clock
from deskops_desktop.models.errors import StoreOfflineError
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.changes import Area, Changed, ChangeSet
from deskops_desktop.services.connectivity import (
    connection_security,
    is_offline_error,
    with_retries,
)
from deskops_desktop.services.connectivity import probe as probe_store

T = TypeVar("T")
Listener = Callable[[ChangeSet], None]
ConnectionListener = Callable[[bool], None]
Op = Callable[[Services, Actor], T]
OFFLINE_MESSAGE = (
    "the server cannot be reached; nothing was saved — your entry stays in the form and is "
    "saved when the connection is back"
)
_CacheKey = tuple[Area, str | None, Hashable]


class DataGateway:
    """The cache and gateway every page reads and writes through (see the module docstring).

    Attributes:
        actor: the signed-in user every call runs as.
        clock: the app's clock (pages ask it for "today" at a site).
        online: whether the last call reached the store.
        hits, misses: cache statistics (tests and the benchmark read them).
    """

    def __init__(self, services: Services, actor: Actor) -> None:
        self._services = services
        self.actor = actor
        self.clock: Clock = services.store.clock
        self._cache: dict[_CacheKey, Any] = {}
        self._lock = threading.Lock()
        self._listeners: list[Listener] = []
        self._connection_listeners: list[ConnectionListener] = []
        self.online = True
        self.hits = 0
        self.misses = 0

    # ------------------------------------------------------------------ the door
    def read(
        self,
        load: Op[T],
        *,
        area: Area | None = None,
        site_id: str | None = None,
        key: Hashable = (),
        fresh: bool = False,
    ) -> T:
        """``load(services, actor)``, guarded; cached when ``area`` is given.

        ``key`` must name everything else ``load`` depends on (dates, filters, paging).
        ``fresh`` skips the cache and stores the new value (a timer's refresh: other clerks
        may have written on a shared server without this app hearing of it).
        """
        if area is None:
            return self.guarded(lambda: load(self._services, self.actor))
        cache_key: _CacheKey = (area, site_id, key)
        if not fresh:
            with self._lock:
                if cache_key in self._cache:
                    self.hits += 1
                    value: T = self._cache[cache_key]
                    return value
        value = self.guarded(lambda: load(self._services, self.actor))
        with self._lock:
            self.misses += 1
            self._cache[cache_key] = value
        return value

    def write(self, op: Op[Changed[T]], *, announce: bool = True) -> Changed[T]:
        """Run one unit of work, announce what it changed, and return its result.

        ``announce=False`` (a write on a worker thread) only drops the cache entries it touched;
        the caller announces ``result.changes`` on the GUI thread, where listeners live.
        """
        result = self.guarded(lambda: op(self._services, self.actor))
        if announce:
            self.announce(result.changes)
        else:
            self.invalidate(result.changes)
        return result

    # ------------------------------------------------------------- listeners
    def subscribe(self, listener: Listener) -> None:
        """``listener(changes)`` after every write or announcement."""
        self._listeners.append(listener)

    def announce(self, changes: ChangeSet) -> None:
        """Drop what ``changes`` touches and tell every listener (writes, sync, reconnects)."""
        self.invalidate(changes)
        for listener in list(self._listeners):
            listener(changes)

    def invalidate(self, changes: ChangeSet) -> None:
        with self._lock:
            for cache_key in [k for k in self._cache if _touched(k, changes)]:
                del self._cache[cache_key]

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
        """Another path (an export worker, an excepthook) found the server gone."""
        self._set_online(False)

    def guarded(self, call: Callable[[], T]) -> T:
        """Run one call: retried when it lost a deadlock (``with_retries``); a lost server
        becomes ``StoreOfflineError`` (and "offline")."""
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
        online = probe_store(self._services.store)
        self._set_online(online)
        return online

    # ------------------------------------------------------------- the store
    @property
    def store_label(self) -> str:
        """Where the data lives, for people (the URL without its password)."""
        return self._services.store.display_url

    @property
    def connection_label(self) -> str:
        """Whether the connection is local, encrypted, verified (Settings → Profile)."""
        return connection_security(self._services.store)


def _touched(key: _CacheKey, changes: ChangeSet) -> bool:
    area, site_id, _rest = key
    if Area.MASTER in changes.areas:
        return True
    return changes.touches(area, site_id)
