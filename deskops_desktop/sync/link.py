"""A laptop's connection to head office as one clerk's own PostgreSQL role, for one sync run.

Push and pull run as the clerk whose work they carry, so row-level security decides every row
exactly as for an online clerk. Each ``ServerLink`` is one login role; it never pools across
runs (``NullPool``) and every failure to reach the server becomes ``SyncOffline``.

A network can fail in ways a database driver does not notice: a router that drops packets
without a reset keeps the socket "open" for hours. Three guards, so a sync never hangs:
- libpq's ``connect_timeout`` and TCP keepalives (``keepalives_*``, ``tcp_user_timeout``);
- server-side ``statement_timeout`` and ``idle_in_transaction_session_timeout`` on every sync
  session, so a vanished laptop never holds a transaction (and with it the feed's fence) open;
- a watchdog: when no statement completes for ``io_timeout`` seconds while the link is in use,
  it shuts the socket down under the driver, which then fails the call at once (a proxy that
  accepts bytes and never answers is caught too; keepalives would be answered by the proxy).
"""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import NullPool

from deskops_desktop.sync.adapter import is_offline_error, roles_for
from deskops_desktop.sync.feed import begin_snapshot
from deskops_desktop.sync.protocol import SyncError, SyncOffline
from deskops_desktop.sync.sql import server_message


@dataclass(frozen=True)
class LinkOptions:
    """Timeouts of a sync connection (seconds unless named otherwise)."""

    connect_timeout: int = 10
    io_timeout: float = 60.0
    statement_timeout_ms: int = 120_000
    idle_in_transaction_ms: int = 60_000


class AuthorRefused(SyncError):
    """The server refused this clerk's sign-in (deactivated, password changed, no such user)."""

    def __init__(self, username: str, message: str, *, deactivated: bool) -> None:
        super().__init__(message)
        self.username = username
        self.deactivated = deactivated


def _refusal(exc: DBAPIError) -> tuple[bool, bool] | None:
    """(refused, deactivated) when the server refused the credentials at connect time."""
    message = str(exc.orig or exc).lower()
    if "not permitted to log in" in message:
        return True, True
    if any(
        part in message
        for part in ("password authentication failed", "no password supplied", "does not exist")
    ):
        return True, False
    return None


class _Watchdog:
    """Cuts the socket of a connection that stopped answering (see the module notes)."""

    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self._fd: int | None = None
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self.fired = False

    def attach(self, fd: int) -> None:
        self._fd = fd

    def kick(self) -> None:
        """Progress was made: restart the countdown."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            self._timer = threading.Timer(self.timeout, self._cut)
            self._timer.daemon = True
            self._timer.start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

    def _cut(self) -> None:
        fd = self._fd
        if fd is None:
            return
        self.fired = True
        try:
            dup = socket.socket(fileno=os.dup(fd))
        except OSError:
            return
        try:
            dup.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        finally:
            dup.close()


class ServerLink:
    """Connections to head office as ``username`` (a DeskOps user, i.e. a login role)."""

    def __init__(
        self,
        server_url: URL,
        username: str,
        password: str,
        options: LinkOptions | None = None,
    ) -> None:
        self.username = username
        self.options = options or LinkOptions()
        self.login = roles_for(server_url).login(username)
        opts = self.options
        server_options = (
            f"-c statement_timeout={opts.statement_timeout_ms} "
            f"-c idle_in_transaction_session_timeout={opts.idle_in_transaction_ms}"
        )
        self.engine = create_engine(
            server_url.set(username=self.login, password=password),
            poolclass=NullPool,
            connect_args={
                "connect_timeout": opts.connect_timeout,
                "keepalives": 1,
                "keepalives_idle": 10,
                "keepalives_interval": 5,
                "keepalives_count": 3,
                "tcp_user_timeout": int(opts.io_timeout * 1000),
                "options": server_options,
                "application_name": "deskops-sync",
            },
        )
        self._watchdog = _Watchdog(opts.io_timeout)
        event.listen(self.engine, "connect", self._on_connect)
        event.listen(self.engine, "after_cursor_execute", self._on_progress)

    def _on_connect(self, dbapi_conn: Any, _record: Any) -> None:
        self._watchdog.attach(int(dbapi_conn.fileno()))

    def _on_progress(self, *_args: Any) -> None:
        self._watchdog.kick()

    @contextmanager
    def connect(self) -> Iterator[Connection]:
        """A connection for one unit of work; reaching no server raises ``SyncOffline``."""
        self._watchdog.kick()
        try:
            with self.engine.connect() as conn:
                yield conn
        except DBAPIError as exc:
            refused = _refusal(exc)
            if refused is not None:
                raise AuthorRefused(
                    self.username,
                    f"head office refused {self.username}'s sign-in "
                    + (
                        "(the account is deactivated)"
                        if refused[1]
                        else "(wrong or changed password)"
                    ),
                    deactivated=refused[1],
                ) from None
            if is_offline_error(exc) or self._watchdog.fired:
                self._watchdog.fired = False
                raise SyncOffline(
                    f"head office cannot be reached ({server_message(exc)})"
                ) from None
            raise
        finally:
            self._watchdog.stop()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A read-write transaction (committed at the end, rolled back on any error)."""
        with self.connect() as conn, conn.begin():
            yield conn

    @contextmanager
    def snapshot(self) -> Iterator[tuple[Connection, int]]:
        """A REPEATABLE READ READ ONLY snapshot and its feed fence (``sync.feed``)."""
        with self.connect() as conn, conn.begin():
            yield conn, begin_snapshot(conn)

    def dispose(self) -> None:
        self._watchdog.stop()
        self.engine.dispose()
