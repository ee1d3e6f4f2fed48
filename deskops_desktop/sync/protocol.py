"""The sync protocol's version numbers, limits and errors: what both ends must agree on.

The check is two-way (Open mSupply's KDD-001, Anki's version range): the server publishes its
protocol and the oldest client protocol it accepts (``deskops_sync_meta()``); the laptop knows
the oldest server protocol it accepts. Either side being too old refuses the sync *before
anything is pushed*, with a sentence saying who must upgrade. The schema revisions must be
equal as well: a laptop and a server on different migrations would disagree about columns.

Bump ``PROTOCOL`` when what travels changes shape (a new operation field, a new server
function the client calls); raise ``MIN_CLIENT_PROTOCOL`` / ``MIN_SERVER_PROTOCOL`` only when
the old shape can no longer be served.
"""

from __future__ import annotations

from dataclasses import dataclass

from deskops_desktop.models.errors import DeskOpsError

PROTOCOL = 1
MIN_CLIENT_PROTOCOL = 1
"""The oldest laptop protocol this version's server functions accept."""
MIN_SERVER_PROTOCOL = 1
"""The oldest server protocol this laptop accepts."""

PUSH_BATCH = 200
"""Operations per server transaction (one COMMIT, one op-id ledger write)."""
PULL_PAGE = 500
"""Feed rows per pull page (one server snapshot, one SQLite transaction with its cursor)."""
DOWNLOAD_PAGE = 1000
"""Rows per page of a full download (first sync, repair)."""
SKEW_WARNING_SECONDS = 300
"""Clock skew shown as a warning above this (never used to order anything)."""


@dataclass(frozen=True)
class SyncTuning:
    """Batch and page sizes of one run (tests use small ones to reach every boundary)."""

    push_batch: int = PUSH_BATCH
    pull_page: int = PULL_PAGE
    download_page: int = DOWNLOAD_PAGE


FEED_UPSERT = "upsert"
FEED_DELETE = "delete"


class SyncError(DeskOpsError):
    """Sync cannot go on; the message says why in plain words and what to do."""


class SyncOffline(SyncError):
    """The company server cannot be reached right now; nothing is lost, sync retries later."""


class VersionMismatch(SyncError):
    """Laptop and server speak different protocol or schema versions; nothing was pushed."""


class ReplicaRefused(SyncError):
    """The server refuses this replica: a copied store, a revoked laptop, an unknown replica."""


class NotAReplica(SyncError):
    """The store is not a remote-site replica (join it first)."""


def check_versions(
    server_protocol: int, min_client: int, server_schema: str | None, client_schema: str
) -> None:
    """Raise ``VersionMismatch`` with what to do when the two ends cannot sync."""
    if min_client > PROTOCOL:
        raise VersionMismatch(
            f"this laptop's DeskOps speaks sync protocol {PROTOCOL}, head office needs at least "
            f"{min_client}: update DeskOps on this laptop, then sync again (nothing was sent)"
        )
    if server_protocol < MIN_SERVER_PROTOCOL:
        raise VersionMismatch(
            f"head office's server speaks sync protocol {server_protocol}, this laptop needs at "
            f"least {MIN_SERVER_PROTOCOL}: head office must upgrade first (deskops db "
            "init-server with the new DeskOps); nothing was sent"
        )
    if server_schema != client_schema:
        newer = "the laptop" if (server_schema or "") < client_schema else "head office"
        todo = (
            "head office must upgrade first (deskops db init-server with this DeskOps version)"
            if newer == "the laptop"
            else "update DeskOps on this laptop"
        )
        raise VersionMismatch(
            f"the server's data is at schema {server_schema}, this laptop's at {client_schema} "
            f"({newer} is newer): {todo}; nothing was sent"
        )
