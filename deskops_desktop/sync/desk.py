"""What the desktop asks of sync, in one object the composition root hands to the window.

The GUI never composes sync calls itself: ``SyncDesk`` keeps the passwords of the clerks signed
in during this session (in memory only: pushes run as each author's own role, and nothing
writes a password to disk), and offers the header, "Sync now", Settings → Sync and the
moderators' queue one plain call each. Every call here may block on the network: the GUI calls
them from a worker thread (``views.sync_controller``), never from the GUI thread — except
``status`` and ``log``, which read the laptop only.

On a company PostgreSQL store (head office, or a clerk online) there is nothing to sync, but
moderators still decide the queue there: ``queue`` and ``resolve`` then run on the store's own
connection, which is already the signed-in clerk's role.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskops_desktop.models.progress import Progress
from deskops_desktop.models.sync import SyncLog
from deskops_desktop.sync import attention
from deskops_desktop.sync.adapter import Actor, Store
from deskops_desktop.sync.attention import AttentionItem, LocalItem, Resolution
from deskops_desktop.sync.link import LinkOptions, ServerLink
from deskops_desktop.sync.runner import Credentials, SyncReport, run_sync
from deskops_desktop.sync.signin import SignIn, sign_in
from deskops_desktop.sync.state import load_replica
from deskops_desktop.sync.status import SyncStatus, sync_status


@dataclass(frozen=True)
class LogLine:
    """One line of the sync log (Settings → Sync, ``deskops sync log``)."""

    at: datetime
    level: str
    step: str
    message: str

    def text(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M:%S} {self.level:<7} {self.step:<9} {self.message}"


def read_log(store: Store, lines: int = 200) -> list[LogLine]:
    """The last ``lines`` log lines, oldest first (an empty list on a store that never synced)."""
    with store.read() as session:
        rows = list(
            session.execute(
                select(SyncLog.at, SyncLog.level, SyncLog.step, SyncLog.message)
                .order_by(SyncLog.id.desc())
                .limit(lines)
            )
        )
    return [LogLine(at, level, step, message) for at, level, step, message in reversed(rows)]


@contextmanager
def server_session(
    store: Store, username: str, password: str, options: LinkOptions | None = None
) -> Iterator[Session]:
    """One transaction at head office as the clerk: the replica's server, or this very store
    when it is the company server itself (its connection already is the clerk's role)."""
    if not store.is_sqlite:
        with store.write() as session:
            yield session
        return
    with store.read() as session:
        replica = load_replica(session)
    if replica is None:
        raise ValueError("this store is not a remote-site laptop")
    link = ServerLink(replica.url, username.strip().lower(), password, options)
    try:
        with link.transaction() as conn, Session(bind=conn) as session:
            yield session
    finally:
        link.dispose()


SIGN_IN_LINK = LinkOptions(connect_timeout=4, io_timeout=10.0)
"""The sign-in dialog waits for head office at most this long before the laptop's saved check
decides (a remote site's network often drops packets rather than refusing them)."""


class SyncDesk:
    """The sync of one store for one app session (see the module notes)."""

    def __init__(self, store: Store, options: LinkOptions | None = None) -> None:
        self.store = store
        self._options = options
        self._passwords: dict[str, str] = {}
        self._primary: str | None = None

    # ------------------------------------------------------------- local only
    def status(self) -> SyncStatus:
        return sync_status(self.store)

    @property
    def is_replica(self) -> bool:
        return self.status().is_replica

    def log(self, lines: int = 200) -> list[LogLine]:
        return read_log(self.store, lines)

    def local_items(self) -> list[LocalItem]:
        return attention.local_items(self.store)

    def dismiss(self, seq: int) -> None:
        attention.dismiss(self.store, seq)

    # ------------------------------------------------------------- sign-in
    def remember(self, username: str, password: str) -> None:
        """Keep a signed-in clerk's password for this session's pushes (the last one pulls)."""
        name = username.strip().lower()
        self._passwords[name] = password
        self._primary = name

    def forget(self) -> None:
        """Sign-out: nothing of the clerks' passwords stays in memory."""
        self._passwords.clear()
        self._primary = None

    def sign_in(self, username: str, password: str) -> Actor:
        """The sign-in dialog's check on a laptop: head office when it answers, else the
        laptop's saved check; the password is remembered for this session's syncs."""
        options = self._options or SIGN_IN_LINK
        result: SignIn = sign_in(self.store, username, password, options=options)
        self.remember(username, password)
        return result.actor

    @property
    def signed_in(self) -> str | None:
        return self._primary

    # ------------------------------------------------------------- network
    def run(self, progress: Progress | None = None) -> SyncReport:
        """One sync as the clerks signed in this session (worker thread only)."""
        credentials = Credentials(dict(self._passwords), self._primary)
        return run_sync(self.store, credentials, progress, options=self._options)

    def queue(self, *, include_resolved: bool = False) -> list[AttentionItem]:
        """Head office's conflicts and held records the signed-in clerk may see."""
        with self._server() as session:
            return attention.list_items(session, include_resolved=include_resolved)

    def resolve(self, ident: str, keep: str) -> Resolution:
        """A moderator's decision (keep ``mine`` or ``theirs``), as the signed-in clerk."""
        with self._server() as session:
            return attention.resolve(session, ident, keep)

    @contextmanager
    def _server(self) -> Iterator[Session]:
        name = self._primary or ""
        with server_session(
            self.store, name, self._passwords.get(name, ""), self._options
        ) as session:
            yield session
