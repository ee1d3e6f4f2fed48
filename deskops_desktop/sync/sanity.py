"""The sanity check after every sync: does the laptop hold what head office holds?

Anki's ``sanity.rs`` in DeskOps terms. In one server snapshot (the clerk's own role, so exactly
the rows they may see), per kept site and record table: the row count and a hash over
``(id, version)`` pairs; per site and material: the latest closing stock; per master table and
per site's own master rows: every row's content. The laptop computes the same locally.

Records that cannot match yet are left out on both sides, by name: those with an operation the
server has not answered, those waiting on the refetch list, and those a committed transaction
changed that the feed's fence still holds back (``feed.pending_above_fence``). So a mismatch
means drift, never "not yet" — and drift is repaired by downloading that scope again
(``download_scope(replace=True)``), then checked once more; it is never ignored.

The transfer is a few hundred bytes per site and table (the hashes are computed by the server),
so the check costs nothing on a slow line even for a site-year of records.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text
from sqlalchemy.orm import Session

from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.sync_codec import encode_row
from deskops_desktop.sync.adapter import Store
from deskops_desktop.sync.feed import pending_above_fence
from deskops_desktop.sync.link import ServerLink
from deskops_desktop.sync.pull import scopes_for
from deskops_desktop.sync.state import refetch_keys, unacknowledged_keys
from deskops_desktop.sync.tables import (
    MASTER_SCOPE,
    SyncedTable,
    module_of,
    scope_tables,
    site_scope,
)


@dataclass
class SanityResult:
    ok: bool = True
    problems: list[str] = field(default_factory=list)
    repair: list[str] = field(default_factory=list)
    """Scopes to download again."""
    left_out: int = 0
    held_back: int = 0
    """Committed changes head office's feed still holds behind an older running transaction."""

    def fail(self, scope: str, problem: str) -> None:
        self.ok = False
        self.problems.append(problem)
        if scope not in self.repair:
            self.repair.append(scope)

    def to_json(self) -> dict[str, object]:
        return {
            "ok": self.ok,
            "problems": self.problems[:50],
            "left_out": self.left_out,
            "held_back": self.held_back,
        }


def _server_digest(
    conn: Connection, table: SyncedTable, site_id: str, left_out: list[str]
) -> tuple[int, str]:
    row = conn.execute(
        text(
            f"SELECT count(*), coalesce(md5(string_agg(id || ':' || version::text, ',' "
            f"ORDER BY id COLLATE \"C\")), md5('')) FROM {table.name} "
            "WHERE site_id = :s AND NOT (id = ANY(:out))"
        ),
        {"s": site_id, "out": left_out},
    ).one()
    return int(row[0]), str(row[1])


def _local_digest(
    session: Session, table: SyncedTable, site_id: str, left_out: set[str]
) -> tuple[int, str]:
    """The server's ``string_agg`` hash, streamed in id order (memory flat in the rows)."""
    model = table.table
    digest = hashlib.md5(usedforsecurity=False)
    count = 0
    rows = session.execute(
        select(model.c.id, model.c.version)
        .where(model.c.site_id == site_id)
        .order_by(model.c.id)
        .execution_options(yield_per=2000)
    )
    for record_id, version in rows:
        if str(record_id) in left_out:
            continue
        digest.update(f"{',' if count else ''}{record_id}:{int(version)}".encode("ascii"))
        count += 1
    return count, digest.hexdigest()


_SERVER_CLOSING = (
    "SELECT DISTINCT ON (material_id) material_id, closing FROM stock_days "
    "WHERE site_id = :s ORDER BY material_id, day DESC"
)
_LOCAL_CLOSING = (
    "SELECT material_id, closing FROM stock_days AS s WHERE site_id = :s AND day = "
    "(SELECT max(day) FROM stock_days WHERE site_id = s.site_id AND material_id = s.material_id)"
)


def _materials_of(
    session_or_conn: Session | Connection, table: SyncedTable, ids: Sequence[str]
) -> set[str]:
    if not ids or "material_id" not in table.table.c:
        return set()
    model = table.table
    return {
        str(m)
        for m in session_or_conn.execute(
            select(model.c.material_id).where(model.c.id.in_(list(ids)))
        ).scalars()
    }


def _content(rows: Any, table: SyncedTable) -> dict[str, dict[str, object]]:
    model = table.table
    out = {}
    for row in rows:
        values = {c: row[c] for c in table.columns}
        out[table.record_id(values)] = encode_row(model, values)
    return out


def check(store: Store, link: ServerLink, site_ids: Sequence[str]) -> SanityResult:
    """Compare the laptop with head office for ``site_ids`` and the master data."""
    result = SanityResult()
    with store.read() as session:
        local_out = unacknowledged_keys(session) | set(refetch_keys(session))
    with link.snapshot() as (conn, fence):
        held_back = {
            (c.table_name, c.record_id)
            for c in pending_above_fence(conn, scopes_for(site_ids, []), fence)
        }
        left_out = local_out | held_back
        result.left_out = len(left_out)
        result.held_back = len(held_back)
        by_table: dict[str, set[str]] = defaultdict(set)
        for table_name, record_id in left_out:
            by_table[table_name].add(record_id)
        with store.read() as session:
            _check_master(conn, session, result, by_table)
            for site_id in site_ids:
                _check_site(conn, session, result, site_id, by_table)
    return result


def _check_master(
    conn: Connection, session: Session, result: SanityResult, left_out: dict[str, set[str]]
) -> None:
    for table in scope_tables(MASTER_SCOPE):
        model = table.table
        columns = [model.c[c] for c in table.columns]
        where = []
        if table.site_column is not None:
            where.append(model.c[table.site_column].is_(None))
        server = _content(conn.execute(select(*columns).where(*where)).mappings(), table)
        local = _content(session.execute(select(*columns).where(*where)).mappings(), table)
        skip = left_out.get(table.name, set())
        differ = sorted(
            k
            for k in server.keys() | local.keys()
            if k not in skip and server.get(k) != local.get(k)
        )
        if differ:
            result.fail(MASTER_SCOPE, f"{table.name}: {len(differ)} row(s) differ from head office")


def _check_site(
    conn: Connection,
    session: Session,
    result: SanityResult,
    site_id: str,
    left_out: dict[str, set[str]],
) -> None:
    scope = site_scope(site_id)
    touched: set[str] = set()
    for table in scope_tables(scope):
        skip = left_out.get(table.name, set())
        if table.pushed:
            server = _server_digest(conn, table, site_id, sorted(skip))
            local = _local_digest(session, table, site_id, skip)
            if server != local:
                result.fail(
                    scope,
                    f"{table.name} of site {site_id[:8]}: head office has {server[0]} "
                    f"record(s), this laptop {local[0]}"
                    + (" (same number, different versions)" if server[0] == local[0] else ""),
                )
            if SPECS[module_of(table.name)].flow is not None:
                touched |= _materials_of(conn, table, sorted(skip))
                touched |= _materials_of(session, table, sorted(skip))
        else:
            model = table.table
            column = table.site_column
            assert column is not None
            columns = [model.c[c] for c in table.columns]
            where = model.c[column] == site_id
            server_rows = _content(conn.execute(select(*columns).where(where)).mappings(), table)
            local_rows = _content(session.execute(select(*columns).where(where)).mappings(), table)
            if server_rows != local_rows:
                result.fail(scope, f"{table.name} of site {site_id[:8]} differ from head office")
    server_closing = {
        str(m): int(c) for m, c in conn.execute(text(_SERVER_CLOSING), {"s": site_id})
    }
    local_closing = {
        str(m): int(c) for m, c in session.execute(text(_LOCAL_CLOSING), {"s": site_id})
    }
    for material in sorted((server_closing.keys() | local_closing.keys()) - touched):
        ours, theirs = local_closing.get(material, 0), server_closing.get(material, 0)
        if ours != theirs:
            result.fail(
                scope,
                f"closing stock of material {material[:8]} at site {site_id[:8]}: "
                f"head office {theirs / 1000:.3f}, this laptop {ours / 1000:.3f}",
            )
