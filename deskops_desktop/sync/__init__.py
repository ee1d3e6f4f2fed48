"""Remote-site sync: a SQLite laptop that works offline for weeks, and head office's PostgreSQL.

Nothing lost, nothing twice, every conflict visible. The design (push then pull, as each
clerk's own role; a trigger-fed change feed read through an ``xid`` + snapshot-xmin fence; an
idempotent op-keyed outbox; conflicts and late records kept for a moderator; a sanity check
after every sync) is described in ``docs/remote-sites.md``; each module's docstring states its
invariants.

Layering: this package sits above the services (it reaches them through ``sync.adapter`` only)
and never imports Qt; ``models``, ``services`` and ``export`` never import it. The GUI calls the
plain functions below from a worker thread:

- ``join(store, server_url, username, password, site_codes, progress)`` — make a new store a
  replica and run its first (resumable) download;
- ``run_sync(store, credentials, progress) -> SyncReport`` — one sync; ``report.changes`` is the
  ``ChangeSet`` to announce through the data gateway;
- ``sync_status(store) -> SyncStatus`` — the header line and counts, local only;
- ``sign_in(store, username, password)`` — online when possible, else the cached verifier;
- ``list_items`` / ``resolve`` (on a moderator's server connection, see ``attention``) and
  ``local_items`` / ``dismiss`` for this laptop's own conflicts, held and rejected changes.

Every refusal is a ``SyncError`` whose message is written for the clerk; ``SyncOffline`` is the
one to retry later. The particular refusals (``VersionMismatch``, ``NotAReplica``,
``ReplicaRefused``) are in ``sync.protocol`` for the code that must tell them apart.
"""

from deskops_desktop.models.progress import NullProgress, Progress
from deskops_desktop.sync.attention import (
    KEEP_MINE,
    KEEP_THEIRS,
    AttentionItem,
    LocalItem,
    Resolution,
    dismiss,
    list_items,
    local_items,
    resolve,
)
from deskops_desktop.sync.link import LinkOptions
from deskops_desktop.sync.protocol import SyncError, SyncOffline, SyncTuning
from deskops_desktop.sync.runner import (
    Credentials,
    SyncCancelled,
    SyncReport,
    join,
    run_sync,
)
from deskops_desktop.sync.schedule import SyncSchedule
from deskops_desktop.sync.signin import SignIn, sign_in
from deskops_desktop.sync.status import SyncStatus, sync_status

__all__ = [
    "KEEP_MINE",
    "KEEP_THEIRS",
    "AttentionItem",
    "Credentials",
    "LinkOptions",
    "LocalItem",
    "NullProgress",
    "Progress",
    "Resolution",
    "SignIn",
    "SyncCancelled",
    "SyncError",
    "SyncOffline",
    "SyncReport",
    "SyncSchedule",
    "SyncStatus",
    "SyncTuning",
    "dismiss",
    "join",
    "list_items",
    "local_items",
    "resolve",
    "run_sync",
    "sign_in",
    "sync_status",
]
