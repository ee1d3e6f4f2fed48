"""The laptop's own sync bookkeeping: replica state, cursors, the log, the outbox as values.

Everything here runs inside a session the caller opened on the replica store (SQLite), so a
cursor moves in the same transaction as the rows it covers, and an outbox state changes in the
same transaction as the decision it records.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, text, update
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session

from deskops_desktop.models.base import clock_of
from deskops_desktop.models.sync import (
    UNACKNOWLEDGED_STATES,
    SyncCursor,
    SyncLog,
    SyncOutbox,
    SyncRefetch,
    SyncState,
)
from deskops_desktop.sync.feed import START, Cursor
from deskops_desktop.sync.protocol import NotAReplica

PHASE_DOWNLOAD = "download"  # joined; the first download is not complete yet
PHASE_READY = "ready"
LOG_KEEP = 2000


@dataclass(frozen=True)
class Replica:
    """The replica's identity and configuration, as a value."""

    replica_id: str
    server_url: str
    site_ids: tuple[str, ...]
    fingerprint: str
    phase: str

    @property
    def url(self) -> URL:
        return make_url(self.server_url)


@dataclass(frozen=True)
class OutboxOp:
    """One outbox row as push needs it."""

    seq: int
    op_id: str
    author_id: str
    table_name: str
    record_id: str
    site_id: str
    op: str
    base_version: int
    base: dict[str, object] | None
    payload: dict[str, object] | None
    state: str
    attempts: int = 0
    result: dict[str, object] | None = field(default=None, compare=False)


def load_replica(session: Session) -> Replica | None:
    row = session.get(SyncState, 1)
    if row is None:
        return None
    return Replica(
        row.replica_id,
        row.server_url,
        tuple(row.site_ids),
        row.fingerprint,
        row.phase,
    )


def require_replica(session: Session) -> Replica:
    replica = load_replica(session)
    if replica is None:
        raise NotAReplica(
            "this store is not a remote-site laptop; join one first "
            "(deskops sync join SERVER_URL --site CODE)"
        )
    return replica


def update_state(session: Session, **values: Any) -> None:
    session.execute(update(SyncState).where(SyncState.id == 1).values(**values))


def log(session: Session, step: str, message: str, level: str = "info") -> None:
    """One line of the sync log (laptop time: it is what the clerk's taskbar shows)."""
    session.execute(
        insert(SyncLog).values(
            at=clock_of(session).now(), level=level, step=step, message=message[:2000]
        )
    )
    oldest = session.scalar(
        select(SyncLog.id).order_by(SyncLog.id.desc()).offset(LOG_KEEP).limit(1)
    )
    if oldest is not None:
        session.execute(delete(SyncLog).where(SyncLog.id <= oldest))


def cursors(session: Session) -> dict[str, Cursor]:
    return {
        scope: Cursor(int(x), int(s))
        for scope, x, s in session.execute(select(SyncCursor.scope, SyncCursor.xid, SyncCursor.seq))
    }


def cursor(session: Session, scope: str) -> Cursor:
    return cursors(session).get(scope, START)


def set_cursor(session: Session, scope: str, position: Cursor) -> None:
    found = session.get(SyncCursor, scope)
    if found is None:
        session.add(SyncCursor(scope=scope, xid=position.xid, seq=position.seq))
    else:
        found.xid, found.seq = position.xid, position.seq


def unacknowledged_keys(session: Session) -> set[tuple[str, str]]:
    """(table, record id) of every record with an operation the server has not answered."""
    rows = session.execute(
        select(SyncOutbox.table_name, SyncOutbox.record_id)
        .where(SyncOutbox.state.in_(UNACKNOWLEDGED_STATES))
        .distinct()
    )
    return {(t, r) for t, r in rows}


def outbox_ops(
    session: Session,
    states: Sequence[str] = UNACKNOWLEDGED_STATES,
    *,
    after: int = 0,
    limit: int | None = None,
) -> list[OutboxOp]:
    """Outbox operations in order (``after`` a sequence number, at most ``limit``).

    Core rows, not ORM objects: a month offline is tens of thousands of them.
    """
    o = SyncOutbox.__table__.c
    query = (
        select(
            o.seq,
            o.op_id,
            o.author_id,
            o.table_name,
            o.record_id,
            o.site_id,
            o.op,
            o.base_version,
            o.base,
            o.payload,
            o.state,
            o.attempts,
            o.result,
        )
        .where(o.state.in_(states), o.seq > after)
        .order_by(o.seq)
    )
    if limit is not None:
        query = query.limit(limit)
    return [OutboxOp(*row) for row in session.execute(query)]


def high_seq(session: Session) -> int:
    """The highest outbox sequence number ever given out (pruned rows included)."""
    found = session.execute(
        select(func.max(SyncOutbox.seq)),
    ).scalar()
    try:
        kept = session.execute(
            text("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'")
        ).scalar()
    except Exception:  # pragma: no cover - sqlite_sequence exists once a row was inserted
        kept = None
    return max(int(found or 0), int(kept or 0))


def bump_sequence(session: Session, at_least: int) -> None:
    """Make the next outbox sequence number larger than ``at_least`` (after a restore)."""
    if high_seq(session) >= at_least:
        return
    updated = session.execute(
        text("UPDATE sqlite_sequence SET seq = :s WHERE name = 'sync_outbox'"), {"s": at_least}
    )
    if not getattr(updated, "rowcount", 0):
        session.execute(
            text("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_outbox', :s)"),
            {"s": at_least},
        )


def add_refetch(session: Session, keys: Iterable[tuple[str, str]], reason: str) -> None:
    rows = [{"table_name": t, "record_id": r, "reason": reason} for t, r in set(keys)]
    if rows:
        session.execute(sqlite_insert(SyncRefetch).on_conflict_do_nothing(), rows)


def refetch_keys(session: Session) -> list[tuple[str, str]]:
    return [
        (t, r) for t, r in session.execute(select(SyncRefetch.table_name, SyncRefetch.record_id))
    ]


def drop_refetch(session: Session, keys: Iterable[tuple[str, str]]) -> None:
    for table, record_id in keys:
        session.execute(
            delete(SyncRefetch).where(
                SyncRefetch.table_name == table, SyncRefetch.record_id == record_id
            )
        )
