"""Create, read, update and delete the records of every module, with the ledger kept in step.

Each public method is one unit of work. Writes validate with ``models.modules.validate_record``
(the same rules as imports and the CLI), check the role, refuse unique-key clashes naming the
existing record, maintain ``stock_days`` in the same transaction, write the change log and
return ``Changed[...]`` (the record or the count, with its ``ChangeSet``). Reads return
``RecordRow`` values, never ORM objects.
"""

from __future__ import annotations

import builtins
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, and_, func, literal, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified
from sqlalchemy.orm.exc import StaleDataError

from deskops_desktop.models.accounts import User
from deskops_desktop.models.base import Base
from deskops_desktop.models.changelog import ChangeLog
from deskops_desktop.models.conversion import NO_FACTORS, FactorTable
from deskops_desktop.models.enums import MassDetermination, Module
from deskops_desktop.models.errors import NotFound, Problem, StaleRecordError, ValidationError
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.modules import (
    SPECS,
    Kind,
    ModuleSpec,
    ReferenceIndex,
    validate_record,
)
from deskops_desktop.models.records import RecordMixin
from deskops_desktop.models.reference import Equipment, ManpowerRole, Material
from deskops_desktop.models.types import from_milli, to_milli
from deskops_desktop.services.access import Actor, require_record_change, require_site
from deskops_desktop.services.audit import log_change, log_changes
from deskops_desktop.services.bulk import insert_rows
from deskops_desktop.services.changes import Changed, for_module
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.ledger_writer import Movement, apply_movements
from deskops_desktop.services.reference import SiteInfo, load_reference_index, load_site
from deskops_desktop.services.store import StoreService

_REF_TABLES: dict[Kind, Any] = {
    Kind.MATERIAL: Material,
    Kind.EQUIPMENT: Equipment,
    Kind.ROLE: ManpowerRole,
}


@dataclass(frozen=True, slots=True)
class RecordRow:
    """One record as the UI, exports and undo need it.

    ``values`` is keyed by ``FieldSpec.key``; the reference field (material / equipment / role)
    holds the *code*, so ``values`` can be fed straight back into ``create``/``update``.
    """

    module: Module
    id: str
    site_id: str
    date: date
    values: Mapping[str, Any]
    ref_name: str
    uom: str
    version: int
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    # A material record's tons (its quantity when weighed, deemed when counted in loads, None
    # when no factor covers its date) and how they were found; None for equipment and roles.
    tons_m: int | None = None
    mass: MassDetermination | None = None

    @property
    def ref_code(self) -> str:
        return str(self.values[SPECS[self.module].reference_field.key])

    @property
    def tons(self) -> Decimal | None:
        return None if self.tons_m is None else from_milli(self.tons_m)


class RecordService(StoreService):
    """The records of every module: create, update, delete (one or many), list, count.

    Each write is one unit of work that validates with the shared rules, checks the role, keeps the
    ledger in step and writes the change log; it returns ``Changed[...]``. Reads return
    ``RecordRow`` values and filter and sort in SQL.
    """

    # ----------------------------------------------------------------- writes
    def create(
        self,
        actor: Actor,
        module: Module,
        site_id: str,
        raw: Mapping[str, object],
        *,
        record_id: str | None = None,
    ) -> Changed[RecordRow]:
        spec = SPECS[module]
        with self._store.write() as session:
            site = load_site(session, site_id)
            refs = load_reference_index(session)
            clean = validate_record(spec, raw, refs, site.today(self._now()))
            require_record_change(actor, module, site_id, clean["date"], site.today(self._now()))
            self._refuse_duplicate(session, spec, site_id, clean, refs, exclude_id=None)
            now = self._now()
            record = spec.table(
                id=record_id or new_id(),
                site_id=site_id,
                created_by=actor.user_id,
                created_at=now,
                updated_at=now,
                **clean,
            )
            session.add(record)
            session.flush()
            apply_movements(session, self._movements(spec, site_id, clean, +1))
            log_change(session, actor, spec.table.__tablename__, record.id, "INSERT", None, clean)
            row = self._row(spec, record, refs)
        return Changed(row, for_module(module, site_id))

    def update(
        self,
        actor: Actor,
        module: Module,
        record_id: str,
        raw: Mapping[str, object],
        *,
        expected_version: int | None = None,
    ) -> Changed[RecordRow]:
        spec = SPECS[module]
        with self._changing(actor, module, record_id, expected_version) as (session, record, today):
            refs = load_reference_index(session)
            old = _values(spec, record)
            # A field the caller left out that has a default keeps its stored value (an
            # edit from an older client must not turn a disposal back into a sale).
            kept = {f.key: old[f.column] for f in spec.fields if f.default is not None}
            clean = validate_record(spec, {**kept, **raw}, refs, today)
            require_record_change(actor, module, record.site_id, clean["date"], today)
            self._refuse_duplicate(session, spec, record.site_id, clean, refs, exclude_id=record.id)
            for column, value in clean.items():
                setattr(record, column, value)
            record.updated_at = self._now()
            # Mark it changed even when the clock reads the same (a frozen test clock):
            # otherwise the column's onupdate default would overwrite it with real time.
            flag_modified(record, "updated_at")
            session.flush()
            # Old (-) and new (+) movements in one call, so the per-material locks are taken
            # in sorted order: two edits moving stock between the same two materials in
            # opposite directions would otherwise deadlock on PostgreSQL.
            apply_movements(
                session,
                [
                    *self._movements(spec, record.site_id, old, -1),
                    *self._movements(spec, record.site_id, clean, +1),
                ],
            )
            log_change(session, actor, spec.table.__tablename__, record.id, "UPDATE", old, clean)
            row = self._row(spec, record, refs)
        return Changed(row, for_module(module, row.site_id))

    def delete(
        self, actor: Actor, module: Module, record_id: str, *, expected_version: int | None = None
    ) -> Changed[RecordRow]:
        """Delete one record; the returned row holds everything ``create`` needs to undo it."""
        spec = SPECS[module]
        with self._changing(actor, module, record_id, expected_version) as (session, record, _):
            refs = load_reference_index(session)
            row = self._row(spec, record, refs)
            old = _values(spec, record)
            # Row first, balances second, as update() does (one lock order for both).
            session.delete(record)
            session.flush()
            apply_movements(session, self._movements(spec, record.site_id, old, -1))
            log_change(session, actor, spec.table.__tablename__, record_id, "DELETE", old, None)
        return Changed(row, for_module(module, row.site_id))

    @contextmanager
    def _changing(
        self, actor: Actor, module: Module, record_id: str, expected_version: int | None
    ) -> Iterator[tuple[Session, RecordMixin, date]]:
        """One unit of work on a stored record the actor may still change (update and delete)."""
        spec = SPECS[module]
        try:
            with self._store.write() as session:
                record = self._load(session, spec, record_id)
                site = load_site(session, record.site_id)
                self._check_version(session, spec, record, expected_version)
                today = site.today(self._now())
                require_record_change(actor, module, record.site_id, record.date, today)
                yield session, record, today
        except StaleDataError:  # another writer changed it after we read it
            raise self._stale(spec, record_id) from None

    def create_many(
        self,
        actor: Actor,
        module: Module,
        site_id: str,
        rows: Sequence[Mapping[str, object]],
        *,
        first_row: int = 1,
        row_numbers: Sequence[int] | None = None,
    ) -> Changed[int]:
        """All or nothing: every bad row is reported (``Problem.row``), else all are written.

        Rows are numbered ``first_row``, ``first_row + 1``, ... unless ``row_numbers`` gives each
        row its own number (imports skip blank lines but must still name the sheet's real row).
        """
        if row_numbers is not None and len(row_numbers) != len(rows):
            raise ValueError("row_numbers must have one number per row")
        spec = SPECS[module]
        with self._store.write() as session:
            site = load_site(session, site_id)
            require_site(actor, site_id)
            refs = load_reference_index(session)
            today = site.today(self._now())
            numbers = row_numbers or range(first_row, first_row + len(rows))
            cleaned, problems = self._validate_batch(
                actor, spec, site_id, rows, refs, today, numbers
            )
            problems.extend(self._batch_duplicates(session, spec, site_id, cleaned, refs))
            if problems:
                raise ValidationError(sorted(problems, key=lambda p: p.row or 0))
            now = self._now()
            payload = [
                {
                    "id": new_id(),
                    "site_id": site_id,
                    "created_by": actor.user_id,
                    "created_at": now,
                    "updated_at": now,
                    "version": 1,
                    **clean,
                }
                for _, clean in cleaned
            ]
            if payload:
                insert_rows(session, Base.metadata.tables[spec.table.__tablename__], payload)
                movements = [m for _, c in cleaned for m in self._movements(spec, site_id, c, +1)]
                apply_movements(session, movements)
                log_changes(
                    session,
                    actor,
                    spec.table.__tablename__,
                    "INSERT",
                    [(p["id"], None, c) for p, (_, c) in zip(payload, cleaned, strict=True)],
                )
        return Changed(len(payload), for_module(module, site_id))

    # ------------------------------------------------------------------ reads
    def get(self, actor: Actor, module: Module, record_id: str) -> RecordRow:
        spec = SPECS[module]
        with self._store.read() as session:
            record = self._load(session, spec, record_id)
            require_site(actor, record.site_id)
            return self._row(spec, record, load_reference_index(session))

    def list(
        self,
        actor: Actor,
        module: Module,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        search: str = "",
        sort: str = "date",
        descending: bool = True,
        offset: int = 0,
        limit: int | None = None,
    ) -> builtins.list[RecordRow]:
        """Records of one site and range, filtered and sorted in SQL (fast on 100k+ rows)."""
        spec = SPECS[module]
        require_site(actor, site_id)
        ref_table = _REF_TABLES[spec.reference_field.kind]
        ref_col = getattr(spec.table, spec.reference_field.column)
        uom = ref_table.uom if ref_table is Material else literal("")
        query = self._filtered(
            select(spec.table, ref_table.code, ref_table.name, uom).join(
                ref_table, ref_table.id == ref_col
            ),
            spec,
            site_id,
            date_from,
            date_to,
            search,
        )
        order = (
            ref_table.code if sort == spec.reference_field.key else getattr(spec.table, sort, None)
        )
        if order is None:
            raise ValueError(f"cannot sort {module} by {sort!r}")
        # Newest first among equal keys too: ids are UUIDv7, so they order by creation time.
        tie = spec.table.id.desc() if descending else spec.table.id.asc()
        query = query.order_by(order.desc() if descending else order.asc(), tie)
        query = query.offset(offset)
        if limit is not None:
            query = query.limit(limit)
        ref_key = spec.reference_field.key
        out: builtins.list[RecordRow] = []
        with self._store.read() as session:
            factors = _factors(session, spec, site_id)
            codes = _other_codes(session, spec)
            for record, code, name, unit in session.execute(query):
                values = {f.key: getattr(record, f.column) for f in spec.fields}
                values[ref_key] = code
                for key, by_id in codes.items():
                    values[key] = by_id.get(values[key], "") if values[key] else ""
                out.append(_make_row(spec, record, values, name, unit or "", factors))
        return out

    def count(
        self,
        actor: Actor,
        module: Module,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        search: str = "",
    ) -> int:
        spec = SPECS[module]
        require_site(actor, site_id)
        ref_table = _REF_TABLES[spec.reference_field.kind]
        ref_col = getattr(spec.table, spec.reference_field.column)
        query = self._filtered(
            select(func.count()).select_from(spec.table).join(ref_table, ref_table.id == ref_col),
            spec,
            site_id,
            date_from,
            date_to,
            search,
        )
        with self._store.read() as session:
            return int(session.scalar(query) or 0)

    def may_change(self, actor: Actor, row: RecordRow, site: SiteInfo) -> bool:
        """Whether ``actor`` may edit or delete ``row`` (the UI greys out the rest)."""
        try:
            require_record_change(actor, row.module, row.site_id, row.date, site.today(self._now()))
        except Exception:
            return False
        return True

    # ---------------------------------------------------------------- helpers
    def _filtered(
        self,
        query: Select[Any],
        spec: ModuleSpec,
        site_id: str,
        date_from: date,
        date_to: date,
        search: str,
    ) -> Select[Any]:
        table = spec.table
        query = query.where(
            table.site_id == site_id, table.date >= date_from, table.date <= date_to
        )
        needle = search.strip().lower()
        if needle:
            ref_table = _REF_TABLES[spec.reference_field.kind]
            # Escape LIKE's wildcards: a search for "50%" or "_" means those characters.
            escaped = needle.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            pattern = f"%{escaped}%"
            text_cols = [getattr(table, f.column) for f in spec.fields if f.kind is Kind.TEXT]
            text_cols += [getattr(table, f.column) for f in spec.fields if f.kind in _CHOICE_KINDS]
            query = query.where(
                or_(
                    func.lower(ref_table.code).like(pattern, escape="\\"),
                    func.lower(ref_table.name).like(pattern, escape="\\"),
                    *(func.lower(col).like(pattern, escape="\\") for col in text_cols),
                )
            )
        return query

    @staticmethod
    def _load(session: Session, spec: ModuleSpec, record_id: str) -> RecordMixin:
        record = session.get(spec.table, record_id)
        if record is None:
            raise NotFound(f"no {spec.title.lower()} record {record_id} (it may have been deleted)")
        return record

    def _check_version(
        self, session: Session, spec: ModuleSpec, record: RecordMixin, expected: int | None
    ) -> None:
        if expected is not None and record.version != expected:
            raise self._stale(spec, record.id, session)

    def _stale(
        self, spec: ModuleSpec, record_id: str, session: Session | None = None
    ) -> StaleRecordError:
        def describe(s: Session) -> StaleRecordError:
            last = s.execute(
                select(ChangeLog.at, User.username)
                .outerjoin(User, User.id == ChangeLog.user_id)
                .where(
                    ChangeLog.table_name == spec.table.__tablename__,
                    ChangeLog.record_id == record_id,
                )
                .order_by(ChangeLog.at.desc(), ChangeLog.id.desc())
                .limit(1)
            ).first()
            if last is None:
                return StaleRecordError("this record changed since you opened it")
            who = last.username or "the system"
            return StaleRecordError(
                f"changed by {who} at {last.at:%Y-%m-%d %H:%M} UTC since you opened it;"
                " reload or compare"
            )

        if session is not None:
            return describe(session)
        with self._store.read() as fresh:
            return describe(fresh)

    def _refuse_duplicate(
        self,
        session: Session,
        spec: ModuleSpec,
        site_id: str,
        clean: Mapping[str, Any],
        refs: ReferenceIndex,
        exclude_id: str | None,
    ) -> None:
        if not spec.unique_key:
            return
        key = {"site_id": site_id, **clean}
        conditions = [getattr(spec.table, col) == key[col] for col in spec.unique_key]
        if exclude_id is not None:
            conditions.append(spec.table.id != exclude_id)
        existing = session.scalar(select(spec.table).where(and_(*conditions)).limit(1))
        if existing is not None:
            raise ValidationError(
                [Problem(spec.reference_field.key, _duplicate_message(spec, existing, refs))]
            )

    def _validate_batch(
        self,
        actor: Actor,
        spec: ModuleSpec,
        site_id: str,
        rows: Sequence[Mapping[str, object]],
        refs: ReferenceIndex,
        today: date,
        numbers: Sequence[int],
    ) -> tuple[builtins.list[tuple[int, dict[str, Any]]], builtins.list[Problem]]:
        cleaned: builtins.list[tuple[int, dict[str, Any]]] = []
        problems: builtins.list[Problem] = []
        for number, raw in zip(numbers, rows, strict=True):
            try:
                clean = validate_record(spec, raw, refs, today, row=number)
            except ValidationError as exc:
                problems.extend(exc.problems)
                continue
            try:
                require_record_change(actor, spec.module, site_id, clean["date"], today)
            except Exception as exc:
                problems.append(Problem("date", str(exc), number))
                continue
            cleaned.append((number, clean))
        return cleaned, problems

    def _batch_duplicates(
        self,
        session: Session,
        spec: ModuleSpec,
        site_id: str,
        cleaned: builtins.list[tuple[int, dict[str, Any]]],
        refs: ReferenceIndex,
    ) -> builtins.list[Problem]:
        if not spec.unique_key or not cleaned:
            return []
        cols = [c for c in spec.unique_key if c != "site_id"]
        problems: builtins.list[Problem] = []
        seen: dict[tuple[Any, ...], int] = {}
        field = spec.reference_field.key
        for number, clean in cleaned:
            key = tuple(clean[c] for c in cols)
            if key in seen:
                problems.append(Problem(field, f"duplicates row {seen[key]} of this file", number))
            else:
                seen[key] = number
        first = min(c["date"] for _, c in cleaned)
        last = max(c["date"] for _, c in cleaned)
        existing = session.scalars(
            select(spec.table).where(
                spec.table.site_id == site_id, spec.table.date >= first, spec.table.date <= last
            )
        )
        for record in existing:
            key = tuple(getattr(record, c) for c in cols)
            if key in seen:
                problems.append(Problem(field, _duplicate_message(spec, record, refs), seen[key]))
        return problems

    @staticmethod
    def _movements(
        spec: ModuleSpec, site_id: str, values: Mapping[str, Any], sign: int
    ) -> builtins.list[Movement]:
        if spec.flow is None:
            return []
        return [
            Movement(
                site_id,
                values["material_id"],
                values["date"],
                spec.flow,
                sign * to_milli(values["quantity"]),
            )
        ]

    @staticmethod
    def _row(spec: ModuleSpec, record: RecordMixin, refs: ReferenceIndex) -> RecordRow:
        """The record as a value, read inside the write's own session (factors included)."""
        ref_field = spec.reference_field
        item = refs.by_id(getattr(record, ref_field.column))
        values = {f.key: getattr(record, f.column) for f in spec.fields}
        values[ref_field.key] = item.code if item else ""
        for other in spec.other_references:
            ref = refs.by_id(values[other.key]) if values[other.key] else None
            values[other.key] = ref.code if ref else ""
        session = Session.object_session(record)
        factors = _factors(session, spec, record.site_id) if session else NO_FACTORS
        return _make_row(
            spec, record, values, item.name if item else "", item.uom if item else "", factors
        )


_CHOICE_KINDS = {Kind.SHIFT, Kind.OPERATION, Kind.FATE, Kind.STATUS, Kind.REASON}


def _factors(session: Session, spec: ModuleSpec, site_id: str) -> FactorTable:
    """The site's conversion factors, for modules whose records are material quantities."""
    if spec.reference_field.kind is not Kind.MATERIAL:
        return NO_FACTORS
    return load_factor_table(session, site_id)


def _other_codes(session: Session, spec: ModuleSpec) -> dict[str, dict[str, str]]:
    """Code by id of each further reference of the module (a feed record's crusher)."""
    out: dict[str, dict[str, str]] = {}
    for other in spec.other_references:
        table = _REF_TABLES[other.kind]
        out[other.key] = {row[0]: row[1] for row in session.execute(select(table.id, table.code))}
    return out


def _values(spec: ModuleSpec, record: RecordMixin) -> dict[str, Any]:
    return {f.column: getattr(record, f.column) for f in spec.fields}


def _make_row(
    spec: ModuleSpec,
    record: RecordMixin,
    values: dict[str, Any],
    name: str,
    uom: str,
    factors: FactorTable,
) -> RecordRow:
    tons_m: int | None = None
    mass: MassDetermination | None = None
    if spec.reference_field.kind is Kind.MATERIAL:
        material_id = getattr(record, spec.reference_field.column)
        quantity = to_milli(values["quantity"])
        tons_m, mass = factors.tonnage(material_id, uom, record.date, quantity)
    return RecordRow(
        module=spec.module,
        id=record.id,
        site_id=record.site_id,
        date=record.date,
        values=values,
        ref_name=name,
        uom=uom,
        version=record.version,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        tons_m=tons_m,
        mass=mass,
    )


def _duplicate_message(spec: ModuleSpec, existing: RecordMixin, refs: ReferenceIndex) -> str:
    item = refs.by_id(getattr(existing, spec.reference_field.column))
    parts = [existing.date.isoformat()]
    shift = getattr(existing, "shift", "")
    if shift:
        parts.append(shift)
    parts.append(item.code if item else "?")
    operation = getattr(existing, "operation", "")
    if operation and "operation" in spec.unique_key:
        parts.append(operation)
    detail = ""
    quantity = getattr(existing, "quantity", None)
    if isinstance(quantity, Decimal):
        detail = f", {quantity} {item.uom.lower() if item else ''}".rstrip()
    what = f"{spec.title.lower()} {' '.join(parts)}"
    return f"already recorded: {what} (record {existing.id[:8]}{detail})"
