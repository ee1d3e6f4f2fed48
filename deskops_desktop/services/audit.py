"""Writing the change log: who changed which record when, with old and new values.

Every write of every service ends here, so a remote-site replica's outbox is filled here too
(``services.outbox``), in the same transaction as the change itself.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from deskops_desktop.models.base import clock_of
from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.ids import new_id
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bulk import insert_rows
from deskops_desktop.services.outbox import capture as capture_for_sync


def jsonable(values: Mapping[str, Any] | None) -> dict[str, object] | None:
    """Values as JSON-safe scalars; decimals as strings so no float ever stores a quantity."""
    if values is None:
        return None
    out: dict[str, object] = {}
    for key, value in values.items():
        if isinstance(value, Decimal):
            out[key] = str(value)
        elif isinstance(value, datetime | date):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def log_change(
    session: Session,
    actor: Actor,
    table: str,
    record_id: str,
    action: str,
    old: Mapping[str, Any] | None = None,
    new: Mapping[str, Any] | None = None,
) -> None:
    log_changes(session, actor, table, action, [(record_id, old, new)])


def add_logged(session: Session, actor: Actor, row: Any, new: Mapping[str, Any]) -> None:
    """Insert one row and log it as an INSERT of ``new`` (its id is known after the flush)."""
    session.add(row)
    session.flush()
    log_change(session, actor, row.__tablename__, row.id, "INSERT", None, new)


def log_changes(
    session: Session,
    actor: Actor,
    table: str,
    action: str,
    entries: list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]],
) -> None:
    if not entries:
        return
    # A remote-site replica also queues the change for head office, in this same transaction.
    capture_for_sync(session, actor, table, action, entries)
    now = clock_of(session).now()
    insert_rows(
        session,
        ChangeLog.__table__,
        [
            {
                "id": new_id(),
                "at": now,
                "user_id": actor.user_id,
                "table_name": table,
                "record_id": record_id,
                "action": action,
                "old_values": jsonable(old),
                "new_values": jsonable(new),
            }
            for record_id, old, new in entries
        ],
    )
