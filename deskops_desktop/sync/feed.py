"""Reading the server's change feed with a cursor that cannot skip a late commit.

The problem (Open mSupply #3624, JuiceFS #7521, Sequin): a sequence number is taken when a row
is written, not when its transaction commits, so a reader that remembers "the highest number I
have seen" skips a row whose transaction commits *after* a later-numbered one.

The fence: every feed row carries its transaction's id (``xid``). In one REPEATABLE READ
snapshot the reader takes ``pg_snapshot_xmin`` — the oldest transaction still running — and
reads only rows with ``xid`` *below* it, ordered by ``(xid, seq)``. Every transaction below the
fence has finished, so no row can ever appear below it later; the cursor ``(xid, seq)`` only
moves over rows that are final. A long-running write transaction anywhere holds the fence back
(the feed is then late, never wrong); read-only transactions have no xid and do not.

Invariants a newcomer must not break:
- ``fence`` and every read of one page come from the *same* snapshot (``begin_snapshot`` is the
  first statement of the transaction).
- Rows are compared with the row constructor ``(xid, seq) > (:xid, :seq)``, strictly greater:
  the cursor names the last row already applied.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text


@dataclass(frozen=True, order=True)
class Cursor:
    """A position in the feed: the last ``(xid, seq)`` applied."""

    xid: int
    seq: int


START = Cursor(0, 0)


@dataclass(frozen=True)
class FeedChange:
    seq: int
    xid: int
    scope: str
    table_name: str
    record_id: str
    op: str
    version: int | None
    origin_replica: str | None

    @property
    def cursor(self) -> Cursor:
        return Cursor(self.xid, self.seq)


def begin_snapshot(conn: Connection) -> int:
    """Make ``conn``'s transaction a REPEATABLE READ READ ONLY snapshot; return its fence.

    Must be the transaction's first statement. The fence is ``pg_snapshot_xmin`` of that very
    snapshot: every transaction with a smaller id has committed or aborted.
    """
    conn.exec_driver_sql("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
    fence = conn.exec_driver_sql(
        "SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    ).scalar_one()
    return int(fence)


def read_scope(
    conn: Connection, scope: str, after: Cursor, fence: int, limit: int
) -> list[FeedChange]:
    """Up to ``limit`` feed rows of ``scope`` after ``after`` and below ``fence``, in order."""
    rows = conn.execute(
        text(
            "SELECT seq, xid, scope, table_name, record_id, op, version, origin_replica "
            "FROM sync_changes WHERE scope = :scope AND (xid, seq) > (:xid, :seq) "
            "AND xid < :fence ORDER BY xid, seq LIMIT :limit"
        ),
        {"scope": scope, "xid": after.xid, "seq": after.seq, "fence": fence, "limit": limit},
    )
    return [FeedChange(*row) for row in rows]


def pending_above_fence(conn: Connection, scopes: list[str], fence: int) -> list[FeedChange]:
    """Feed rows of ``scopes`` this snapshot can see but the fence still holds back.

    Their transactions committed before the snapshot but after an older one that is still
    running; the next pull takes them. The sanity check leaves their records out of its
    comparison, because the laptop cannot have them yet.
    """
    rows = conn.execute(
        text(
            "SELECT seq, xid, scope, table_name, record_id, op, version, origin_replica "
            "FROM sync_changes WHERE scope = ANY(:scopes) AND xid >= :fence ORDER BY xid, seq"
        ),
        {"scopes": scopes, "fence": fence},
    )
    return [FeedChange(*row) for row in rows]
