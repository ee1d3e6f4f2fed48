"""Full download of a scope: the first sync of a laptop, an added site, a repair.

Per table of the scope, one REPEATABLE READ snapshot read in keyset pages (by primary key, in
byte order on both sides); every page is applied and committed locally *with its progress*
(``sync_downloads``: last key, rows, the snapshot's fence), so a download killed halfway
resumes from its last committed page instead of starting again — at the end of a phone line
that is the difference between an hour and a day (Open mSupply #4658).

Where the feed takes over: the scope's cursor starts at the smallest fence of the snapshots the
download used (``Cursor(min_xmin, 0)``). Every change a snapshot could not see has an xid at or
above its fence, so the pull replays it; what it replays twice is harmless (apply is
idempotent). With ``replace`` the download also removes local rows of the scope the server no
longer has, page by key range — memory stays flat in the number of rows.

The ledger is not rolled forward row by row here: when a site's scope is complete its
``stock_days`` are rebuilt from its records in the same transaction that marks it complete.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, delete, func, select
from sqlalchemy.orm import Session

from deskops_desktop.models.sync import SyncDownload
from deskops_desktop.sync.adapter import Store
from deskops_desktop.sync.apply import ChangeCollector, LocalApply, key_of, rebuild_ledger
from deskops_desktop.sync.faults import fault
from deskops_desktop.sync.feed import Cursor
from deskops_desktop.sync.link import ServerLink
from deskops_desktop.sync.protocol import DOWNLOAD_PAGE
from deskops_desktop.sync.pull import fetch_parents
from deskops_desktop.sync.state import cursors, set_cursor, unacknowledged_keys
from deskops_desktop.sync.tables import MASTER_SCOPE, SyncedTable, scope_tables, synced

Progress = Callable[[int, int], None]
"""``progress(rows_done, rows_total)`` after every committed page."""


@dataclass
class DownloadReport:
    rows: int = 0
    pages: int = 0


def scope_filter(table: SyncedTable, scope: str) -> list[Any]:
    """The WHERE conditions that select ``scope``'s rows of ``table`` (either backend)."""
    model = table.table
    if scope.startswith("u:"):
        return [model.c.user_id == scope[2:]]
    column = table.site_column
    if scope == MASTER_SCOPE:
        return [] if column is None else [model.c[column].is_(None)]
    assert column is not None
    return [model.c[column] == scope[2:]]


def count_rows(conn: Connection, scopes: list[str]) -> int:
    """How many rows a download of ``scopes`` will bring (for its progress bar)."""
    total = 0
    for scope in scopes:
        for table in scope_tables(scope):
            total += int(
                conn.execute(
                    select(func.count()).select_from(table.table).where(*scope_filter(table, scope))
                ).scalar_one()
            )
    return total


def _progress(session: Session, scope: str, table: str) -> SyncDownload | None:
    return session.get(SyncDownload, (scope, table))


def rows_done(store: Store, scopes: list[str]) -> int:
    with store.read() as session:
        return int(
            session.scalar(
                select(func.coalesce(func.sum(SyncDownload.rows), 0)).where(
                    SyncDownload.scope.in_(scopes)
                )
            )
            or 0
        )


def download_scope(
    store: Store,
    link: ServerLink,
    scope: str,
    collector: ChangeCollector,
    *,
    replace: bool = False,
    reset_cursor: bool = False,
    progress: Callable[[int], None] | None = None,
    page_size: int = DOWNLOAD_PAGE,
) -> DownloadReport:
    """Download (or resume downloading) every table of ``scope``; see the module notes."""
    report = DownloadReport()
    for table in scope_tables(scope):
        with store.read() as session:
            known = _progress(session, scope, table.name)
            if known is not None and known.done:
                continue
            last = known.last_key if known is not None else ""
        model = table.table
        paged = len(table.key) == 1
        with link.snapshot() as (conn, fence):
            while True:
                query = select(*[model.c[c] for c in table.columns]).where(
                    *scope_filter(table, scope)
                )
                if paged:
                    key = model.c[table.key[0]]
                    query = query.where(key.collate("C") > last).order_by(key.collate("C"))
                    query = query.limit(page_size)
                rows = [dict(r) for r in conn.execute(query).mappings()]
                found = {key_of(table, r): r for r in rows}
                with store.read() as local:
                    parents: dict[str, dict[Any, dict[str, Any]]] = {table.name: dict(found)}
                    fetch_parents(conn, local, parents)
                done = not paged or len(rows) < page_size
                upper = str(rows[-1][table.key[0]]) if rows and paged and not done else None
                with store.write() as session:
                    # Row by row movements only when replacing (the ledger stays right
                    # meanwhile); a first download rebuilds it once at the end instead.
                    applier = LocalApply(
                        session, unacknowledged_keys(session), collector, ledger=replace
                    )
                    for parent, parent_rows in parents.items():
                        if parent != table.name and parent_rows:
                            applier.upsert(synced(parent), list(parent_rows.values()))
                    applier.upsert(table, rows)
                    if replace:
                        _remove_missing(applier, table, scope, last, upper, found)
                    applier.finish()
                    _save_progress(
                        session, scope, table.name, upper or last, fence, len(rows), done
                    )
                    fault("mid_download")
                report.rows += len(rows)
                report.pages += 1
                if progress is not None:
                    progress(len(rows))
                if done:
                    break
                last = upper or last
    with store.write() as session:
        _finish(session, scope, reset_cursor)
    return report


def _remove_missing(
    applier: LocalApply,
    table: SyncedTable,
    scope: str,
    after: str,
    upper: str | None,
    found: dict[Any, dict[str, Any]],
) -> None:
    """Local rows of this key range (and scope) that the server's page did not contain."""
    model = table.table
    query = select(*[model.c[k] for k in table.key]).where(*scope_filter(table, scope))
    if len(table.key) == 1:
        key = model.c[table.key[0]]
        query = query.where(key > after)
        if upper is not None:
            query = query.where(key <= upper)
    local = [tuple(r) for r in applier.session.execute(query)]
    gone = [k for k in local if k not in found]
    if gone:
        applier.delete(table, gone)


def _save_progress(
    session: Session,
    scope: str,
    table: str,
    last_key: str,
    fence: int,
    rows: int,
    done: bool,
) -> None:
    known = _progress(session, scope, table)
    if known is None:
        session.add(
            SyncDownload(
                scope=scope,
                table_name=table,
                last_key=last_key,
                min_xmin=fence,
                rows=rows,
                done=done,
            )
        )
    else:
        known.last_key = last_key
        known.min_xmin = min(known.min_xmin, fence)
        known.rows += rows
        known.done = done
    session.flush()


def _finish(session: Session, scope: str, reset_cursor: bool) -> None:
    """All tables of the scope are down: ledger, cursor, and the progress rows go."""
    fences = [
        int(f)
        for f in session.execute(
            select(SyncDownload.min_xmin).where(SyncDownload.scope == scope)
        ).scalars()
    ]
    if scope.startswith("s:"):
        rebuild_ledger(session, scope[2:])
    existing = cursors(session).get(scope)
    if fences and (existing is None or reset_cursor):
        set_cursor(session, scope, Cursor(min(fences), 0))
    session.execute(delete(SyncDownload).where(SyncDownload.scope == scope))
