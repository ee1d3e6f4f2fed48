"""Turning records and the stock ledger into export rows, per module, granularity and flavour.

An ``ExportTable`` is what every writer consumes: column descriptions, a *single-use* iterator of
row tuples, the row count (for progress), and totals that are complete once the rows have been
consumed. Writers never touch the database, and this module never formats a file.

Invariants a newcomer must not break:
- **Exact values.** Quantities are ``Decimal`` with exactly 3 places (hours 2), made from the
  stored integer thousandths (hundredths); totals are summed on those integers. A float never
  appears here; the xlsx writer converts at the very edge because Excel stores doubles.
- **Streaming.** Daily record rows come from one server-side cursor (``yield_per``) and are
  sorted one day at a time, so memory does not grow with the number of rows. Weekly/monthly rows
  are summed per day in SQL first (at most days x references rows), then folded in Python.
- **The import contract.** The human daily columns of a record module are exactly
  ``SPECS[module].headers`` (the import headers) plus name columns placed after the code column,
  with the values the import accepts (codes, ISO dates, plain numbers): a daily csv export
  imports back into an empty store as identical records.
- Weekly (ISO, Monday first) and monthly rows carry the period's first day clipped to the range
  in the Date column, and the last day (clipped) in Period End, as the ledger does.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, String, func, select, type_coerce

from deskops_desktop.export.mass_balance_table import mass_balance_table
from deskops_desktop.export.table import (
    Column,
    ColumnKind,
    ExportMeta,
    ExportQuery,
    ExportTable,
    Flavour,
    TotalsTable,
)
from deskops_desktop.models.conversion import NO_FACTORS, FactorTable
from deskops_desktop.models.enums import (
    OPERATION_NAMES,
    Granularity,
    MassDetermination,
    Module,
    Operation,
    Shift,
    Uom,
)
from deskops_desktop.models.ledger_math import period_start
from deskops_desktop.models.modules import (
    SPECS,
    FieldSpec,
    Kind,
    ModuleSpec,
    ReferenceIndex,
    RefItem,
)
from deskops_desktop.models.stock import LEDGER_FIGURES
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.access import Actor, require_site
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.ledger import Ledger, LedgerTotal, check_range
from deskops_desktop.services.reference import SiteInfo, load_reference_index, load_site


# ----------------------------------------------------------------------------- entry point
def build_table(
    services: Services,
    actor: Actor,
    query: ExportQuery,
    flavour: Flavour = Flavour.HUMAN,
) -> ExportTable:
    """The export table of ``query`` as ``actor`` may see it (site access is checked here)."""
    require_site(actor, query.site_id)
    check_range(query.date_from, query.date_to)
    with services.store.read() as session:
        site = load_site(session, query.site_id)
        refs = load_reference_index(session)
    meta = ExportMeta(
        # what was asked for,
        module=query.module,
        granularity=query.granularity,
        date_from=query.date_from,
        date_to=query.date_to,
        filters=query.filters(),
        # of which site,
        site_code=site.code,
        site_name=site.name,
        site_timezone=site.timezone,
        # and when and by whom.
        generated_at=services.store.clock.now(),
        generated_by=actor.display_name or actor.username,
    )
    if query.module is Module.MASS_BALANCE:
        return mass_balance_table(services, actor, query, meta, flavour)
    if query.module is Module.INVENTORY:
        ledger = services.ledger.ledger(
            actor, query.site_id, query.date_from, query.date_to, query.granularity, query.category
        )
        return ledger_table(ledger, meta, flavour)
    spec = SPECS[query.module]
    conditions = _record_conditions(spec, query, _ref_ids(spec, refs, query.category))
    job = _RecordsExport(services, spec, site, refs, query, conditions, meta, flavour)
    if query.granularity is Granularity.DAILY:
        return _daily_records_table(job)
    return _period_records_table(job)


@dataclass(frozen=True, slots=True)
class _RecordsExport:
    """A records export's inputs: its daily and its weekly/monthly table start alike."""

    services: Services
    spec: ModuleSpec
    site: SiteInfo
    refs: ReferenceIndex
    query: ExportQuery
    conditions: list[Any]
    meta: ExportMeta
    flavour: Flavour

    def table(
        self, columns: list[Column], rows: Iterator[tuple[Any, ...]], count: int, totals: _Totals
    ) -> ExportTable:
        """The finished table, its totals grouped in reference order (both tables end so)."""
        order = _group_order(self.spec, self.refs)
        return ExportTable(self.meta, columns, rows, count, lambda: totals.table(order))


def _ref_ids(spec: ModuleSpec, refs: ReferenceIndex, category: str | None) -> list[str] | None:
    if category is None or spec.reference_field.kind is not Kind.MATERIAL:
        return None
    return [m.id for m in refs.materials if m.category == category]


# --------------------------------------------------------------------------- column shapes
_VALUE_KINDS: dict[Kind, ColumnKind] = {
    Kind.DATE: ColumnKind.DATE,
    Kind.QUANTITY: ColumnKind.QUANTITY,
    Kind.SIGNED_QUANTITY: ColumnKind.QUANTITY,
    Kind.HOURS: ColumnKind.HOURS,
    Kind.COUNT: ColumnKind.INTEGER,
    Kind.HEADCOUNT: ColumnKind.INTEGER,
    Kind.TRIPS: ColumnKind.INTEGER,
}
_SCALE: dict[Kind, int] = {Kind.QUANTITY: 3, Kind.SIGNED_QUANTITY: 3, Kind.HOURS: 2}
_REF_WORD = {Kind.MATERIAL: "Material", Kind.EQUIPMENT: "Equipment", Kind.ROLE: "Role"}
_SHIFT_RANK = {s.value: n for n, s in enumerate(Shift)}


def _width(items: Sequence[RefItem], attr: str) -> int:
    return max((len(str(getattr(i, attr))) for i in items), default=0)


def _ref_columns(fspec: FieldSpec, refs: ReferenceIndex) -> list[Column]:
    """The code column (the import header) and the name columns that follow it."""
    items = refs.items(fspec.kind)
    word = _REF_WORD[fspec.kind]
    low = word.lower()
    code_w, name_w, cat_w = _width(items, "code"), _width(items, "name"), _width(items, "category")
    # The same columns in both flavours; the flavour only decides which name a writer prints
    # (``header`` for people, ``key`` for Power BI).
    cols = [
        Column(fspec.header, f"{low}_code", width=code_w),
        Column(f"{word} Name", f"{low}_name", width=name_w),
    ]
    if fspec.kind is Kind.MATERIAL:
        cols += [
            Column("Category", "material_category", width=cat_w, guard=False),
            Column("UOM", "uom", width=4, guard=False),
        ]
    elif fspec.kind is Kind.EQUIPMENT:
        cols.append(Column("Equipment Type", "equipment_type", width=cat_w, guard=False))
    return cols


def _ref_values(item: RefItem, kind: Kind) -> tuple[Any, ...]:
    if kind is Kind.MATERIAL:
        return (item.code, item.name, item.category, item.uom)
    if kind is Kind.EQUIPMENT:
        return (item.code, item.name, item.category)
    return (item.code, item.name)


def _field_column(fspec: FieldSpec, flavour: Flavour) -> list[Column]:
    kind = _VALUE_KINDS.get(fspec.kind, ColumnKind.TEXT)
    if flavour is Flavour.POWERBI and fspec.kind is Kind.OPERATION:
        return [
            Column(fspec.header, "operation_code", width=7),
            Column("Operation Name", "operation_name", width=21),
        ]
    width = {Kind.SHIFT: 9, Kind.STATUS: 11, Kind.REASON: 15, Kind.OPERATION: 9, Kind.DATE: 10}.get(
        fspec.kind, 0
    )
    closed = fspec.kind in (Kind.SHIFT, Kind.STATUS, Kind.REASON, Kind.OPERATION)
    label = fspec.label if fspec.label != fspec.header else ""
    return [Column(fspec.header, fspec.key, kind, width, guard=not closed, label=label)]


def _site_columns(site: SiteInfo) -> list[Column]:
    return [
        Column("Site Code", "site_code", width=len(site.code)),
        Column("Site Name", "site_name", width=len(site.name)),
    ]


# ------------------------------------------------------------------------- totals helpers
class _Totals:
    """Integer sums per group (category+unit, equipment type, role) and per unit."""

    def __init__(self, spec: ModuleSpec, metrics: Sequence[FieldSpec]) -> None:
        self.ref_kind = spec.reference_field.kind
        self.metrics = tuple(metrics)
        self.groups: dict[tuple[str, str], list[int]] = {}

    def add(self, item: RefItem, values: Sequence[int]) -> None:
        self.add_many(item, values, 1)

    def add_many(self, item: RefItem, values: Sequence[int], count: int) -> None:
        key = self._key(item)
        acc = self.groups.get(key)
        if acc is None:
            acc = self.groups[key] = [0] * (len(values) + 1)
        for i, v in enumerate(values):
            acc[i] += v
        acc[-1] += count

    def _key(self, item: RefItem) -> tuple[str, str]:
        if self.ref_kind is Kind.MATERIAL:
            return (item.category, item.uom)
        if self.ref_kind is Kind.EQUIPMENT:
            return (item.category, "")
        return (item.name, "")

    def table(self, order: Sequence[tuple[str, str]]) -> TotalsTable:
        metric_cols = [
            Column(
                m.label if m.kind is not Kind.SIGNED_QUANTITY else "Adjustment",
                m.key,
                _VALUE_KINDS[m.kind],
            )
            for m in self.metrics
        ]
        count_col = Column("Records", "record_count", ColumnKind.INTEGER)
        rank = {key: n for n, key in enumerate(order)}
        keys = sorted(self.groups, key=lambda k: (rank.get(k, len(rank)), k))
        rows: list[tuple[Any, ...]] = []
        if self.ref_kind is Kind.MATERIAL:
            cols = (
                Column("Category", "material_category"),
                Column("UOM", "uom"),
                *metric_cols,
                count_col,
            )
            grand: dict[str, list[int]] = {}
            for key in keys:
                acc = self.groups[key]
                rows.append((key[0], key[1], *self._scaled(acc)))
                g = grand.setdefault(key[1], [0] * len(acc))
                for i, v in enumerate(acc):
                    g[i] += v
            for uom, acc in grand.items():
                rows.append((f"All {uom}", uom, *self._scaled(acc)))
            return TotalsTable(cols, tuple(rows))
        label = "Equipment Type" if self.ref_kind is Kind.EQUIPMENT else "Role"
        cols = (Column(label, "group"), *metric_cols, count_col)
        total = [0] * (len(self.metrics) + 1)
        for key in keys:
            acc = self.groups[key]
            rows.append((key[0], *self._scaled(acc)))
            for i, v in enumerate(acc):
                total[i] += v
        if rows:
            rows.append(
                ("All" if self.ref_kind is Kind.EQUIPMENT else "All roles", *self._scaled(total))
            )
        return TotalsTable(cols, tuple(rows))

    def _scaled(self, acc: Sequence[int]) -> tuple[Any, ...]:
        out: list[Any] = [
            _scaled(v, _SCALE.get(m.kind, 0)) for m, v in zip(self.metrics, acc, strict=False)
        ]
        out.append(acc[-1])
        return tuple(out)


def _scaled(value: int, places: int) -> Decimal | int:
    return Decimal(value).scaleb(-places) if places else value


# A material record's tons (weighed, or deemed from loads): summed like a field in the totals.
_TONS = FieldSpec("tons", "Tons", "Tons", Kind.QUANTITY)
_DEEMED = FieldSpec("deemed_tons", "Deemed Tons", "Deemed tons", Kind.QUANTITY)


def _tons_metrics(spec: ModuleSpec) -> list[FieldSpec]:
    """Tons and deemed tons, for modules whose records are material quantities."""
    return [_TONS, _DEEMED] if spec.reference_field.kind is Kind.MATERIAL else []


def _metrics(spec: ModuleSpec) -> list[FieldSpec]:
    """The fields that are summed in weekly/monthly rows and totals (counts of units are not)."""
    wanted = {Kind.QUANTITY, Kind.SIGNED_QUANTITY, Kind.HOURS, Kind.HEADCOUNT, Kind.TRIPS}
    return [f for f in spec.fields if f.kind in wanted]


def _group_order(spec: ModuleSpec, refs: ReferenceIndex) -> list[tuple[str, str]]:
    order: list[tuple[str, str]] = []
    kind = spec.reference_field.kind
    for item in refs.items(kind):
        if kind is Kind.MATERIAL:
            key = (item.category, item.uom)
        elif kind is Kind.EQUIPMENT:
            key = (item.category, "")
        else:
            key = (item.name, "")
        if key not in order:
            order.append(key)
    return order


# ------------------------------------------------------------------------- daily records
def _raw(column: Any, fspec: FieldSpec) -> Any:
    """The stored value without the TypeDecorator (integers for quantities and hours)."""
    if fspec.kind in _SCALE:
        return type_coerce(column, BigInteger)
    if fspec.kind in (Kind.COUNT, Kind.HEADCOUNT, Kind.TRIPS):
        return type_coerce(column, Integer)
    return column


@dataclass(frozen=True, slots=True)
class _Cell:
    """One field of a daily record row: the export columns it fills and how.

    ``fill(day, item, stored)`` gets the record's day, its material / equipment / role, and the
    stored values of the other fields (in ``spec.fields`` order, date and reference left out).
    """

    columns: tuple[Column, ...]
    fill: Callable[[date, RefItem, Sequence[Any]], tuple[Any, ...]]


def _daily_cells(
    spec: ModuleSpec, refs: ReferenceIndex, flavour: Flavour, others: Sequence[FieldSpec]
) -> list[_Cell]:
    """The cells of a daily row, one per field of the module, in the import-header order."""
    ref_field = spec.reference_field
    ref_kind = ref_field.kind
    positions = {f.key: i for i, f in enumerate(others)}

    def the_day(day: date, _item: RefItem, _stored: Sequence[Any]) -> tuple[Any, ...]:
        return (day,)

    def the_reference(_day: date, item: RefItem, _stored: Sequence[Any]) -> tuple[Any, ...]:
        return _ref_values(item, ref_kind)

    cells: list[_Cell] = []
    for fspec in spec.fields:
        if fspec.kind is Kind.DATE:
            cells.append(_Cell(tuple(_field_column(fspec, flavour)), the_day))
        elif fspec is ref_field:
            cells.append(_Cell(tuple(_ref_columns(fspec, refs)), the_reference))
        elif fspec.kind in (Kind.MATERIAL, Kind.EQUIPMENT, Kind.ROLE):
            # A further reference (a feed record's crusher): its code, as the import reads it.
            fill = _stored_value(positions[fspec.key], _code_of(refs.items(fspec.kind)))
            column = Column(
                fspec.header, f"{fspec.key}_code", width=_width(refs.items(fspec.kind), "code")
            )
            cells.append(_Cell((column,), fill))
        else:
            fill = _stored_value(positions[fspec.key], _converter(fspec, flavour))
            cells.append(_Cell(tuple(_field_column(fspec, flavour)), fill))
    return cells


def _code_of(items: Sequence[RefItem]) -> Callable[[Any], Any]:
    """Stored id -> code (None for an empty optional reference)."""
    codes = {item.id: item.code for item in items}
    return lambda value: codes.get(value) if value else None


def _stored_value(
    position: int, convert: Callable[[Any], Any]
) -> Callable[[date, RefItem, Sequence[Any]], tuple[Any, ...]]:
    def fill(_day: date, _item: RefItem, stored: Sequence[Any]) -> tuple[Any, ...]:
        value = convert(stored[position])
        return value if isinstance(value, tuple) else (value,)

    return fill


def _record_conditions(
    spec: ModuleSpec, query: ExportQuery, ref_ids: list[str] | None
) -> list[Any]:
    """The WHERE of a records export: the site, the range and (optionally) the references."""
    table = spec.table
    conditions = [
        table.site_id == query.site_id,
        table.date >= query.date_from,
        table.date <= query.date_to,
    ]
    if ref_ids is not None:
        conditions.append(getattr(table, spec.reference_field.column).in_(ref_ids))
    return conditions


def _daily_records_table(job: _RecordsExport) -> ExportTable:
    spec, site, refs, flavour = job.spec, job.site, job.refs, job.flavour
    conditions = job.conditions
    table = spec.table
    ref_field = spec.reference_field
    others = [f for f in spec.fields if f.kind is not Kind.DATE and f is not ref_field]
    store = job.services.store
    date_col = type_coerce(table.date, String) if store.is_sqlite else table.date
    ref_col = getattr(table, ref_field.column)
    stmt = (
        select(table.id, date_col, ref_col, *(_raw(getattr(table, f.column), f) for f in others))
        .where(*conditions)
        .order_by(table.date)
    )
    count_stmt = select(func.count()).select_from(table).where(*conditions)
    with store.read() as session:
        row_count = int(session.scalar(count_stmt) or 0)

    metrics = _metrics(spec)
    tons_metrics = _tons_metrics(spec)
    totals = _Totals(spec, [*metrics, *tons_metrics])
    by_id = {item.id: item for item in refs.items(ref_field.kind)}
    positions = {f.key: i for i, f in enumerate(others)}
    metric_pos = [positions[m.key] for m in metrics]
    shift_pos = positions.get("shift")
    cells = _daily_cells(spec, refs, flavour, others)
    pbi = flavour is Flavour.POWERBI
    columns: list[Column] = (
        [Column("Row Key", "row_key", width=36), *_site_columns(site)] if pbi else []
    )
    columns += [column for cell in cells for column in cell.columns]
    head_of = (lambda record_id: (record_id, site.code, site.name)) if pbi else (lambda _id: ())
    # After the import columns (a file still imports back; these two are reported as ignored).
    quantity_pos = positions.get("quantity")
    factors = NO_FACTORS
    if tons_metrics:
        columns += [
            Column("Tons", "tons", ColumnKind.QUANTITY),
            Column("Mass Determination", "mass_determination", width=9, guard=False),
        ]
        with store.read() as session:
            factors = load_factor_table(session, site.id)

    def tonnage(day: date, item: RefItem, stored: Sequence[Any]) -> tuple[int | None, str]:
        if quantity_pos is None:
            return None, ""
        tons_m, mass = factors.tonnage(item.id, item.uom, day, int(stored[quantity_pos]))
        return tons_m, mass.value

    def shape(record_id: str, day: date, item: RefItem, stored: Sequence[Any]) -> tuple[Any, ...]:
        return (*head_of(record_id), *(v for cell in cells for v in cell.fill(day, item, stored)))

    def generate() -> Iterator[tuple[Any, ...]]:
        dates: dict[Any, date] = {}
        missing = RefItem("", "?", "(unknown)")
        with store.read() as session:
            result = session.execute(stmt.execution_options(yield_per=5000))
            day_rows: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
            current: date | None = None
            for record_id, raw_day, ref_id, *rest in result:
                day = dates.get(raw_day)
                if day is None:
                    day = raw_day if isinstance(raw_day, date) else date.fromisoformat(raw_day)
                    dates[raw_day] = day
                if day != current:
                    if day_rows:
                        day_rows.sort(key=lambda pair: pair[0])
                        for _key, row in day_rows:
                            yield row
                        day_rows.clear()
                    current = day
                item = by_id.get(ref_id, missing)
                values = [int(rest[p] or 0) for p in metric_pos]
                row = shape(record_id, day, item, rest)
                if tons_metrics:
                    tons_m, mass = tonnage(day, item, rest)
                    deemed = (tons_m or 0) if mass == MassDetermination.DEEMED else 0
                    values += [tons_m or 0, deemed]
                    row = (*row, None if tons_m is None else from_milli(tons_m), mass)
                totals.add(item, values)
                rank = _SHIFT_RANK.get(rest[shift_pos] or "", 9) if shift_pos is not None else 0
                key = (item.sort_order, item.code, rank, record_id)
                day_rows.append((key, row))
            day_rows.sort(key=lambda pair: pair[0])
            for _key, row in day_rows:
                yield row

    return job.table(columns, generate(), row_count, totals)


def _converter(fspec: FieldSpec, flavour: Flavour) -> Callable[[Any], Any]:
    """Raw stored value -> exported value (None for empty text, so cells stay blank)."""
    kind = fspec.kind
    if kind in _SCALE:
        places = _SCALE[kind]
        return lambda v: None if v is None else Decimal(v).scaleb(-places)
    if kind in (Kind.COUNT, Kind.HEADCOUNT, Kind.TRIPS):
        return lambda v: v
    if kind is Kind.OPERATION and flavour is Flavour.POWERBI:
        names = {op.value: name for op, name in OPERATION_NAMES.items()}
        return lambda v: (v or None, names.get(v) if v else None)
    return lambda v: v or None


# ------------------------------------------------------------------ weekly/monthly records
def _period_records_table(job: _RecordsExport) -> ExportTable:
    spec, site, refs, query, conditions = job.spec, job.site, job.refs, job.query, job.conditions
    table = spec.table
    ref_field = spec.reference_field
    metrics = _metrics(spec)
    ref_col = getattr(table, ref_field.column)
    sums = [func.sum(_raw(getattr(table, m.column), m)) for m in metrics]
    stmt = (
        select(table.date, ref_col, *sums, func.count())
        .where(*conditions)
        .group_by(table.date, ref_col)
    )
    granularity = query.granularity
    groups: dict[tuple[date, str], list[int]] = {}
    by_id = {item.id: item for item in refs.items(ref_field.kind)}
    tons_metrics = _tons_metrics(spec)
    with job.services.store.read() as session:
        for day, ref_id, *values in session.execute(stmt):
            start = max(period_start(day, granularity), query.date_from)
            acc = groups.get((start, ref_id))
            if acc is None:
                acc = groups[(start, ref_id)] = [0] * len(values)
            for i, v in enumerate(values):
                acc[i] += int(v or 0)
        tons = (
            _period_tons(
                session, spec, query, conditions, by_id, load_factor_table(session, site.id)
            )
            if tons_metrics
            else {}
        )
    missing = RefItem("", "?", "(unknown)")
    totals = _Totals(spec, [*metrics, *tons_metrics])
    keyed = []
    for (start, ref_id), acc in groups.items():
        item = by_id.get(ref_id, missing)
        extra = tons.get((start, ref_id), [0, 0, 0])
        totals.add_many(item, [*acc[:-1], *extra[:2]] if tons_metrics else acc[:-1], acc[-1])
        keyed.append(((start, item.sort_order, item.code), start, item, acc, extra))
    keyed.sort(key=lambda entry: entry[0])

    pbi = job.flavour is Flavour.POWERBI
    columns: list[Column] = []
    if pbi:
        columns += [Column("Row Key", "row_key", width=40), *_site_columns(site)]
    columns += [
        Column("Date", "period_start", ColumnKind.DATE, 10),
        Column("Period End", "period_end", ColumnKind.DATE, 10),
    ]
    if pbi:
        columns.append(Column("Granularity", "granularity", width=7, guard=False))
    columns += _ref_columns(ref_field, refs)
    for m in metrics:
        columns.append(Column(m.header, m.key, _VALUE_KINDS[m.kind]))
    columns.append(Column("Records", "record_count", ColumnKind.INTEGER))
    if tons_metrics:
        columns += [
            Column("Tons", "tons", ColumnKind.QUANTITY),
            Column("Deemed Tons", "deemed_tons", ColumnKind.QUANTITY),
            Column("Records Without Factor", "records_without_factor", ColumnKind.INTEGER),
        ]

    def generate() -> Iterator[tuple[Any, ...]]:
        for _key, start, item, acc, extra in keyed:
            end = min(_period_end(start, granularity), query.date_to)
            values = [_scaled(v, _SCALE.get(m.kind, 0)) for m, v in zip(metrics, acc, strict=False)]
            head: tuple[Any, ...] = ()
            if pbi:
                key = f"{site.code}|{granularity.value}|{start.isoformat()}|{item.code}"
                head = (key, site.code, site.name)
            middle: tuple[Any, ...] = (start, end, granularity.value) if pbi else (start, end)
            tail: tuple[Any, ...] = ()
            if tons_metrics:
                tail = (from_milli(extra[0]), from_milli(extra[1]), extra[2])
            yield (*head, *middle, *_ref_values(item, ref_field.kind), *values, acc[-1], *tail)

    return job.table(columns, generate(), len(keyed), totals)


def _period_tons(
    session: Any,
    spec: ModuleSpec,
    query: ExportQuery,
    conditions: list[Any],
    by_id: dict[str, RefItem],
    factors: FactorTable,
) -> dict[tuple[date, str], list[int]]:
    """(period start, material) -> [tons, deemed tons, records without factor], each LOAD
    record converted on its own date (so a period's tons are the sum of its records')."""
    table: Any = spec.table  # a material module's table: it has material_id and quantity
    quantity = type_coerce(table.quantity, BigInteger)
    out: dict[tuple[date, str], list[int]] = {}
    ton_ids = [m.id for m in by_id.values() if m.uom == Uom.TON]
    summed = select(table.date, table.material_id, func.sum(quantity)).where(
        *conditions, table.material_id.in_(ton_ids)
    )
    for day, material_id, total in session.execute(summed.group_by(table.date, table.material_id)):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        start = max(period_start(day, query.granularity), query.date_from)
        acc = out.setdefault((start, material_id), [0, 0, 0])
        acc[0] += int(total or 0)
    loads = select(table.date, table.material_id, quantity).where(
        *conditions, table.material_id.not_in(ton_ids)
    )
    for day, material_id, raw in session.execute(loads):
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        start = max(period_start(day, query.granularity), query.date_from)
        acc = out.setdefault((start, material_id), [0, 0, 0])
        item = by_id.get(material_id)
        tons_m, _mass = factors.tonnage(material_id, item.uom if item else "", day, int(raw))
        if tons_m is None:
            acc[2] += 1
        else:
            acc[0] += tons_m
            acc[1] += tons_m
    return out


def _period_end(start: date, granularity: Granularity) -> date:
    from datetime import timedelta

    if granularity is Granularity.WEEKLY:
        return start - timedelta(days=start.weekday()) + timedelta(days=6)
    if granularity is Granularity.MONTHLY:
        nxt = (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return nxt - timedelta(days=1)
    return start


# ------------------------------------------------------------------------------ inventory


def ledger_table(ledger: Ledger, meta: ExportMeta, flavour: Flavour = Flavour.HUMAN) -> ExportTable:
    """The stock ledger as an export table (one row per material and day, week or month)."""
    site = ledger.site
    materials = tuple({r.material.id: r.material for r in ledger.rows}.values())
    daily = ledger.granularity is Granularity.DAILY
    pbi = flavour is Flavour.POWERBI
    columns: list[Column] = []
    if pbi:
        columns += [Column("Row Key", "row_key", width=40), *_site_columns(site)]
    if daily:
        columns.append(Column("Date", "date", ColumnKind.DATE, 10))
    else:
        columns += [
            Column("Date", "period_start", ColumnKind.DATE, 10),
            Column("Period End", "period_end", ColumnKind.DATE, 10),
        ]
    if pbi and not daily:
        columns.append(Column("Granularity", "granularity", width=7, guard=False))
    columns += [
        Column("Material Code", "material_code", width=_width(materials, "code")),
        Column("Material Name", "material_name", width=_width(materials, "name")),
        Column("Category", "material_category", width=_width(materials, "category"), guard=False),
        Column("UOM", "uom", width=4, guard=False),
    ]
    first_figure = len(columns)
    columns += [Column(name, name.lower(), ColumnKind.QUANTITY) for name in LEDGER_FIGURES]
    columns += [
        Column("Level", "level", ColumnKind.LEVEL, 7, guard=False),
        Column("Low Threshold", "low_threshold", ColumnKind.QUANTITY),
        Column("High Threshold", "high_threshold", ColumnKind.QUANTITY),
    ]
    closing = first_figure + LEDGER_FIGURES.index("Closing")
    level_columns = (closing, closing + 2, closing + 3)
    granularity = ledger.granularity.value
    three = Decimal("0.001")

    def generate() -> Iterator[tuple[Any, ...]]:
        for r in ledger.rows:
            m = r.material
            head: tuple[Any, ...] = ()
            if pbi:
                key = (
                    f"{site.code}|{r.day.isoformat()}|{m.code}"
                    if daily
                    else f"{site.code}|{granularity}|{r.day.isoformat()}|{m.code}"
                )
                head = (key, site.code, site.name)
            days: tuple[Any, ...] = (r.day,) if daily else (r.day, r.period_end)
            if pbi and not daily:
                days = (*days, granularity)
            yield (
                *head,
                *days,
                m.code,
                m.name,
                m.category,
                m.uom,
                r.opening,
                r.produced,
                r.received,
                r.dispatched,
                r.fed,
                r.adjustment,
                r.closing,
                r.level.value,
                m.low_threshold.quantize(three),
                m.high_threshold.quantize(three),
            )

    def totals() -> TotalsTable:
        cols = (
            Column("Category", "material_category"),
            Column("UOM", "uom"),
            *(Column(n, n.lower(), ColumnKind.QUANTITY) for n in LEDGER_FIGURES),
        )
        rows = [_ledger_total_row(t) for t in (*ledger.category_totals, *ledger.grand_totals)]
        return TotalsTable(cols, tuple(rows))

    return ExportTable(meta, columns, generate(), len(ledger.rows), totals, level_columns)


def _ledger_total_row(total: LedgerTotal) -> tuple[Any, ...]:
    label = total.category if total.category is not None else f"All {total.uom}"
    return (label, total.uom, *total.values())


def operation_names() -> dict[str, str]:
    return {op.value: OPERATION_NAMES[op] for op in Operation}
