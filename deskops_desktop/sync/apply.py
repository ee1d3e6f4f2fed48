"""Applying head office's rows to the laptop: upserts, tombstones, the ledger rolled forward.

``LocalApply`` works inside one SQLite transaction of the replica store (the pull's page or a
download's page, together with the cursor or progress it covers). Rules:

- **Server truth, except over unanswered local work.** A record with an operation the server
  has not answered yet (``pending``/``sent``) is not touched; it goes on the refetch list and is
  read again by id after the next push (PowerSync never applies server state over pending
  writes). Every other row becomes exactly what the server sent — apply is idempotent, so a
  page delivered twice changes nothing the second time.
- **The ledger follows.** For every record table with a ledger flow, the old row's movement is
  taken out and the new one's put in (``ledger_writer.apply_movements``), in the same
  transaction: ``stock_days`` is never synced, always derived.
- **Parents before children.** Rows are upserted in ``sync.tables`` order and deleted in the
  reverse; a local unique key that still holds an old row (two records swapping a natural key
  across one page) is retried after the page's deletes, and if it still clashes, deferred.
- Direct SQL, not the services: pulled rows are head office's decisions, not this clerk's, so
  they write no change log and no outbox row.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, select, tuple_
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.stock import StockDay
from deskops_desktop.models.types import to_milli
from deskops_desktop.sync.adapter import (
    FLOW_COLUMNS,
    MASTER_CHANGED,
    PLACEHOLDER_HASH,
    USERS_CHANGED,
    ChangeSet,
    Movement,
    apply_movements,
    for_module,
    insert_rows,
    recompute,
)
from deskops_desktop.sync.tables import SyncedTable, module_of, synced_tables

Key = tuple[Any, ...]


def key_of(table: SyncedTable, row: Mapping[str, Any]) -> Key:
    return tuple(row[k] for k in table.key)


def key_filter(model: Table, table: SyncedTable, keys: Sequence[Key]) -> Any:
    if len(table.key) == 1:
        return model.c[table.key[0]].in_([k[0] for k in keys])
    return tuple_(*(model.c[k] for k in table.key)).in_(list(keys))


class ChangeCollector:
    """Which areas and sites a sync touched, for the app's one announcement."""

    def __init__(self) -> None:
        self.changes = ChangeSet()

    def touched(self, table: SyncedTable, site_id: str | None) -> None:
        if table.pushed and site_id is not None:
            self.changes = self.changes | for_module(module_of(table.name), site_id)
        elif table.name in ("users", "user_sites"):
            self.changes = self.changes | USERS_CHANGED
        else:
            self.changes = self.changes | MASTER_CHANGED


class LocalApply:
    """One transaction's worth of server rows applied to the replica (see the module notes)."""

    def __init__(
        self,
        session: Session,
        unanswered: set[tuple[str, str]],
        collector: ChangeCollector,
        *,
        ledger: bool = True,
    ) -> None:
        self.session = session
        self.ledger = ledger
        self.unanswered = unanswered
        self.collector = collector
        self.movements: list[Movement] = []
        self.deferred: list[tuple[str, str]] = []
        self.applied = 0
        self._retry: list[tuple[SyncedTable, dict[str, Any]]] = []

    def is_unanswered(self, table: SyncedTable, key: Key) -> bool:
        return table.pushed and (table.name, "/".join(map(str, key))) in self.unanswered

    # ------------------------------------------------------------------ reading
    def local_rows(self, table: SyncedTable, keys: Sequence[Key]) -> dict[Key, dict[str, Any]]:
        if not keys:
            return {}
        model = table.table
        out: dict[Key, dict[str, Any]] = {}
        for start in range(0, len(keys), 500):
            chunk = keys[start : start + 500]
            for row in self.session.execute(
                select(model).where(key_filter(model, table, chunk))
            ).mappings():
                out[key_of(table, dict(row))] = dict(row)
        return out

    # ------------------------------------------------------------------ writing
    def upsert(self, table: SyncedTable, rows: Sequence[Mapping[str, Any]]) -> None:
        """Make each row's local copy equal ``row`` (skipping records with unanswered ops)."""
        wanted = []
        for row in rows:
            key = key_of(table, row)
            if self.is_unanswered(table, key):
                self.deferred.append((table.name, table.record_id(dict(row))))
            else:
                wanted.append(dict(row))
        if not wanted:
            return
        old = self.local_rows(table, [key_of(table, r) for r in wanted])
        columns = table.columns
        changed = [
            r
            for r in wanted
            if key_of(table, r) not in old
            or any(old[key_of(table, r)].get(c) != r.get(c) for c in columns)
        ]
        if not changed:
            return
        try:
            with self.session.begin_nested():
                self._write(table, changed, old)
        except IntegrityError:
            for row in changed:
                try:
                    with self.session.begin_nested():
                        self._write(table, [row], old)
                except IntegrityError:
                    self._retry.append((table, row))

    def _write(
        self, table: SyncedTable, rows: list[dict[str, Any]], old: Mapping[Key, dict[str, Any]]
    ) -> None:
        model = table.table
        columns = table.columns
        values = []
        for row in rows:
            value = {c: row[c] for c in columns}
            if table.name == "users":
                value["password_hash"] = PLACEHOLDER_HASH  # never overwrites a cached verifier
            values.append(value)
        statement = sqlite_insert(model)
        updatable = [c for c in columns if c not in table.key]
        if updatable:
            statement = statement.on_conflict_do_update(
                index_elements=list(table.key),
                set_={c: statement.excluded[c] for c in updatable},
            )
        else:
            statement = statement.on_conflict_do_nothing(index_elements=list(table.key))
        self.session.execute(statement, values)
        for row in rows:
            before = old.get(key_of(table, row))
            self._moved(table, before, row)

    def delete(self, table: SyncedTable, keys: Sequence[Key]) -> None:
        """Remove the local copies of rows head office no longer has."""
        keep = []
        for key in keys:
            if self.is_unanswered(table, key):
                self.deferred.append((table.name, "/".join(map(str, key))))
            else:
                keep.append(key)
        old = self.local_rows(table, keep)
        if not old:
            return
        model = table.table
        self.session.execute(delete(model).where(key_filter(model, table, list(old))))
        for row in old.values():
            self._moved(table, row, None)

    def _moved(
        self, table: SyncedTable, before: Mapping[str, Any] | None, after: Mapping[str, Any] | None
    ) -> None:
        self.applied += 1
        site = (after or before or {}).get("site_id") if table.pushed else None
        if table.name == "sites":
            site = (after or before or {}).get("id")
        self.collector.touched(table, str(site) if site is not None else None)
        if not table.pushed or not self.ledger:
            return
        flow = SPECS[module_of(table.name)].flow
        if flow is None:
            return
        for row, sign in ((before, -1), (after, +1)):
            if row is not None:
                self.movements.append(
                    Movement(
                        str(row["site_id"]),
                        str(row["material_id"]),
                        row["date"],
                        flow,
                        sign * to_milli(row["quantity"]),
                    )
                )

    def finish(self) -> None:
        """Retry rows that clashed on a local unique key, then roll the ledger forward."""
        retry, self._retry = self._retry, []
        for table, row in retry:
            try:
                with self.session.begin_nested():
                    old = self.local_rows(table, [key_of(table, row)])
                    self._write(table, [row], old)
            except IntegrityError:
                self.deferred.append((table.name, table.record_id(row)))
        apply_movements(self.session, self.movements)
        self.movements = []


def rebuild_ledger(session: Session, site_id: str) -> None:
    """``stock_days`` of one site from its records alone (after a full download)."""
    session.execute(delete(StockDay).where(StockDay.site_id == site_id))
    # ``recompute`` gives the flows in FLOW_COLUMNS order, then the closing balance: spelled
    # from the one list, so a new flow (the crusher feed) needs no change here.
    rows = [
        {
            "site_id": site_id,
            "material_id": material_id,
            "day": day,
            **dict(zip(FLOW_COLUMNS, values[:-1], strict=True)),
            "closing": values[-1],
        }
        for (material_id, day), values in sorted(recompute(session, site_id).items())
    ]
    insert_rows(session, StockDay.__table__, rows)


def purge_site(session: Session, site_id: str) -> int:
    """Remove a site's records, ledger and targets from this laptop (it is no longer kept)."""
    removed = 0
    for table in reversed(synced_tables()):
        column = table.site_column
        if column is None or table.name == "sites":
            continue
        result = session.execute(delete(table.table).where(table.table.c[column] == site_id))
        removed += int(getattr(result, "rowcount", 0) or 0)
    session.execute(delete(StockDay).where(StockDay.site_id == site_id))
    return removed
