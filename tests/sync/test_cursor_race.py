"""Scenario 3 of the research (§7): a write transaction that commits late is never skipped.

The regression this guards against (Open mSupply #3624): a sequence number is taken when a row
is written, not when its transaction commits. Transaction X writes first (smaller seq) but
commits last; Y writes and commits in between. A reader that pulls between Y's and X's commits
and remembers "the highest seq I saw" moves past X's row for good.

The feed's fence (``sync.feed``) reads only rows of transactions older than the snapshot's
oldest running one, so the pull during the hold returns *nothing* of X or Y, and the next pull
returns both. Real PostgreSQL, real concurrent transactions, no sleeps: the hold is explicit.
"""

from __future__ import annotations

from datetime import date

import pytest

from deskops_desktop.models.ids import new_id
from deskops_desktop.sync.feed import START, Cursor, begin_snapshot, read_scope
from deskops_desktop.sync.tables import site_scope
from tests.sync.hq import HQ

pytestmark = pytest.mark.postgres


def _insert_production(conn: object, hq: HQ, day: date, material_code: str) -> str:
    record_id = new_id()
    conn.execute(  # type: ignore[attr-defined]
        "INSERT INTO production (id, site_id, date, notes, version, created_at, updated_at, "
        "created_by, shift, material_id, quantity, operation) "
        "SELECT %s, %s, %s, '', 1, now(), now(), NULL, '', m.id, 10000, 'CRU-PRO' "
        "FROM materials m WHERE m.code = %s",
        (record_id, hq.site_a.id, day, material_code),
    )
    return record_id


def _pull(hq: HQ, after: Cursor) -> tuple[list[str], Cursor, int]:
    """One pull of site A's scope as a clerk: the record ids, the new cursor, the fence."""
    with hq.store.engine.connect() as conn, conn.begin():
        fence = begin_snapshot(conn)
        changes = read_scope(conn, site_scope(hq.site_a.id), after, fence, 1000)
    cursor = changes[-1].cursor if changes else after
    return [c.record_id for c in changes], cursor, fence


def test_a_transaction_that_commits_late_is_not_skipped(hq: HQ) -> None:
    day = hq.today(hq.site_a)
    slow = hq.psycopg("mod1")
    fast = hq.psycopg("mod1")
    try:
        slow.execute("BEGIN")
        late = _insert_production(slow, hq, day, "AGG-G1")  # X: writes first ...
        slow_xid = slow.execute("SELECT pg_current_xact_id()::text::bigint").fetchone()
        early = _insert_production(fast, hq, day, "AGG-3/4")  # Y: autocommit, commits now

        with hq.store.engine.connect() as conn:
            rows = conn.exec_driver_sql("SELECT record_id, seq FROM sync_changes")
            seqs = {record_id: seq for record_id, seq in rows}
        # The trap is real: X's row has the smaller sequence number but is not committed, so a
        # "highest seq seen" reader pulling now would see only Y's row and move past X's seq.
        assert seqs == {early: seqs[early]}
        with hq.psycopg() as superuser:
            uncommitted = superuser.execute("SELECT count(*) FROM sync_changes").fetchone()
        assert uncommitted == (1,)

        ids, cursor, fence = _pull(hq, START)
        assert slow_xid is not None
        assert fence <= int(str(slow_xid[0]))
        assert ids == []  # the fence holds Y back too: X is older and still running
        assert cursor == START

        slow.execute("COMMIT")  # X commits last
        ids, cursor, _ = _pull(hq, cursor)
        assert ids == [late, early]  # in transaction order: X (older xid) first
        assert cursor.xid > 0

        ids, again, _ = _pull(hq, cursor)
        assert (ids, again) == ([], cursor)  # nothing twice
    finally:
        slow.close()
        fast.close()


def test_long_read_only_transactions_do_not_hold_the_fence(hq: HQ) -> None:
    """An export reading for minutes has no xid: the feed moves on past it."""
    day = hq.today(hq.site_a)
    reader = hq.psycopg("mod1")
    writer = hq.psycopg("mod1")
    try:
        reader.execute("BEGIN ISOLATION LEVEL REPEATABLE READ")
        reader.execute("SELECT count(*) FROM production").fetchone()
        written = _insert_production(writer, hq, day, "AGG-G1")
        ids, _, _ = _pull(hq, START)
        assert ids == [written]
    finally:
        reader.execute("ROLLBACK")
        reader.close()
        writer.close()


def test_a_rolled_back_transaction_leaves_no_feed_row(hq: HQ) -> None:
    day = hq.today(hq.site_a)
    with hq.psycopg("mod1") as conn:
        conn.execute("BEGIN")
        _insert_production(conn, hq, day, "AGG-G1")
        conn.execute("ROLLBACK")
        kept = _insert_production(conn, hq, day, "AGG-3/4")
    ids, _, _ = _pull(hq, START)
    assert ids == [kept]
