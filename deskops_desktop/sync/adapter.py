"""The one door from the sync package into the services and models below it.

Every call sync makes into ``deskops_desktop.services`` goes through a name imported (and, where
the signature is expected to change, wrapped) here. The services are being reshaped (issue 11:
a generic data gateway, every write returning ``Changed[T]``); when they change, this module is
the one to update — the rest of ``sync/`` imports from here, never from ``services`` directly
(``tests/sync/test_sync_layering.py`` checks it).
"""

from __future__ import annotations

from deskops_desktop.services.access import OPERATOR_EDIT_WINDOW_DAYS, SYSTEM, Actor
from deskops_desktop.services.audit import log_changes
from deskops_desktop.services.bulk import insert_rows
from deskops_desktop.services.changes import (
    MASTER_CHANGED,
    USERS_CHANGED,
    Area,
    ChangeSet,
    for_module,
)
from deskops_desktop.services.connectivity import is_offline_error, is_transient_conflict
from deskops_desktop.services.ledger import recompute
from deskops_desktop.services.ledger_writer import FLOW_COLUMNS, Movement, apply_movements
from deskops_desktop.services.migrate import HEAD_REVISION
from deskops_desktop.services.outbox import replica_sites
from deskops_desktop.services.passwords import hash_password, verify_password
from deskops_desktop.services.pg_security import (
    PLACEHOLDER_HASH,
    ServerRoles,
    clerk_url,
    init_server,
    quoted,
    roles_for,
)
from deskops_desktop.services.reference import load_reference_index
from deskops_desktop.services.secrets import get_db_password
from deskops_desktop.services.store import Store, open_store


def quote_ident(name: str) -> str:
    """A quoted SQL identifier (role and table names)."""
    return quoted([name])


__all__ = [
    "FLOW_COLUMNS",
    "HEAD_REVISION",
    "MASTER_CHANGED",
    "OPERATOR_EDIT_WINDOW_DAYS",
    "PLACEHOLDER_HASH",
    "SYSTEM",
    "USERS_CHANGED",
    "Actor",
    "Area",
    "ChangeSet",
    "Movement",
    "ServerRoles",
    "Store",
    "apply_movements",
    "clerk_url",
    "for_module",
    "get_db_password",
    "hash_password",
    "init_server",
    "insert_rows",
    "is_offline_error",
    "is_transient_conflict",
    "load_reference_index",
    "log_changes",
    "open_store",
    "quote_ident",
    "recompute",
    "replica_sites",
    "roles_for",
    "verify_password",
]
