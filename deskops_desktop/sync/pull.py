"""Pull: head office's change feed into the laptop, page by page, cursor and rows together.

One page = one server snapshot (REPEATABLE READ, read only) + one SQLite transaction:

1. In the snapshot: the fence, up to ``PULL_PAGE`` feed rows per scope after that scope's cursor
   and below the fence (``sync.feed``), and the *current* rows of the records they name, read
   in the same snapshot (so several changes of one record arrive as its latest state, and a
   record that no longer exists arrives as a tombstone). Records waiting on the refetch list
   are read too, and any parent row (a new material, site or user) the laptop does not have yet.
2. Locally, in one transaction: the rows applied (``sync.apply``: never over unanswered local
   work, the ledger rolled forward), the cursors moved to the last feed row of each scope, the
   refetch list updated. A crash anywhere before COMMIT leaves cursor and rows as they were.

Which scopes: the master scope, each of the replica's sites the pulling clerk may see, and the
pulling clerk's own site assignments. A site the puller may not see is simply not pulled (its
cursor stays); one cursor per scope is safe whoever pulls (see ``sync.tables``).

The pull ends when every scope returned less than a full page; its last fence is the point up
to which this laptop now holds head office's state ("confirmed").
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from deskops_desktop.models.sync import SyncOutbox
from deskops_desktop.sync.adapter import Store
from deskops_desktop.sync.apply import ChangeCollector, Key, LocalApply, key_filter, key_of
from deskops_desktop.sync.faults import fault
from deskops_desktop.sync.feed import START, FeedChange, read_scope
from deskops_desktop.sync.link import ServerLink
from deskops_desktop.sync.protocol import FEED_DELETE, PULL_PAGE
from deskops_desktop.sync.state import (
    add_refetch,
    cursors,
    drop_refetch,
    refetch_keys,
    set_cursor,
    unacknowledged_keys,
)
from deskops_desktop.sync.tables import (
    MASTER_SCOPE,
    SyncedTable,
    site_scope,
    synced,
    synced_tables,
    user_scope,
)


@dataclass
class PullReport:
    """What one pull did: pages read, changes in them, rows applied, rows deferred (their
    record is read again by id at the next pull), and the last page's fence."""

    pages: int = 0
    changes: int = 0
    applied: int = 0
    deferred: int = 0
    fence: int = 0
    at: datetime | None = None
    """The server's time of the last page's snapshot: head office's state up to then is here."""
    scopes: tuple[str, ...] = ()
    collector: ChangeCollector = field(default_factory=ChangeCollector)


def scopes_for(site_ids: Iterable[str], user_ids: Iterable[str]) -> list[str]:
    return [MASTER_SCOPE, *(site_scope(s) for s in site_ids), *(user_scope(u) for u in user_ids)]


def fetch_rows(
    conn: Connection, table: SyncedTable, keys: Sequence[Key]
) -> dict[Key, dict[str, Any]]:
    """The server's current rows of ``keys`` (what this login may see of them)."""
    if not keys:
        return {}
    model = table.table
    columns = [model.c[c] for c in table.columns]
    out: dict[Key, dict[str, Any]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        for row in conn.execute(select(*columns).where(key_filter(model, table, chunk))).mappings():
            out[key_of(table, dict(row))] = dict(row)
    return out


def fetch_parents(
    conn: Connection, session: Session, rows: dict[str, dict[Key, dict[str, Any]]]
) -> None:
    """Add to ``rows`` every parent row (by foreign key) that neither side of the page has.

    A record can name a material created in a transaction the fence still holds back; the
    record's snapshot shows that material, so it is read here rather than failing the page.
    """
    for _ in range(4):  # parents of parents: sites <- user_sites, materials <- targets, ...
        missing: dict[str, set[str]] = defaultdict(set)
        for name, found in rows.items():
            model = synced(name).table
            for fk in model.foreign_keys:
                parent = fk.column.table.name
                if parent not in {t.name for t in synced_tables()}:
                    continue
                for row in found.values():
                    value = row.get(fk.parent.name)
                    if value is not None and (str(value),) not in rows.get(parent, {}):
                        missing[parent].add(str(value))
        if not missing:
            return
        added = False
        for parent, ids in missing.items():
            table = synced(parent)
            model = table.table
            local = set(
                session.execute(select(model.c.id).where(model.c.id.in_(sorted(ids)))).scalars()
            )
            need = sorted(ids - local)
            if need:
                found = fetch_rows(conn, table, [(i,) for i in need])
                rows.setdefault(parent, {}).update(found)
                added = added or bool(found)
        if not added:
            return


def _site_of_refetch(session: Session, table: SyncedTable, record_id: str) -> str | None:
    if table.site_column is None:
        return None
    model = table.table
    local = session.execute(
        select(model.c[table.site_column]).where(model.c.id == record_id)
    ).scalar()
    if local is not None:
        return str(local)
    op_site = session.execute(
        select(SyncOutbox.site_id)
        .where(SyncOutbox.table_name == table.name, SyncOutbox.record_id == record_id)
        .order_by(SyncOutbox.seq.desc())
        .limit(1)
    ).scalar()
    return str(op_site) if op_site is not None else None


def pull(
    store: Store,
    link: ServerLink,
    scopes: Sequence[str],
    report: PullReport,
    *,
    page_size: int = PULL_PAGE,
    replica_id: str | None = None,
) -> None:
    """Pull until caught up; ``report.fence`` is the last page's fence.

    With ``replica_id``, this laptop's own pushes coming back ("echoes") are not read again
    when the local row already has the version the feed names — half the bytes of a push.
    """
    report.scopes = tuple(scopes)
    pulled_sites = {s[2:] for s in scopes if s.startswith("s:")}
    while True:
        with store.read() as session:
            positions = cursors(session)
            unanswered = unacknowledged_keys(session)
            refetch: list[tuple[str, str]] = []
            more_refetch = False
            for name, record_id in refetch_keys(session):
                if (name, record_id) in unanswered:
                    continue
                # A record of a site this clerk does not pull waits for one who does.
                site = _site_of_refetch(session, synced(name), record_id)
                if site is None or site in pulled_sites:
                    if len(refetch) >= page_size:
                        # Pages stay small, so each fits between two network hiccups.
                        more_refetch = True
                        break
                    refetch.append((name, record_id))
        with link.snapshot() as (conn, fence):
            server_time = conn.execute(text("SELECT now()")).scalar_one()
            page: dict[str, list[FeedChange]] = {
                scope: read_scope(conn, scope, positions.get(scope, START), fence, page_size)
                for scope in scopes
            }
            wanted: dict[str, set[Key]] = defaultdict(set)
            latest: dict[tuple[str, Key], FeedChange] = {}
            for changes in page.values():
                for change in changes:
                    table = synced(change.table_name)
                    key = _key(table, change.record_id)
                    wanted[table.name].add(key)
                    latest[(table.name, key)] = change
            if replica_id is not None:
                _drop_echoes(store, replica_id, latest, wanted, set(refetch))
            for name, record_id in refetch:
                wanted[name].add(_key(synced(name), record_id))
            rows: dict[str, dict[Key, dict[str, Any]]] = {
                name: fetch_rows(conn, synced(name), sorted(keys)) for name, keys in wanted.items()
            }
            with store.read() as local:
                fetch_parents(conn, local, rows)
        with store.write() as session:
            # Read again under the write lock: the clerk may have saved something meanwhile.
            applier = LocalApply(session, unacknowledged_keys(session), report.collector)
            for table in synced_tables():
                found = rows.get(table.name, {})
                if found:
                    applier.upsert(table, list(found.values()))
            for table in reversed(synced_tables()):
                gone = [k for k in wanted.get(table.name, ()) if k not in rows.get(table.name, {})]
                if gone:
                    applier.delete(table, gone)
            applier.finish()
            for scope, changes in page.items():
                if changes:
                    set_cursor(session, scope, changes[-1].cursor)
            drop_refetch(session, refetch)
            if applier.deferred:
                add_refetch(session, applier.deferred, "unanswered")
            fault("mid_pull_integrate")
        fault("after_integrate")
        report.pages += 1
        report.changes += sum(len(c) for c in page.values())
        report.applied += applier.applied
        report.deferred += len(applier.deferred)
        report.fence = fence
        report.at = server_time
        if not more_refetch and all(len(c) < page_size for c in page.values()):
            return


def _drop_echoes(
    store: Store,
    replica_id: str,
    latest: dict[tuple[str, Key], FeedChange],
    wanted: dict[str, set[Key]],
    refetch: set[tuple[str, str]],
) -> None:
    """Leave out records whose latest change here is this laptop's own, already held."""
    echoes: dict[str, dict[str, int]] = defaultdict(dict)
    for (name, key), change in latest.items():
        if (
            change.origin_replica == replica_id
            and change.op != FEED_DELETE
            and change.version is not None
            and (name, change.record_id) not in refetch
            and synced(name).has_version
        ):
            echoes[name][key[0]] = change.version
    if not echoes:
        return
    with store.read() as session:
        for name, versions in echoes.items():
            model = synced(name).table
            ids = sorted(versions)
            for start in range(0, len(ids), 500):
                for record_id, version in session.execute(
                    select(model.c.id, model.c.version).where(
                        model.c.id.in_(ids[start : start + 500])
                    )
                ):
                    if versions.get(str(record_id)) == int(version):
                        wanted[name].discard((str(record_id),))


def _key(table: SyncedTable, record_id: str) -> Key:
    """The feed's ``record_id`` back to a key tuple (``user/site`` for a link row)."""
    return tuple(record_id.split("/")) if len(table.key) > 1 else (record_id,)
