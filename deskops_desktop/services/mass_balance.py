"""The plant's mass balance of a site and period, in tons: what came in, went through the
crushers, went out by fate, and what is left (DOMAIN.md, "Mass balance").

All figures are integers of thousandths of a ton. A LOAD record counts with its deemed tons
(``models.conversion``: per record, rounded once); a TON record with its quantity. So every total
here is the sum of the record figures a clerk sees and every export prints.

The identity the report rests on, per site and period::

    Δstock = received + produced − out − fed + adjustments           (every flow, in tons)
    unexplained = received − out − Δstock − (fed − produced)  =  − adjustments

Δstock of TON materials is read from the maintained ledger (closing − opening), not from the
records, so a drifted ledger would show as an unexplained difference beside the adjustments;
Δstock of LOAD materials is the sum of their deemed flows (a pile counted in loads has no other
tons). Records without a factor count in neither side: the balance still closes, and the report
lists them as what makes it incomplete — never as zero tons.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, func, select, type_coerce
from sqlalchemy.orm import Session

from deskops_desktop.models.conversion import FactorTable, TonsTotal
from deskops_desktop.models.enums import FATE_NAMES, EquipmentType, Fate, Module, Uom
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.records import (
    Dispatch,
    EquipmentLog,
    Feed,
    InventoryAdjustment,
    ManpowerLog,
    Production,
    Received,
)
from deskops_desktop.models.reference import Equipment
from deskops_desktop.services.access import Actor, require_site
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.ledger import check_range, closings_before
from deskops_desktop.services.reference import SiteInfo, load_reference_index, load_site
from deskops_desktop.services.store import StoreService

RATIO = Decimal("0.001")  # yield in t/t
PERCENT_2 = Decimal("0.01")  # diversion in %, tons per hour
NO_SOURCE = "(no source given)"


@dataclass(frozen=True, slots=True)
class TonsLine:
    """One line of a breakdown: a material, a source or a fate (``key``), with its tons.

    ``quantity_m`` is in the material's own ``uom`` when the line is one material (None when it
    mixes materials, as a source or a fate may); ``fate`` is set on the out-by-material lines.
    """

    key: str
    label: str
    tons: TonsTotal
    uom: str = ""
    quantity_m: int | None = None
    fate: str = ""


@dataclass(frozen=True, slots=True)
class NoFactor:
    """Records counted in loads that no factor converts: what keeps the balance incomplete."""

    module: Module
    material_code: str
    loads_m: int
    records: int
    first_day: date
    last_day: date


@dataclass(frozen=True)
class MassBalance:
    """A site's mass balance over ``[date_from, date_to]``; see the module docstring."""

    site: SiteInfo
    date_from: date
    date_to: date
    received: TonsTotal
    received_by_material: tuple[TonsLine, ...]
    received_by_source: tuple[TonsLine, ...]
    fed: TonsTotal
    fed_by_material: tuple[TonsLine, ...]
    produced: TonsTotal
    produced_by_material: tuple[TonsLine, ...]
    out: TonsTotal
    out_by_fate: tuple[TonsLine, ...]
    out_by_material: tuple[TonsLine, ...]
    adjustments: TonsTotal
    stock_change_m: int
    crusher_hours_c: int  # hundredths of an hour (hours × units of CRUSHING_SCREENING logs)
    man_hours_c: int  # hundredths of an hour (headcount × hours)
    no_factor: tuple[NoFactor, ...] = field(default=())

    # ----- the derived figures (the formulas of DOMAIN.md, computed once, here)
    @property
    def process_loss_m(self) -> int:
        """Fed − produced: fines, moisture and rejects not booked as product."""
        return self.fed.tons_m - self.produced.tons_m

    @property
    def unexplained_m(self) -> int:
        """Received − out − Δstock − process loss; equals −adjustments when the records are
        complete and the ledger sound."""
        return self.received.tons_m - self.out.tons_m - self.stock_change_m - self.process_loss_m

    @property
    def disposal_m(self) -> int:
        return self.fate_tons(Fate.DISPOSAL)

    @property
    def sold_m(self) -> int:
        return self.fate_tons(Fate.SALE)

    def fate_tons(self, fate: Fate) -> int:
        return next((line.tons.tons_m for line in self.out_by_fate if line.key == fate), 0)

    @property
    def yield_ratio(self) -> Decimal | None:
        """Produced ÷ fed in t/t, 3 dp half-up; None when nothing was fed."""
        return yield_of(self.produced.tons_m, self.fed.tons_m)

    @property
    def diversion_percent(self) -> Decimal | None:
        """(Received − disposal) ÷ received in percent, 2 dp half-up; None without receipts."""
        return diversion_of(self.received.tons_m, self.disposal_m)

    @property
    def tons_per_crusher_hour(self) -> Decimal | None:
        """Produced t ÷ operating hours of crushing and screening equipment, 2 dp."""
        return per_hour(self.produced.tons_m, self.crusher_hours_c)

    @property
    def tons_per_man_hour(self) -> Decimal | None:
        """Produced t ÷ man-hours, 2 dp."""
        return per_hour(self.produced.tons_m, self.man_hours_c)

    @property
    def complete(self) -> bool:
        """Every LOAD record of the period has a factor (so every ton is counted)."""
        return not self.no_factor


# The indicators' formulas, shared with the company overview (services.overview) so a site's
# figures there are the mass balance's to the last digit.
def yield_of(produced_m: int, fed_m: int) -> Decimal | None:
    """Produced ÷ fed in t/t, 3 dp half-up; None when nothing was fed."""
    return _ratio(produced_m, fed_m, RATIO)


def diversion_of(received_m: int, disposal_m: int) -> Decimal | None:
    """(Received − disposal) ÷ received in percent, 2 dp half-up; None without receipts."""
    if received_m == 0:
        return None
    kept = Decimal(received_m - disposal_m) * 100
    return (kept / Decimal(received_m)).quantize(PERCENT_2, ROUND_HALF_UP)


def _ratio(numerator_m: int, denominator_m: int, places: Decimal) -> Decimal | None:
    if denominator_m == 0:
        return None
    return (Decimal(numerator_m) / Decimal(denominator_m)).quantize(places, ROUND_HALF_UP)


def per_hour(tons_m: int, hours_c: int) -> Decimal | None:
    """Tons (thousandths) per hour (hundredths), 2 dp half-up; None without hours."""
    if hours_c == 0:
        return None
    # (tons_m / 1000) / (hours_c / 100) = tons_m / (10 × hours_c)
    return (Decimal(tons_m) / Decimal(10 * hours_c)).quantize(PERCENT_2, ROUND_HALF_UP)


class MassBalanceService(StoreService):
    """The mass balance of one site and period (the page, the exports, the CLI, the dashboard)."""

    def mass_balance(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> MassBalance:
        require_site(actor, site_id)
        check_range(date_from, date_to)
        with self._store.read() as session:
            return build_mass_balance(session, load_site(session, site_id), date_from, date_to)


# ----------------------------------------------------------------------------- the reading
class _Flow:
    """The records of one flow table in the period, in tons, grouped by material and by one
    more column (a source, a fate) when asked."""

    def __init__(self) -> None:
        self.by_material: dict[str, tuple[list[int], TonsTotal]] = {}
        self.by_group: dict[str, TonsTotal] = {}
        self.by_material_group: dict[tuple[str, str], tuple[int, TonsTotal]] = {}
        self.no_factor: dict[str, list[Any]] = {}

    @property
    def total(self) -> TonsTotal:
        out = TonsTotal()
        for _, tons in self.by_material.values():
            out = out.plus(tons)
        return out


def _read_flow(
    session: Session,
    table: Any,
    site_id: str,
    date_from: date,
    date_to: date,
    materials: dict[str, RefItem],
    factors: FactorTable,
    group: Any = None,
) -> _Flow:
    """Sum a flow table in tons: TON materials summed in SQL, LOAD records one by one (each is
    converted with the factor of its own date and rounded once)."""
    flow = _Flow()
    grouped = group is not None
    quantity = type_coerce(table.quantity, BigInteger)
    where = (table.site_id == site_id, table.date >= date_from, table.date <= date_to)
    keys = [table.material_id, *([group] if grouped else [])]
    ton_ids = [m.id for m in materials.values() if m.uom == Uom.TON]
    load_ids = [m.id for m in materials.values() if m.uom != Uom.TON]
    summed = session.execute(
        select(*keys, func.sum(quantity))
        .where(*where, table.material_id.in_(ton_ids))
        .group_by(*keys)
    )
    for material_id, *rest in summed:
        key, total = (str(rest[0] or ""), int(rest[1] or 0)) if grouped else ("", int(rest[0]))
        _add(flow, material_id, key, total, TonsTotal(tons_m=total), grouped)
    records = session.execute(
        select(table.date, quantity, *keys)
        .where(*where, table.material_id.in_(load_ids))
        .order_by(table.date)
    )
    for day, raw, material_id, *rest in records:
        item = materials[material_id]
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        loads = int(raw)
        tonnage = factors.tonnage(material_id, item.uom, day, loads)
        one = TonsTotal()
        one.add(tonnage, loads)
        _add(flow, material_id, str(rest[0] or "") if grouped else "", loads, one, grouped)
        if tonnage.tons_m is None:
            seen = flow.no_factor.setdefault(material_id, [0, 0, day, day])
            seen[0] += loads
            seen[1] += 1
            seen[3] = day
    return flow


def _add(
    flow: _Flow, material_id: str, key: str, quantity_m: int, tons: TonsTotal, grouped: bool
) -> None:
    quantities, total = flow.by_material.get(material_id, ([0], TonsTotal()))
    flow.by_material[material_id] = ([quantities[0] + quantity_m], total.plus(tons))
    if grouped:
        flow.by_group[key] = flow.by_group.get(key, TonsTotal()).plus(tons)
        pair = (material_id, key)
        quantity, total = flow.by_material_group.get(pair, (0, TonsTotal()))
        flow.by_material_group[pair] = (quantity + quantity_m, total.plus(tons))


def build_mass_balance(
    session: Session, site: SiteInfo, date_from: date, date_to: date
) -> MassBalance:
    """The mass balance over an open session (the dashboard reads it inside its snapshot)."""
    refs = load_reference_index(session)
    materials = {m.id: m for m in refs.materials}
    order = {m.id: n for n, m in enumerate(refs.materials)}
    factors = load_factor_table(session, site.id)

    def read(table: Any, group: Any = None) -> _Flow:
        return _read_flow(session, table, site.id, date_from, date_to, materials, factors, group)

    received = read(Received, Received.source)
    fed = read(Feed)
    produced = read(Production)
    out = read(Dispatch, Dispatch.fate)
    adjusted = read(InventoryAdjustment)

    def by_material(flow: _Flow) -> tuple[TonsLine, ...]:
        lines = []
        for material_id in sorted(flow.by_material, key=lambda m: order.get(m, 0)):
            (quantity,), tons = flow.by_material[material_id]
            item = materials[material_id]
            lines.append(TonsLine(item.code, item.name, tons, item.uom, quantity))
        return tuple(lines)

    # Largest first, ties by name: the order SQL returns groups in is not part of the result
    # (a report pack rebuilt for the same period must list the sources in the same order).
    sources = tuple(
        TonsLine(key or NO_SOURCE, key or NO_SOURCE, tons)
        for key, tons in sorted(received.by_group.items(), key=lambda kv: (-kv[1].tons_m, kv[0]))
    )
    fates = tuple(
        TonsLine(fate.value, fate.value, out.by_group[fate.value])
        for fate in Fate
        if fate.value in out.by_group
    )
    out_lines = tuple(
        TonsLine(
            materials[m].code,
            materials[m].name,
            tons,
            materials[m].uom,
            quantity,
            fate=fate,
        )
        for (m, fate), (quantity, tons) in sorted(
            out.by_material_group.items(),
            key=lambda kv: (order.get(kv[0][0], 0), list(Fate).index(Fate(kv[0][1]))),
        )
    )

    # Δstock: TON materials from the ledger, LOAD materials from their deemed flows.
    ton_ids = [m.id for m in refs.materials if m.uom == Uom.TON]
    opening = closings_before(session, site.id, ton_ids, date_from)
    closing = closings_before(session, site.id, ton_ids, date_to + timedelta(days=1))
    stock_change = sum(closing[m] - opening[m] for m in ton_ids)
    for material_id, item in materials.items():
        if item.uom == Uom.TON:
            continue
        stock_change += (
            _tons_of(received, material_id)
            + _tons_of(produced, material_id)
            - _tons_of(out, material_id)
            - _tons_of(fed, material_id)
            + _tons_of(adjusted, material_id)
        )

    missing = [
        NoFactor(module, materials[m].code, loads, count, first, last)
        for module, flow in (
            (Module.RECEIVED, received),
            (Module.FEED, fed),
            (Module.PRODUCTION, produced),
            (Module.DISPATCH, out),
            (Module.ADJUSTMENTS, adjusted),
        )
        for m, (loads, count, first, last) in flow.no_factor.items()
    ]
    return MassBalance(
        site=site,
        date_from=date_from,
        date_to=date_to,
        received=received.total,
        received_by_material=by_material(received),
        received_by_source=sources,
        fed=fed.total,
        fed_by_material=by_material(fed),
        produced=produced.total,
        produced_by_material=by_material(produced),
        out=out.total,
        out_by_fate=fates,
        out_by_material=out_lines,
        adjustments=adjusted.total,
        stock_change_m=stock_change,
        crusher_hours_c=_crusher_hours(session, site.id, date_from, date_to),
        man_hours_c=_man_hours(session, site.id, date_from, date_to),
        no_factor=tuple(missing),
    )


def _tons_of(flow: _Flow, material_id: str) -> int:
    entry = flow.by_material.get(material_id)
    return entry[1].tons_m if entry else 0


def _crusher_hours(session: Session, site_id: str, date_from: date, date_to: date) -> int:
    hours = type_coerce(EquipmentLog.hours, Integer)
    total = session.scalar(
        select(func.sum(hours * EquipmentLog.count))
        .join(Equipment, Equipment.id == EquipmentLog.equipment_id)
        .where(
            EquipmentLog.site_id == site_id,
            EquipmentLog.date >= date_from,
            EquipmentLog.date <= date_to,
            Equipment.type == EquipmentType.CRUSHING_SCREENING,
        )
    )
    return int(total or 0)


def _man_hours(session: Session, site_id: str, date_from: date, date_to: date) -> int:
    hours = type_coerce(ManpowerLog.hours, Integer)
    total = session.scalar(
        select(func.sum(hours * ManpowerLog.headcount)).where(
            ManpowerLog.site_id == site_id,
            ManpowerLog.date >= date_from,
            ManpowerLog.date <= date_to,
        )
    )
    return int(total or 0)


@dataclass(frozen=True)
class DailyTons:
    """Per day of ``days``: tons received, fed, produced, out (every fate) and sold (fate SALE),
    deemed included, and crusher and man-hours (hundredths) — the dashboard's series."""

    days: tuple[date, ...]
    received: tuple[int, ...]
    fed: tuple[int, ...]
    produced: tuple[int, ...]
    out: tuple[int, ...]
    sold: tuple[int, ...]
    crusher_hours_c: tuple[int, ...]
    man_hours_c: tuple[int, ...]


def daily_tons(session: Session, site_id: str, first: date, last: date) -> DailyTons:
    """The flows of a few days in tons, each record converted on its own date."""
    refs = load_reference_index(session)
    uom = {m.id: m.uom for m in refs.materials}
    factors = load_factor_table(session, site_id)
    days = tuple(first + timedelta(days=i) for i in range((last - first).days + 1))
    index = {d: i for i, d in enumerate(days)}

    def series(table: Any, *where: Any) -> tuple[int, ...]:
        out = [0] * len(days)
        quantity = type_coerce(table.quantity, BigInteger)
        rows = session.execute(
            select(table.date, table.material_id, quantity).where(
                table.site_id == site_id, table.date >= first, table.date <= last, *where
            )
        )
        for day, material_id, raw in rows:
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            tons = factors.tonnage(material_id, uom.get(material_id, ""), day, int(raw)).tons_m
            out[index[day]] += tons or 0
        return tuple(out)

    def hours(total: Any, table: Any, *joins_and_where: Any) -> tuple[int, ...]:
        out = [0] * len(days)
        query = select(table.date, func.sum(total)).where(
            table.site_id == site_id, table.date >= first, table.date <= last
        )
        for clause in joins_and_where:
            query = clause(query)
        for day, value in session.execute(query.group_by(table.date)):
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            out[index[day]] = int(value or 0)
        return tuple(out)

    crusher = hours(
        type_coerce(EquipmentLog.hours, Integer) * EquipmentLog.count,
        EquipmentLog,
        lambda q: q.join(Equipment, Equipment.id == EquipmentLog.equipment_id).where(
            Equipment.type == EquipmentType.CRUSHING_SCREENING
        ),
    )
    people = hours(type_coerce(ManpowerLog.hours, Integer) * ManpowerLog.headcount, ManpowerLog)
    return DailyTons(
        days=days,
        received=series(Received),
        fed=series(Feed),
        produced=series(Production),
        out=series(Dispatch),
        sold=series(Dispatch, Dispatch.fate == Fate.SALE),
        crusher_hours_c=crusher,
        man_hours_c=people,
    )


def period_before(date_from: date, date_to: date) -> tuple[date, date]:
    """The equally long period just before ``[date_from, date_to]`` (the dashboard's "vs")."""
    days = (date_to - date_from).days + 1
    return date_from - timedelta(days=days), date_from - timedelta(days=1)


def lines_total(lines: Iterable[TonsLine]) -> TonsTotal:
    out = TonsTotal()
    for line in lines:
        out = out.plus(line.tons)
    return out


# ------------------------------------------------------------------------- the statement
@dataclass(frozen=True, slots=True)
class StatementLine:
    """One line of the mass balance as the page, the CLI and every export print it.

    ``key`` is stable and machine-readable (``received.material.RAW-MIXED``, ``kpi.yield``) for
    Power BI measures. Tons lines carry ``tons_m``/``deemed_m``; material lines also their own
    ``quantity_m`` in ``uom``; indicator lines a ``figure`` in ``figure_unit`` (exactly the value
    the dashboard shows).
    """

    section: str
    key: str
    label: str
    tons_m: int | None = None
    deemed_m: int | None = None
    quantity_m: int | None = None
    uom: str = ""
    figure: Decimal | None = None
    figure_unit: str = ""
    total: bool = False


SECTIONS = (
    "Received",
    "Received by source",
    "Fed to the crushers",
    "Produced",
    "Out by fate",
    "Out by material",
    "Balance",
    "Indicators",
    "Incomplete",
)


def _tons_line(section: str, key: str, label: str, row: TonsLine) -> StatementLine:
    """A breakdown line of tons alone (by source, by fate): its rows mix units, so no quantity."""
    return StatementLine(section, key, label, row.tons.tons_m, row.tons.deemed_m)


def statement(mb: MassBalance) -> tuple[StatementLine, ...]:
    """The mass balance as lines, in reading order (see ``SECTIONS``)."""
    lines: list[StatementLine] = []

    def materials(section: str, prefix: str, rows: Sequence[TonsLine], total: TonsTotal) -> None:
        for row in rows:
            lines.append(
                StatementLine(
                    section,
                    f"{prefix}.material.{row.key}",
                    f"{row.key} – {row.label}",
                    row.tons.tons_m,
                    row.tons.deemed_m,
                    row.quantity_m,
                    row.uom,
                )
            )
        label = f"Total {prefix}"
        lines.append(
            StatementLine(
                section, f"{prefix}.total", label, total.tons_m, total.deemed_m, total=True
            )
        )

    materials("Received", "received", mb.received_by_material, mb.received)
    lines.extend(
        _tons_line("Received by source", f"received.source.{row.key}", row.label, row)
        for row in mb.received_by_source
    )
    materials("Fed to the crushers", "fed", mb.fed_by_material, mb.fed)
    materials("Produced", "produced", mb.produced_by_material, mb.produced)
    lines.extend(
        _tons_line("Out by fate", f"out.fate.{row.key}", FATE_NAMES[Fate(row.key)], row)
        for row in mb.out_by_fate
    )
    lines.append(
        StatementLine(
            "Out by fate", "out.total", "Total out", mb.out.tons_m, mb.out.deemed_m, total=True
        )
    )
    for row in mb.out_by_material:
        lines.append(
            StatementLine(
                "Out by material",
                f"out.material.{row.key}.{row.fate}",
                f"{row.key} – {row.label} ({FATE_NAMES[Fate(row.fate)]})",
                row.tons.tons_m,
                row.tons.deemed_m,
                row.quantity_m,
                row.uom,
            )
        )
    balance = (
        ("balance.stock_change", "Change in stock (closing − opening)", mb.stock_change_m),
        ("balance.process_loss", "Process loss (fed − produced)", mb.process_loss_m),
        ("balance.unexplained", "Unexplained difference", mb.unexplained_m),
        ("balance.adjustments", "Net stock adjustments", mb.adjustments.tons_m),
    )
    for key, label, tons in balance:
        lines.append(StatementLine("Balance", key, label, tons))
    crusher_hours = Decimal(mb.crusher_hours_c).scaleb(-2)
    man_hours = Decimal(mb.man_hours_c).scaleb(-2)
    indicators = (
        ("kpi.yield", "Yield (produced ÷ fed)", mb.yield_ratio, "t/t"),
        (
            "kpi.diversion",
            "Diversion rate (received − disposal) ÷ received",
            mb.diversion_percent,
            "%",
        ),
        ("kpi.tons_per_crusher_hour", "Produced per crusher hour", mb.tons_per_crusher_hour, "t/h"),
        ("kpi.tons_per_man_hour", "Produced per man-hour", mb.tons_per_man_hour, "t/man-h"),
        ("kpi.crusher_hours", "Crusher and screen operating hours", crusher_hours, "h"),
        ("kpi.man_hours", "Man-hours", man_hours, "h"),
    )
    for key, label, figure, unit in indicators:
        lines.append(StatementLine("Indicators", key, label, figure=figure, figure_unit=unit))
    for gap in mb.no_factor:
        lines.append(
            StatementLine(
                "Incomplete",
                f"no_factor.{gap.module.value}.{gap.material_code}",
                f"{gap.module.heading}: {gap.material_code} without a factor"
                f" ({gap.first_day} to {gap.last_day})",
                quantity_m=gap.loads_m,
                uom=Uom.LOAD,
                figure=Decimal(gap.records),
                figure_unit="records",
            )
        )
    return tuple(lines)
