"""The outbox of a remote-site laptop: every local record write is also queued for head office.

``audit.log_changes`` calls ``capture`` for every write it logs, inside that write's own
transaction, so a record and its outbox row commit (or vanish) together — whichever entry point
made the write: a page, an import, paste, undo, the command line. Nothing registers anything.
The sync package (``deskops_desktop.sync``) reads the outbox and pushes it; this module only
writes it and never imports the sync package.

Invariants a newcomer must not break:
- Only a SQLite store with a ``sync_state`` row is a replica; anywhere else (a lone laptop, a
  PostgreSQL store) ``capture`` returns after one cheap check and changes nothing.
- On a replica, master data and users are head office's: a write to them is refused here
  (``PermissionDenied``), as is a record of a site this laptop does not keep, or a write by no
  signed-in user (the server must be told *who*; pushes run as that author's role).
- Coalescing happens only into a ``pending`` operation of the same record and author (insert +
  update = insert; insert + delete = nothing; update + update = update; update + delete =
  delete from the first base). Never into a ``sent`` one: the server may already have it.
- A delete's ``base_version`` is the deleted row's version, remembered by a ``before_delete``
  mapper event on every record class (the row is gone by the time the change log is written).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Table, delete, event, select, text, update
from sqlalchemy.orm import Mapper, Session, object_session

from deskops_desktop.models.base import Base, clock_of
from deskops_desktop.models.errors import PermissionDenied
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.records import RecordMixin
from deskops_desktop.models.sync import (
    MASTER_TABLES,
    OP_DELETE,
    OP_INSERT,
    OP_UPDATE,
    PUSHED_TABLES,
    OpState,
    SyncOutbox,
)
from deskops_desktop.models.sync_codec import encode_row, encode_value
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bulk import insert_rows

_DELETED = "deskops_outbox_deleted"
_ACTIONS = {"INSERT": OP_INSERT, "UPDATE": OP_UPDATE, "DELETE": OP_DELETE}
_CHUNK = 500

Entry = tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]


def replica_sites(session: Session) -> frozenset[str] | None:
    """The sites a replica keeps, or None when this store is not a remote-site replica."""
    if session.get_bind().dialect.name != "sqlite":
        return None
    row = session.execute(text("SELECT site_ids FROM sync_state WHERE id = 1")).first()
    if row is None:
        return None
    raw = row[0]
    ids = json.loads(raw) if isinstance(raw, str) else raw
    return frozenset(str(i) for i in ids)


def is_replica(session: Session) -> bool:
    return replica_sites(session) is not None


def capture(
    session: Session, actor: Actor, table: str, action: str, entries: Sequence[Entry]
) -> None:
    """Queue ``entries`` (as ``log_changes`` got them) when this store is a replica."""
    if table not in PUSHED_TABLES and table not in MASTER_TABLES:
        return
    sites = replica_sites(session)
    if sites is None:
        return
    if table not in PUSHED_TABLES:
        raise PermissionDenied(
            "this laptop is a remote-site replica: master data and users are changed at head "
            "office (they arrive here with the next sync)"
        )
    if actor.user_id is None:
        raise PermissionDenied("sign in as a DeskOps user to change records on this laptop")
    op = _ACTIONS[action]
    model = Base.metadata.tables[table]
    deleted: dict[tuple[str, str], tuple[int, str]] = session.info.get(_DELETED, {})
    now = clock_of(session).now()
    rows: list[dict[str, Any]] = []
    for start in range(0, len(entries), _CHUNK):
        chunk = entries[start : start + _CHUNK]
        current = {} if op == OP_DELETE else _current_rows(session, model, [e[0] for e in chunk])
        for record_id, old, _new in chunk:
            if op == OP_DELETE:
                known = deleted.pop((table, record_id), None)
                if known is None:
                    raise RuntimeError(
                        f"outbox: the version of deleted {table} {record_id} is unknown "
                        "(records must be deleted through the ORM on a replica)"
                    )
                base_version, site_id = known
                payload = None
            else:
                row = current[record_id]
                site_id = str(row["site_id"])
                base_version = 0 if op == OP_INSERT else int(row["version"]) - 1
                payload = encode_row(model, row)
            if site_id not in sites:
                raise PermissionDenied(
                    "this laptop keeps only its own sites' records; this site is not one of them"
                )
            base = None if old is None else {k: encode_value(v) for k, v in old.items()}
            if op != OP_INSERT and _coalesce(session, table, record_id, actor.user_id, op, payload):
                continue
            rows.append(
                {
                    "op_id": new_id(),
                    "author_id": actor.user_id,
                    "table_name": table,
                    "record_id": record_id,
                    "site_id": site_id,
                    "op": op,
                    "base_version": base_version,
                    "base": base,
                    "payload": payload,
                    "created_at": now,
                    "state": OpState.PENDING,
                    "attempts": 0,
                    "last_error": "",
                    "result": None,
                    "server_xid": None,
                    "confirmed": False,
                }
            )
    if rows:
        insert_rows(session, SyncOutbox.__table__, rows)


def _current_rows(session: Session, model: Table, ids: list[str]) -> dict[str, dict[str, Any]]:
    found = session.execute(select(model).where(model.c.id.in_(ids))).mappings()
    return {str(r["id"]): dict(r) for r in found}


def _coalesce(
    session: Session,
    table: str,
    record_id: str,
    author: str,
    op: str,
    payload: dict[str, object] | None,
) -> bool:
    """Fold this write into the record's pending operation; True when nothing new is needed."""
    pending = session.execute(
        select(SyncOutbox.seq, SyncOutbox.op, SyncOutbox.author_id)
        .where(
            SyncOutbox.table_name == table,
            SyncOutbox.record_id == record_id,
            SyncOutbox.state == OpState.PENDING,
        )
        .order_by(SyncOutbox.seq.desc())
        .limit(1)
    ).first()
    if pending is None or pending.author_id != author or pending.op == OP_DELETE:
        return False
    where = SyncOutbox.seq == pending.seq
    if op == OP_UPDATE:
        # insert + update stays an insert; update + update keeps the first base.
        session.execute(update(SyncOutbox).where(where).values(payload=payload))
    elif pending.op == OP_INSERT:
        # Created and deleted before the server ever heard of it: nothing to send.
        session.execute(delete(SyncOutbox).where(where))
    else:
        # The pending operation's own base is the version the server must still hold.
        session.execute(update(SyncOutbox).where(where).values(op=OP_DELETE, payload=None))
    return True


def _remember_deleted(_mapper: Mapper[Any], _connection: Any, target: RecordMixin) -> None:
    session = object_session(target)
    if session is None:  # pragma: no cover - a flush always has a session
        return
    memo: dict[tuple[str, str], tuple[int, str]] = session.info.setdefault(_DELETED, {})
    memo[(target.__tablename__, target.id)] = (target.version, target.site_id)


for _spec in SPECS.values():
    event.listen(_spec.table, "before_delete", _remember_deleted)
