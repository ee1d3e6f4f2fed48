"""Applying pushed operations on the server, as the pushing clerk, one transaction per batch.

``apply_batch`` runs inside the caller's transaction on a connection that *is* the author's
login role, so PostgreSQL's row-level security decides every row it writes. Per batch:

1. ``SET LOCAL deskops.replica_id`` (the feed triggers note which laptop a change came from);
2. operations whose op id ``sync_applied_ops`` already knows return their stored outcome —
   a retry after a lost acknowledgement applies nothing twice;
3. the others are decided against the rows as they are now (locked ``FOR UPDATE``): *rejected*
   (not assigned to the site, invalid by the same rules as a form, an operator's adjustment),
   *held* (an operator's record older than the 7-day window by the server's clock), *behind*
   (the record already waits for a moderator), a *conflict* (edit/edit, edit/delete,
   delete/edit, the same natural key under another id) — or applied;
4. the applied ones are written set-based in one SAVEPOINT (records, ledger movements, change
   log); if the server refuses anything there (a policy, a constraint), that savepoint is rolled
   back and each operation is retried in its own SAVEPOINT, so one refusal never takes the others
   down and every refusal is recorded with the server's own reason;
5. every outcome is written to ``sync_applied_ops`` (and conflicts/held records to
   ``sync_attention``) and the replica's push high-water mark raised — all in the same
   transaction as the writes, so the outcome exists if and only if the change does.

A conflicting push never overwrites the server's row: the pushed version is kept beside it
(``sync_attention.mine`` / ``theirs``) until a moderator decides (``force_apply``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import Table, bindparam, select, text, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from deskops_desktop.models.base import Base
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import ValidationError
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.modules import SPECS, ModuleSpec, ReferenceIndex, validate_record
from deskops_desktop.models.sync import (
    OP_DELETE,
    OP_INSERT,
    OP_UPDATE,
    OpState,
    SyncAppliedOp,
    SyncAttention,
)
from deskops_desktop.models.sync_codec import decode_row, encode_row
from deskops_desktop.models.types import to_milli
from deskops_desktop.sync.adapter import (
    OPERATOR_EDIT_WINDOW_DAYS,
    Actor,
    Movement,
    apply_movements,
    insert_rows,
    is_offline_error,
    is_transient_conflict,
    load_reference_index,
    log_changes,
)
from deskops_desktop.sync.faults import fault
from deskops_desktop.sync.sql import server_message, sqlstate
from deskops_desktop.sync.state import OutboxOp
from deskops_desktop.sync.tables import module_of

KIND_EDIT_EDIT = "edit_edit"
KIND_EDIT_DELETE = "edit_delete"
KIND_DELETE_EDIT = "delete_edit"
KIND_SAME_KEY = "same_key"
KIND_SAME_ID = "same_id"
KIND_BEHIND = "behind"
KIND_HELD = "held"


@dataclass(frozen=True)
class ServerActor:
    """The pushing clerk as the server knows them (role and sites from the server's tables)."""

    user_id: str
    username: str
    role: Role
    site_ids: frozenset[str]

    @property
    def actor(self) -> Actor:
        return Actor(self.user_id, self.username, self.role, self.site_ids)

    def may_use_site(self, site_id: str) -> bool:
        return self.role is Role.ADMIN or site_id in self.site_ids


@dataclass
class Outcome:
    """What the server decided for one operation (stored in ``sync_applied_ops``)."""

    op_id: str
    outcome: str
    detail: dict[str, object] = field(default_factory=dict)
    server_version: int | None = None
    xid: int = 0
    replayed: bool = False


@dataclass
class _Plan:
    op: OutboxOp
    kind: str  # insert | update | delete
    row: dict[str, Any] | None  # the new row (decoded), None for a delete
    current: dict[str, Any] | None  # the row as it is on the server now


class _Refused(Exception):
    """One operation refused in its own savepoint (the reason becomes its outcome)."""

    def __init__(self, exc: DBAPIError | None, message: str = "") -> None:
        super().__init__(message or (server_message(exc) if exc is not None else "refused"))
        self.state = sqlstate(exc) if exc is not None else None


def load_server_actor(session: Session) -> ServerActor:
    """Who this connection is, by the server's own tables (not what the laptop believes)."""
    user_id = session.execute(text("SELECT deskops_user_id()")).scalar()
    if user_id is None:
        raise PermissionError("this login is not an active DeskOps user")
    username, role = session.execute(
        text("SELECT username, role FROM users WHERE id = :u"), {"u": user_id}
    ).one()
    sites = frozenset(str(s) for s in session.execute(text("SELECT deskops_site_ids()")).scalars())
    return ServerActor(str(user_id), str(username), Role(role), sites)


def _server_clock_values(session: Session) -> tuple[datetime, int]:
    now, xid = session.execute(text("SELECT now(), pg_current_xact_id()::text::bigint")).one()
    return now, int(xid)


def _site_todays(session: Session, site_ids: set[str]) -> dict[str, date]:
    out: dict[str, date] = {}
    for site_id in site_ids:
        day = session.execute(text("SELECT deskops_site_today(:s)"), {"s": site_id}).scalar()
        if day is not None:
            out[site_id] = day
    return out


def apply_batch(
    session: Session,
    actor: ServerActor,
    replica_id: str,
    ops: Sequence[OutboxOp],
    *,
    refs: ReferenceIndex | None = None,
) -> list[Outcome]:
    """Decide and apply ``ops`` (each record at most once) in the caller's transaction.

    ``refs`` (the reference data as this author sees it) may be passed in by a caller that
    pushes several batches in one run; otherwise it is read here.
    """
    now, xid, _ = session.execute(
        text(
            "SELECT now(), pg_current_xact_id()::text::bigint, "
            "set_config('deskops.replica_id', :r, true)"
        ),
        {"r": replica_id},
    ).one()
    xid = int(xid)
    # The change log and timestamps the services write here read the server's clock.
    session.info["clock"] = FixedClock(now)
    ids = [op.op_id for op in ops]
    known: dict[str, Outcome] = {}
    for row in session.execute(select(SyncAppliedOp).where(SyncAppliedOp.op_id.in_(ids))).scalars():
        known[row.op_id] = Outcome(
            row.op_id, row.outcome, dict(row.detail or {}), row.server_version, row.xid, True
        )
    todo = [op for op in ops if op.op_id not in known]
    decided: dict[str, Outcome] = {}
    attention: list[dict[str, Any]] = []
    if todo:
        context = _Context(
            session=session,
            actor=actor,
            refs=refs if refs is not None else load_reference_index(session),
            todays=_site_todays(session, {op.site_id for op in todo}),
            now=now,
            xid=xid,
        )
        by_table: dict[str, list[OutboxOp]] = defaultdict(list)
        for op in todo:
            by_table[op.table_name].append(op)
        for table_name, group in by_table.items():
            outcomes, items = context.apply_table(table_name, group)
            decided.update(outcomes)
            attention.extend(items)
        fault("mid_batch")
        _record(session, actor, replica_id, todo, decided, attention, now, xid)
    if ops:
        session.execute(
            text("SELECT deskops_sync_ack(:r, :s)"),
            {"r": replica_id, "s": max(op.seq for op in ops)},
        )
    return [known.get(op.op_id) or decided[op.op_id] for op in ops]


def _record(
    session: Session,
    actor: ServerActor,
    replica_id: str,
    todo: Sequence[OutboxOp],
    decided: Mapping[str, Outcome],
    attention: list[dict[str, Any]],
    now: datetime,
    xid: int,
) -> None:
    rows = []
    for op in todo:
        outcome = decided[op.op_id]
        rows.append(
            {
                "op_id": op.op_id,
                "replica_id": replica_id,
                "user_id": actor.user_id,
                "site_id": op.site_id,
                "table_name": op.table_name,
                "record_id": op.record_id,
                "op": op.op,
                "outcome": outcome.outcome,
                "detail": outcome.detail,
                "server_version": outcome.server_version,
                "xid": xid,
                "at": now,
            }
        )
    insert_rows(session, SyncAppliedOp.__table__, rows)
    for item in attention:
        item["replica_id"] = replica_id
    if attention:
        insert_rows(session, SyncAttention.__table__, attention)


@dataclass
class _Context:
    """One batch's decisions: the author, reference data and each site's date by server time."""

    session: Session
    actor: ServerActor
    refs: ReferenceIndex
    todays: dict[str, date]
    now: datetime
    xid: int

    # ------------------------------------------------------------------ deciding
    def apply_table(
        self, table_name: str, ops: list[OutboxOp]
    ) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
        module = module_of(table_name)
        spec = SPECS[module]
        model = Base.metadata.tables[table_name]
        outcomes: dict[str, Outcome] = {}
        attention: list[dict[str, Any]] = []
        plans: list[_Plan] = []
        # Refusals that need no row: decided before anything is read (an operator may not
        # even lock an adjustment row, and must not abort the batch by trying).
        rest = []
        for op in ops:
            early = self._refuse_early(spec, op)
            if early is None:
                rest.append(op)
            else:
                outcomes[op.op_id] = early
        ops = rest
        current = self._current(model, [op.record_id for op in ops])
        waiting = self._open_attention(table_name, [op.record_id for op in ops]) if ops else set()
        for op in ops:
            decision = self._decide(spec, model, op, current.get(op.record_id), waiting)
            if isinstance(decision, _Plan):
                plans.append(decision)
            else:
                outcome, item = decision
                outcomes[op.op_id] = outcome
                if item is not None:
                    attention.append(item)
        plans, clashes = self._natural_keys(spec, model, plans)
        for plan, theirs in clashes:
            outcome, item = self._conflict(plan.op, KIND_SAME_KEY, theirs, model)
            outcomes[plan.op.op_id] = outcome
            attention.append(item)
        for plan, result in self._execute(spec, model, plans):
            if isinstance(result, Outcome):
                outcomes[plan.op.op_id] = result
            else:
                outcome, item = self._refused(spec, model, plan, result)
                outcomes[plan.op.op_id] = outcome
                if item is not None:
                    attention.append(item)
        return outcomes, attention

    def _current(self, model: Table, ids: list[str]) -> dict[str, dict[str, Any]]:
        """The rows as they are now, locked against concurrent writers until COMMIT."""
        if not ids:
            return {}
        may_update = self.session.execute(
            text("SELECT has_table_privilege(:t, 'UPDATE')"), {"t": model.name}
        ).scalar()
        query = select(model).where(model.c.id.in_(ids))
        if may_update:
            query = query.with_for_update()
        return {str(r["id"]): dict(r) for r in self.session.execute(query).mappings()}

    def _refuse_early(self, spec: ModuleSpec, op: OutboxOp) -> Outcome | None:
        if not self.actor.may_use_site(op.site_id):
            return self._rejected(
                op, f"{self.actor.username} is not assigned to this site at head office"
            )[0]
        if self.actor.role is Role.OPERATOR and spec.module is Module.ADJUSTMENTS:
            return self._rejected(
                op, "stock adjustments need a supervisor (moderator) or administrator"
            )[0]
        return None

    def _open_attention(self, table_name: str, ids: list[str]) -> set[str]:
        rows = self.session.execute(
            select(SyncAttention.record_id).where(
                SyncAttention.table_name == table_name,
                SyncAttention.record_id.in_(ids),
                SyncAttention.resolved_at.is_(None),
            )
        ).scalars()
        return set(rows)

    def _decide(
        self,
        spec: ModuleSpec,
        model: Table,
        op: OutboxOp,
        current: dict[str, Any] | None,
        waiting: set[str],
    ) -> _Plan | tuple[Outcome, dict[str, Any] | None]:
        row: dict[str, Any] | None = None
        if op.op != OP_DELETE:
            try:
                row = self._validated(spec, model, op)
            except ValidationError as exc:
                return self._rejected(op, f"not valid at head office: {exc}")
            except (KeyError, TypeError, ValueError) as exc:
                return self._rejected(op, f"the change could not be read: {exc}")
        if self._too_old(op, row, current):
            return self._held(op, current, model)
        if op.record_id in waiting:
            return self._attention(
                op,
                KIND_BEHIND,
                current,
                model,
                "an earlier change of this record waits for a supervisor's decision",
                OpState.CONFLICT,
            )
        if op.op == OP_INSERT:
            if current is not None:
                assert row is not None
                if _same_values(model, current, row):
                    return Outcome(op.op_id, OpState.APPLIED, {"note": "already there"}, 1), None
                return self._conflict(op, KIND_SAME_ID, current, model)
            return _Plan(op, OP_INSERT, row, None)
        if current is None:
            if op.op == OP_DELETE:
                return Outcome(op.op_id, OpState.APPLIED, {"note": "already deleted"}), None
            return self._conflict(op, KIND_EDIT_DELETE, None, model)
        if int(current["version"]) != op.base_version:
            kind = KIND_DELETE_EDIT if op.op == OP_DELETE else KIND_EDIT_EDIT
            return self._conflict(op, kind, current, model)
        return _Plan(op, op.op, row, current)

    def _validated(self, spec: ModuleSpec, model: Table, op: OutboxOp) -> dict[str, Any]:
        """The pushed row, decoded, its fields checked by the rules every form uses."""
        assert op.payload is not None
        row = decode_row(model, op.payload)
        if str(row["id"]) != op.record_id or str(row["site_id"]) != op.site_id:
            raise ValueError("the record's id or site does not match the operation")
        raw: dict[str, object] = {}
        ref_field = spec.reference_field
        for f in spec.fields:
            value = row.get(f.column)
            if f is ref_field:
                item = self.refs.by_id(str(value))
                raw[f.key] = item.code if item is not None else f"unknown id {value}"
            elif isinstance(value, Decimal | date):
                raw[f.key] = str(value)
            else:
                raw[f.key] = value
        today = self.todays.get(op.site_id, date.max)
        clean = validate_record(spec, raw, self.refs, today)
        row.update(clean)
        return row

    def _too_old(
        self, op: OutboxOp, row: dict[str, Any] | None, current: dict[str, Any] | None
    ) -> bool:
        """An operator's change of a day outside the window, by the *server's* date."""
        if self.actor.role is not Role.OPERATOR:
            return False
        today = self.todays.get(op.site_id)
        if today is None:
            return False
        oldest = today - timedelta(days=OPERATOR_EDIT_WINDOW_DAYS - 1)
        days = [r["date"] for r in (row, current) if r is not None]
        return bool(days) and min(days) < oldest

    # ------------------------------------------------------------------ outcomes
    def _rejected(self, op: OutboxOp, reason: str) -> tuple[Outcome, None]:
        return Outcome(op.op_id, OpState.REJECTED, {"reason": reason}), None

    def _held(
        self, op: OutboxOp, current: dict[str, Any] | None, model: Table
    ) -> tuple[Outcome, dict[str, Any]]:
        today = self.todays.get(op.site_id)
        reason = (
            f"older than the {OPERATOR_EDIT_WINDOW_DAYS}-day operator window when it reached "
            f"head office ({today.isoformat() if today else 'today'}): a supervisor applies or "
            "rejects it"
        )
        return self._attention(op, KIND_HELD, current, model, reason, OpState.HELD)

    def _conflict(
        self, op: OutboxOp, kind: str, theirs: dict[str, Any] | None, model: Table
    ) -> tuple[Outcome, dict[str, Any]]:
        reasons = {
            KIND_EDIT_EDIT: "changed at head office since this laptop last had it",
            KIND_EDIT_DELETE: "deleted at head office while it was changed here",
            KIND_DELETE_EDIT: "changed at head office while it was deleted here",
            KIND_SAME_KEY: "head office already has a record with the same date and key",
            KIND_SAME_ID: "head office already has a different record with this id",
        }
        return self._attention(op, kind, theirs, model, reasons[kind], OpState.CONFLICT)

    def _attention(
        self,
        op: OutboxOp,
        kind: str,
        theirs: dict[str, Any] | None,
        model: Table,
        reason: str,
        state: str,
    ) -> tuple[Outcome, dict[str, Any]]:
        attention_id = new_id()
        encoded = encode_row(model, theirs) if theirs is not None else None
        item = {
            "id": attention_id,
            "op_id": op.op_id,
            "replica_id": "",
            "user_id": self.actor.user_id,
            "site_id": op.site_id,
            "table_name": op.table_name,
            "record_id": op.record_id,
            "op": op.op,
            "kind": kind,
            "base_version": op.base_version,
            "base": op.base,
            "mine": op.payload,
            "theirs": encoded,
            "theirs_id": str(theirs["id"]) if theirs is not None else None,
            "reason": reason,
            "created_at": self.now,
            "resolved_at": None,
            "resolved_by": None,
            "resolution": "",
        }
        detail: dict[str, object] = {
            "kind": kind,
            "attention_id": attention_id,
            "reason": reason,
            "theirs": encoded,
        }
        return Outcome(op.op_id, state, detail), item

    def _refused(
        self, spec: ModuleSpec, model: Table, plan: _Plan, refusal: _Refused
    ) -> tuple[Outcome, dict[str, Any] | None]:
        """Turn the server's refusal of one operation into its outcome."""
        op = plan.op
        if refusal.state == "23505" and plan.row is not None:
            theirs = self._holder_of_key(spec, model, plan.row)
            return self._conflict(op, KIND_SAME_KEY, theirs, model)
        if refusal.state == "42501" and self.actor.role is Role.OPERATOR:
            return self._held(op, plan.current, model)
        if refusal.state == "23503":
            return self._rejected(op, f"refers to something head office does not have ({refusal})")
        return self._rejected(op, f"refused by head office: {refusal}")

    # ------------------------------------------------------------------ natural keys
    def _natural_keys(
        self, spec: ModuleSpec, model: Table, plans: list[_Plan]
    ) -> tuple[list[_Plan], list[tuple[_Plan, dict[str, Any]]]]:
        """Split off inserts/updates whose natural key another record holds at head office."""
        if not spec.unique_key:
            return plans, []
        writes = [p for p in plans if p.row is not None]
        if not writes:
            return plans, []
        leaving = {p.op.record_id for p in plans}  # rows this batch deletes or rewrites
        sites = sorted({str(p.row["site_id"]) for p in writes if p.row is not None})
        days = sorted({p.row["date"] for p in writes if p.row is not None})
        holders: dict[tuple[Any, ...], dict[str, Any]] = {}
        for existing in self.session.execute(
            select(model).where(model.c.site_id.in_(sites), model.c.date.in_(days))
        ).mappings():
            if str(existing["id"]) not in leaving:
                holders[_key(spec, dict(existing))] = dict(existing)
        keep: list[_Plan] = []
        clashes: list[tuple[_Plan, dict[str, Any]]] = []
        claimed: dict[tuple[Any, ...], dict[str, Any]] = {}
        for plan in plans:
            if plan.row is None:
                keep.append(plan)
                continue
            key = _key(spec, plan.row)
            holder = holders.get(key) or claimed.get(key)
            if holder is not None and str(holder["id"]) != plan.op.record_id:
                clashes.append((plan, holder))
                continue
            claimed[key] = plan.row
            keep.append(plan)
        return keep, clashes

    def _holder_of_key(
        self, spec: ModuleSpec, model: Table, row: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        conditions = [model.c[c] == row[c] for c in spec.unique_key]
        found = self.session.execute(select(model).where(*conditions)).mappings().first()
        return dict(found) if found is not None else None

    # ------------------------------------------------------------------ writing
    def _execute(
        self, spec: ModuleSpec, model: Table, plans: list[_Plan]
    ) -> list[tuple[_Plan, Outcome | _Refused]]:
        """All plans in one savepoint; if the server refuses, each plan in its own."""
        if not plans:
            return []
        try:
            with self.session.begin_nested():
                _write(self.session, self.actor.actor, spec, model, plans)
        except DBAPIError as exc:
            if is_offline_error(exc) or is_transient_conflict(exc):
                raise
        except _Refused:
            pass
        else:
            return [(p, self._applied(p)) for p in plans]
        results: list[tuple[_Plan, Outcome | _Refused]] = []
        for plan in plans:
            try:
                with self.session.begin_nested():
                    _write(self.session, self.actor.actor, spec, model, [plan])
            except DBAPIError as exc:
                if is_offline_error(exc) or is_transient_conflict(exc):
                    raise
                results.append((plan, _Refused(exc)))
            except _Refused as refusal:
                results.append((plan, refusal))
            else:
                results.append((plan, self._applied(plan)))
        return results

    def _applied(self, plan: _Plan) -> Outcome:
        version = None if plan.row is None else int(plan.row["version"])
        return Outcome(plan.op.op_id, OpState.APPLIED, {}, version)


def _rowcount(result: object) -> int:
    """Rows a DML statement touched (executemany: the total, as psycopg reports it)."""
    return int(getattr(result, "rowcount", -1))


def _key(spec: ModuleSpec, row: Mapping[str, Any]) -> tuple[Any, ...]:
    return tuple(row[c] for c in spec.unique_key)


def _same_values(model: Table, a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    skip = {"created_at", "updated_at"}
    return all(a.get(c.name) == b.get(c.name) for c in model.columns if c.name not in skip)


def _fields(spec: ModuleSpec, row: Mapping[str, Any]) -> dict[str, Any]:
    return {f.column: row[f.column] for f in spec.fields}


def _movements(spec: ModuleSpec, row: Mapping[str, Any], sign: int) -> list[Movement]:
    if spec.flow is None:
        return []
    return [
        Movement(
            str(row["site_id"]),
            str(row["material_id"]),
            row["date"],
            spec.flow,
            sign * to_milli(row["quantity"]),
        )
    ]


def _write(
    session: Session, actor: Actor, spec: ModuleSpec, model: Table, plans: Sequence[_Plan]
) -> None:
    """Write planned operations: rows, then ledger movements, then the change log.

    Deletes first (they may free a natural key an insert of the same batch takes), then updates
    (to the laptop's version of the row, above the base; with a row count check: a policy's
    USING clause hides a row silently instead of raising), then inserts.
    """
    deletes = [p for p in plans if p.kind == OP_DELETE]
    updates = [p for p in plans if p.kind == OP_UPDATE]
    inserts = [p for p in plans if p.kind == OP_INSERT]
    if deletes:
        result = session.execute(
            model.delete().where(model.c.id.in_([p.op.record_id for p in deletes]))
        )
        if _rowcount(result) != len(deletes):
            raise _Refused(None, "the server's rules do not allow deleting this record")
    if updates:
        columns = [c.name for c in model.columns if c.name not in ("id", "version")]
        statement = (
            update(model)
            .where(model.c.id == bindparam("b_id"), model.c.version == bindparam("b_version"))
            .values({c: bindparam(f"v_{c}") for c in columns} | {"version": bindparam("v_new")})
        )
        params = []
        for p in updates:
            assert p.row is not None
            # The laptop's own version of the row (several local edits coalesced into one
            # operation count as several), so both sides agree on it after the push.
            p.row["version"] = max(int(p.row.get("version") or 0), p.op.base_version + 1)
            params.append(
                {"b_id": p.op.record_id, "b_version": p.op.base_version, "v_new": p.row["version"]}
                | {f"v_{c}": p.row[c] for c in columns}
            )
        result = session.execute(statement, params)
        if _rowcount(result) != len(updates):
            raise _Refused(None, "the server's rules do not allow changing this record")
    if inserts:
        rows = []
        for p in inserts:
            assert p.row is not None
            p.row["version"] = max(1, int(p.row.get("version") or 0))
            rows.append({c.name: p.row[c.name] for c in model.columns})
        insert_rows(session, model, rows)
    movements: list[Movement] = []
    for p in plans:
        if p.current is not None and p.kind != OP_INSERT:
            movements.extend(_movements(spec, p.current, -1))
        if p.row is not None:
            movements.extend(_movements(spec, p.row, +1))
    apply_movements(session, movements)
    for kind, action in ((OP_INSERT, "INSERT"), (OP_UPDATE, "UPDATE"), (OP_DELETE, "DELETE")):
        entries: list[tuple[str, Mapping[str, Any] | None, Mapping[str, Any] | None]] = [
            (
                p.op.record_id,
                _fields(spec, p.current) if p.current is not None else None,
                _fields(spec, p.row) if p.row is not None else None,
            )
            for p in plans
            if p.kind == kind
        ]
        log_changes(session, actor, model.name, action, entries)


# ---------------------------------------------------------------------- a moderator decides
def force_apply(
    session: Session,
    actor: ServerActor,
    table_name: str,
    record_id: str,
    mine: dict[str, object] | None,
    *,
    remove_id: str | None = None,
) -> int | None:
    """Make the record equal ``mine`` (None: deleted), whatever the server has now.

    A moderator's "keep mine" (or "apply" of a held record), as that moderator: row-level
    security decides, the ledger and the change log follow. ``remove_id`` is a record to delete
    first (the other holder of the same natural key). Returns the record's new version.
    """
    spec = SPECS[module_of(table_name)]
    model = Base.metadata.tables[table_name]
    now, _ = _server_clock_values(session)
    session.info["clock"] = FixedClock(now)
    plans: list[_Plan] = []
    ids = [record_id] + ([remove_id] if remove_id and remove_id != record_id else [])
    current = {
        str(r["id"]): dict(r)
        for r in session.execute(
            select(model).where(model.c.id.in_(ids)).with_for_update()
        ).mappings()
    }

    def op_for(kind: str, rid: str, site: str, base_version: int) -> OutboxOp:
        return OutboxOp(
            0,
            new_id(),
            actor.user_id,
            table_name,
            rid,
            site,
            kind,
            base_version,
            None,
            mine,
            "decided",
        )

    if remove_id and remove_id in current and remove_id != record_id:
        other = current[remove_id]
        plans.append(
            _Plan(
                op_for(OP_DELETE, remove_id, str(other["site_id"]), int(other["version"])),
                OP_DELETE,
                None,
                other,
            )
        )
    existing = current.get(record_id)
    if mine is None:
        if existing is not None:
            plans.append(
                _Plan(
                    op_for(OP_DELETE, record_id, str(existing["site_id"]), existing["version"]),
                    OP_DELETE,
                    None,
                    existing,
                )
            )
    else:
        row = decode_row(model, mine)
        if existing is not None:
            version = int(existing["version"])
            plans.append(
                _Plan(
                    op_for(OP_UPDATE, record_id, str(row["site_id"]), version),
                    OP_UPDATE,
                    row,
                    existing,
                )
            )
        else:
            plans.append(
                _Plan(op_for(OP_INSERT, record_id, str(row["site_id"]), 0), OP_INSERT, row, None)
            )
    if not plans:
        return None
    _write(session, actor.actor, spec, model, plans)
    last = plans[-1]
    return None if last.row is None else int(last.row["version"])
