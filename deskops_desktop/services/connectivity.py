"""Telling "the server is gone" apart from every other database error.

The data gateway (``DataGateway``) turns the first kind into ``StoreOfflineError`` and tells its
listeners the store went offline; the desktop shows a banner, keeps the clerk's unsaved form and
saves it when a probe (``probe``) finds the server again. Every other error stays what it is.

What counts as offline, on PostgreSQL only (a SQLite file does not go away; its "database is
locked" is an ``OperationalError`` too and must not turn into a banner):
- SQLAlchemy invalidated the connection (its own disconnect detection: "server closed the
  connection unexpectedly", "terminating connection due to administrator command", …);
- a new connection could not be made (psycopg reports no SQLSTATE for those);
- SQLSTATE class 08 (connection exception) or 57P01-57P03 (shutdown, crash, cannot connect now).

Pool pre-ping (``Store``) means a connection the server dropped while the app sat idle is replaced
on the next checkout without the clerk noticing; this module is for the server being down *now*.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from deskops_desktop.services.store import Store

_SHUTDOWN_STATES = frozenset({"57P01", "57P02", "57P03"})
T = TypeVar("T")


def is_offline_error(exc: BaseException) -> bool:
    """Whether ``exc`` means the PostgreSQL server cannot be reached (see the module notes)."""
    if not isinstance(exc, DBAPIError):
        return False
    if exc.connection_invalidated:
        return True
    orig = exc.orig
    module = type(orig).__module__ if orig is not None else ""
    if not module.startswith("psycopg"):
        return False
    import psycopg

    if not isinstance(orig, psycopg.OperationalError | psycopg.InterfaceError):
        return False
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SHUTDOWN_STATES


_CONFLICT_STATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
RETRY_ATTEMPTS = 3


def is_transient_conflict(exc: BaseException) -> bool:
    """A deadlock or serialization failure: the server rolled the whole transaction back, so
    running the same unit of work again is safe (and is what the server asks for)."""
    if not isinstance(exc, DBAPIError):
        return False
    return getattr(exc.orig, "sqlstate", None) in _CONFLICT_STATES


def with_retries(call: Callable[[], T], attempts: int = RETRY_ATTEMPTS) -> T:
    """Run one unit of work, again (after a short random pause) when it lost a deadlock.

    The one place DeskOps retries: ``DataGateway`` wraps every call in it, and so do the stress
    test's writers. Any other error, or the last attempt's conflict, is raised.
    """
    for attempt in range(1, attempts + 1):
        try:
            return call()
        except DBAPIError as exc:
            if attempt == attempts or not is_transient_conflict(exc):
                raise
            time.sleep(random.uniform(0.005, 0.05) * attempt)
    raise AssertionError("unreachable")  # pragma: no cover


def probe(store: Store) -> bool:
    """One cheap round trip: True when the server answers (a SQLite store always does)."""
    try:
        with store.read() as session:
            session.execute(text("SELECT 1"))
    except DBAPIError as exc:
        if is_offline_error(exc):
            return False
        raise
    return True


def connection_security(store: Store) -> str:
    """How the connection to the store is protected, in words for the Settings page.

    Encryption is what the server reports for this very connection (``pg_stat_ssl``); the
    certificate counts as verified only when libpq was told to check it (``sslmode`` verify-ca
    or verify-full, the default for a remote host: see ``Store``).
    """
    if store.is_sqlite:
        return "local file on this computer (no network)"
    mode = str(store.url.query.get("sslmode") or "prefer")
    try:
        with store.read() as session:
            row = session.execute(
                text("SELECT ssl, version, cipher FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
            ).first()
    except DBAPIError as exc:
        if is_offline_error(exc):
            return "unknown: the server cannot be reached"
        raise
    if row is None or not row.ssl:
        return "NOT encrypted" + (" (a server on this computer)" if mode != "disable" else "")
    encrypted = f"encrypted ({row.version}, {row.cipher})"
    if mode in ("verify-full", "verify-ca"):
        what = "certificate and host name" if mode == "verify-full" else "certificate"
        return f"{encrypted}, server {what} verified"
    return f"{encrypted}, server certificate NOT verified (sslmode={mode})"
