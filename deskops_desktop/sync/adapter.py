"""The one door from the sync package into the services and models below it.

Every call sync makes into ``deskops_desktop.services`` goes through a name imported (and, where
the signature is expected to change, wrapped) here. The services are being reshaped (issue 11:
a generic data gateway, every write returning ``Changed[T]``); when they change, this module is
the one to update — the rest of ``sync/`` imports from here, never from ``services`` directly
(``tests/sync/test_sync_layering.py`` checks it).
"""

from __future__ import annotations

from sqlalchemy.engine import URL

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
    admin_only,
    clerk_url,
    init_server,
    quoted,
    roles_for,
)
from deskops_desktop.services.reference import load_reference_index
from deskops_desktop.services.secrets import get_db_password
from deskops_desktop.services.store import Store, open_store, resolve_db_url
from deskops_desktop.services.users import UserService


def quote_ident(name: str) -> str:
    """A quoted SQL identifier (role and table names)."""
    return quoted([name])


def local_authenticate(store: Store, username: str, password: str) -> Actor:
    """The ordinary local sign-in of a (SQLite) store: its hashes, its lockout rules."""
    return UserService(store).authenticate(username, password)


def normalised_server_url(url: str | URL) -> URL:
    """A server URL as the app connects to it (psycopg 3, verified TLS for remote hosts),
    without any user name or password: each clerk signs in as their own role."""
    store = Store(url if isinstance(url, str) else url.render_as_string(hide_password=False))
    try:
        return clerk_url(store.url)
    finally:
        store.dispose()


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
    "UserService",
    "admin_only",
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
    "local_authenticate",
    "log_changes",
    "normalised_server_url",
    "open_store",
    "quote_ident",
    "recompute",
    "replica_sites",
    "resolve_db_url",
    "roles_for",
    "verify_password",
]
