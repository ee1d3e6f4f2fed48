"""Dashboard figures: KPI cards, the six chart series and the "needs attention" list.

Invariants a newcomer must not break:

- Every public call is one read unit (one session) and returns frozen dataclasses of plain values
  (``Decimal``, ``date``, ``str``, tuples) — no ORM objects, no Qt. ``snapshot`` computes
  everything the page shows in one session, so the figures on the page are mutually consistent.
- Units are never added together. Raw C&D feed is counted in loads, products in tons; every
  quantity figure carries its ``uom`` and a card whose materials span units has one figure per
  unit (TON first, then LOAD).
- Stock and flows come from the maintained ``stock_days`` rows (see ``models.stock``), never from a
  recomputation over the raw records: the ledger writer keeps each row equal to that day's
  GROUP BY sums of the records, so reading ≤ 17 rows per day instead of every record keeps a
  refresh proportional to days x materials however big the store is. Equipment and manpower have
  no maintained rows; they are aggregated in SQL (GROUP BY) on the indexed ``(site_id, date)``.
- Quantities are exact ``Decimal`` values with the unit's stored precision (3 dp); hours 2 dp.
  Percentages (KPI change, utilisation shares) are ``Decimal`` rounded half-up to 1 dp: they are
  display values, and a ``Decimal`` keeps "+12.5 %" from printing as 12.499999.
- Cost: one ``snapshot`` is ~10 small queries. On the 1.1M-movement benchmark store (3 sites x
  3 years, plus 138k equipment/manpower logs) a 30-day snapshot takes ~4 ms on SQLite and ~7 ms
  on PostgreSQL, a 365-day one ~25-35 ms (2-core machine, warm cache).
- A "material with history" is one that has any stock row at the site on or before the end of the
  range. Only those appear in stock charts, top-N and LOW alerts: a product this site never
  makes sits at 0 (formally LOW) forever, and flagging it every morning would bury real alerts.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum

from sqlalchemy import Date, bindparam, select, text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

from deskops_desktop.models.display import summary
from deskops_desktop.models.enums import (
    SHIFT_HOURS,
    EquipmentStatus,
    Level,
    Module,
    Shift,
    Uom,
)
from deskops_desktop.models.ledger_math import level_of
from deskops_desktop.models.modules import ReferenceIndex, RefItem
from deskops_desktop.models.reference import ProductionTarget
from deskops_desktop.models.types import from_centi, from_milli, to_milli
from deskops_desktop.services.access import Actor, require_site
from deskops_desktop.services.ledger import check_range
from deskops_desktop.services.reference import SiteInfo, load_reference_index, load_site
from deskops_desktop.services.store import Store

SPARKLINE_DAYS = 7
DEFAULT_TOP_N = 10
# An equipment status older than this is not "current": a unit nobody has logged for three
# months is not shown as broken down today (and the query stays bounded on big stores).
STATUS_LOOKBACK_DAYS = 90
UNITS: tuple[str, ...] = (Uom.TON.value, Uom.LOAD.value)
_PERCENT = Decimal("0.1")
_HUNDRED = Decimal(100)
_SHIFT_RANK = {"": 0, Shift.MORNING.value: 1, Shift.AFTERNOON.value: 2, Shift.NIGHT.value: 3}
_SHIFT_ORDER = (Shift.MORNING.value, Shift.AFTERNOON.value, Shift.NIGHT.value, "")


# ------------------------------------------------------------------------------------ values
@dataclass(frozen=True, slots=True)
class UnitFigure:
    """One unit's figure on a KPI card.

    ``current`` is the selected period, ``previous`` the equally long period just before it (for
    inventory: the closing on the day before the period). ``change_pct`` is
    ``(current - previous) / |previous| * 100`` rounded half-up to 1 dp, so its sign is the
    direction of the change even when ``previous`` is negative; ``None`` when ``previous`` is 0
    (the card shows "—"). ``sparkline`` holds one value per day of ``KpiSet.sparkline_days``.
    """

    uom: str
    current: Decimal
    previous: Decimal
    change_pct: Decimal | None
    sparkline: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class Kpi:
    """One KPI card: ``key`` is production, received, dispatched or inventory."""

    key: str
    title: str
    figures: tuple[UnitFigure, ...]

    def figure(self, uom: str) -> UnitFigure | None:
        return next((f for f in self.figures if f.uom == uom), None)


@dataclass(frozen=True, slots=True)
class KpiSet:
    """The four cards. Flows are summed over the period; inventory is the TON (and, separately,
    LOAD) sum of each material's latest closing as of ``date_to`` — never a sum over history."""

    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    sparkline_days: tuple[date, ...]
    production: Kpi
    received: Kpi
    dispatched: Kpi
    inventory: Kpi

    @property
    def cards(self) -> tuple[Kpi, ...]:
        return (self.production, self.received, self.dispatched, self.inventory)


@dataclass(frozen=True, slots=True)
class FlowSeries:
    """Received, dispatched and net (received - dispatched) per day, in one unit."""

    uom: str
    received: tuple[Decimal, ...]
    dispatched: tuple[Decimal, ...]
    net: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class ReceivedDispatched:
    """Chart 1: one ``FlowSeries`` per unit (TON always, LOAD when it moved in the range)."""

    days: tuple[date, ...]
    units: tuple[FlowSeries, ...]

    def unit(self, uom: str) -> FlowSeries | None:
        return next((s for s in self.units if s.uom == uom), None)


@dataclass(frozen=True, slots=True)
class MaterialTargetSeries:
    """Production of one material that has its own target, with that target per day."""

    code: str
    name: str
    produced: tuple[Decimal, ...]
    target: tuple[Decimal | None, ...]


@dataclass(frozen=True, slots=True)
class ProductionVsTarget:
    """Chart 2: total TON production per day and the all-materials target valid that day.

    The target valid on a day is the one with the latest ``from_date`` on or before it (``None``
    before the first). Targets are in tons, so LOAD production never enters ``produced``.
    """

    days: tuple[date, ...]
    produced: tuple[Decimal, ...]
    target: tuple[Decimal | None, ...]
    by_material: tuple[MaterialTargetSeries, ...]


@dataclass(frozen=True, slots=True)
class MaterialSeries:
    """Daily closing of one material with its own thresholds (the chart's bands)."""

    code: str
    name: str
    category: str
    uom: str
    low: Decimal
    high: Decimal
    closing: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class InventoryOverTime:
    """Chart 3: closing per day for every material with history, in display order."""

    days: tuple[date, ...]
    materials: tuple[MaterialSeries, ...]


@dataclass(frozen=True, slots=True)
class MaterialLevel:
    """Chart 4 bar: a material's latest closing as of ``as_of`` and its level."""

    code: str
    name: str
    category: str
    uom: str
    closing: Decimal
    low: Decimal
    high: Decimal
    level: Level


@dataclass(frozen=True, slots=True)
class EquipmentUtilisation:
    """Chart 5 bar: one equipment unit over the range.

    Per log, available = max(hours, 8 h) x count (8 h per shift; overtime on a log makes that
    log fully used instead of going negative) and operating = hours x count (hours are per unit
    and shift). ``idle`` = available - operating, never negative. Shares are percent of
    available, 1 dp, and add up to exactly 100; ``None`` when nothing was available (count 0).
    """

    code: str
    name: str
    type: str
    operating_hours: Decimal
    available_hours: Decimal
    idle_hours: Decimal
    operating_share: Decimal | None
    idle_share: Decimal | None
    logs: int


@dataclass(frozen=True, slots=True)
class ManpowerShiftSeries:
    """One stack layer of chart 6: a shift's headcount per role (aligned with ``roles``).

    ``headcount`` is summed over the range (man-shifts); ``average`` divides it by the days the
    site logged any manpower (1 dp), which is what "how many people do we have" means.
    """

    shift: str
    headcount: tuple[int, ...]
    average: tuple[Decimal, ...]
    man_hours: tuple[Decimal, ...]

    @property
    def label(self) -> str:
        return self.shift.title() if self.shift else "No shift"


@dataclass(frozen=True, slots=True)
class ManpowerByRoleShift:
    """Chart 6: roles on the axis (display order), one stacked series per shift present."""

    roles: tuple[str, ...]
    role_names: tuple[str, ...]
    shifts: tuple[ManpowerShiftSeries, ...]
    days_logged: int


class AttentionKind(StrEnum):
    NEGATIVE_STOCK = "NEGATIVE_STOCK"
    LOW_STOCK = "LOW_STOCK"
    BREAKDOWN = "BREAKDOWN"
    MISSING_ENTRIES = "MISSING_ENTRIES"


PAGE_INVENTORY = "inventory"
PAGE_PRODUCTION = Module.PRODUCTION.value
PAGE_EQUIPMENT = Module.EQUIPMENT.value


@dataclass(frozen=True, slots=True)
class AttentionTarget:
    """Where the item's fix lives: a page name (``inventory`` or a ``Module`` value) plus what to
    select there, so clicking the item opens the right page already filtered."""

    page: str
    material_code: str | None = None
    equipment_code: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class AttentionItem:
    kind: AttentionKind
    message: str
    target: AttentionTarget


@dataclass(frozen=True, slots=True)
class DashboardSnapshot:
    """Everything the dashboard page shows, read in one unit of work."""

    site: SiteInfo
    date_from: date
    date_to: date
    today: date
    kpis: KpiSet
    received_dispatched: ReceivedDispatched
    production: ProductionVsTarget
    inventory: InventoryOverTime
    top_levels: tuple[MaterialLevel, ...]
    utilisation: tuple[EquipmentUtilisation, ...]
    manpower: ManpowerByRoleShift
    attention: tuple[AttentionItem, ...]


# ------------------------------------------------------------------------------- pure maths
def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """Signed change in percent, 1 dp half-up; ``None`` when there is nothing to compare to."""
    if previous == 0:
        return None
    return ((current - previous) * _HUNDRED / abs(previous)).quantize(_PERCENT, ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal:
    """``part`` as percent of ``whole`` (> 0), 1 dp half-up."""
    return (Decimal(part) * _HUNDRED / Decimal(whole)).quantize(_PERCENT, ROUND_HALF_UP)


def target_on(targets: Sequence[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The target valid on ``day``: latest ``from_date`` ≤ day. ``targets`` sorted by date."""
    index = bisect.bisect_right([t[0] for t in targets], day)
    return targets[index - 1][1] if index else None


def _days(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _sql(statement: str, *date_params: str) -> TextClause:
    """SQL text whose named date parameters bind as dates (ISO text on SQLite, so the
    ``(site_id, date)`` index is used and no deprecated sqlite3 adapter is involved)."""
    return text(statement).bindparams(*(bindparam(p, type_=Date) for p in date_params))


# ---------------------------------------------------------------------------- stock window
_STOCK_ROWS = _sql(
    "SELECT material_id, day, produced, received, dispatched, closing FROM stock_days"
    " WHERE site_id = :s AND material_id IN :m AND day >= :a AND day <= :b",
    "a",
    "b",
).bindparams(bindparam("m", expanding=True))
# One round trip; each subquery is a primary-key seek (site_id, material_id, day).
_OPENINGS = _sql(
    "SELECT m.id, (SELECT sd.closing FROM stock_days sd WHERE sd.site_id = :s"
    " AND sd.material_id = m.id AND sd.day < :a ORDER BY sd.day DESC LIMIT 1) FROM materials m",
    "a",
)
_FLOWS = ("produced", "received", "dispatched")
_PREVIOUS_FLOWS = _sql(
    "SELECT m.uom, SUM(sd.produced), SUM(sd.received), SUM(sd.dispatched) FROM stock_days sd"
    " JOIN materials m ON m.id = sd.material_id"
    " WHERE sd.site_id = :s AND sd.material_id IN :m AND sd.day >= :a AND sd.day <= :b"
    " GROUP BY m.uom",
    "a",
    "b",
).bindparams(bindparam("m", expanding=True))
_RECORD_TABLES = (
    "equipment_logs",
    "manpower_logs",
    "production",
    "dispatches",
    "received",
    "inventory_adjustments",
)


class _StockWindow:
    """Dense daily stock of one site over ``[start, end]`` (thousandths), built from
    ``stock_days`` rows plus each material's closing before ``start``."""

    def __init__(
        self, session: Session, site_id: str, refs: ReferenceIndex, start: date, end: date
    ):
        self.start = start
        self.days = _days(start, end)
        index: dict[object, int] = {d: i for i, d in enumerate(self.days)}
        index.update({d.isoformat(): i for i, d in enumerate(self.days)})
        openings: dict[str, int | None] = {
            m: (None if c is None else int(c))
            for m, c in session.execute(_OPENINGS, {"s": site_id, "a": start})
        }
        mids = [m.id for m in refs.materials]
        rows = session.execute(_STOCK_ROWS, {"s": site_id, "m": mids, "a": start, "b": end}).all()
        # Stock rows exist only on days with movement, so the work is O(rows) plus C-level
        # slice fills for the days in between (a 2-year window is ~12,000 cells).
        cells: dict[str, list[tuple[int, int, int, int, int]]] = {}
        for material_id, day, p, r, d, c in rows:
            cells.setdefault(material_id, []).append((index[day], p, r, d, c))
        # Days with any production, receipt, dispatch or adjustment at the site.
        self.moved_days = {self.days[index[row[1]]] for row in rows}
        self.materials: tuple[RefItem, ...] = tuple(
            m for m in refs.materials if openings.get(m.id) is not None or m.id in cells
        )
        n = len(self.days)
        self.closing: dict[str, list[int]] = {}
        self.produced: dict[str, list[int]] = {}
        # flows[uom][flow] -> per-day sums; every unit present so callers need no checks.
        self.flows: dict[str, dict[str, list[int]]] = {
            u: {f: [0] * n for f in _FLOWS} for u in UNITS
        }
        for m in self.materials:
            sums = self.flows.setdefault(m.uom, {f: [0] * n for f in _FLOWS})
            made, came, went = sums["produced"], sums["received"], sums["dispatched"]
            closing = [openings.get(m.id) or 0] * n
            produced = [0] * n
            mine = sorted(cells.get(m.id, ()))
            for k, (i, p, r, d, c) in enumerate(mine):
                upto = mine[k + 1][0] if k + 1 < len(mine) else n
                closing[i:upto] = [c] * (upto - i)
                produced[i] = p
                made[i] += p
                came[i] += r
                went[i] += d
            self.closing[m.id] = closing
            self.produced[m.id] = produced
        self.before = {m.id: openings.get(m.id) or 0 for m in self.materials}

    def offset(self, day: date) -> int:
        return (day - self.start).days

    def flow_total(self, uom: str, flow: str, first: date, last: date) -> int:
        return sum(self.flows[uom][flow][self.offset(first) : self.offset(last) + 1])

    def flow_days(self, uom: str, flow: str, first: date, last: date) -> list[int]:
        return self.flows[uom][flow][self.offset(first) : self.offset(last) + 1]

    def closing_on(self, material_id: str, day: date) -> int:
        """Closing on ``day``; the day before the window is known too (the opening)."""
        i = self.offset(day)
        if i == -1:
            return self.before[material_id]
        if i < 0:
            raise ValueError(f"{day} is before the stock window")
        return self.closing[material_id][i]

    def unit_closing(self, uom: str, day: date) -> int:
        return sum(self.closing_on(m.id, day) for m in self.materials if m.uom == uom)

    def materials_of(self, uom: str) -> list[RefItem]:
        return [m for m in self.materials if m.uom == uom]


# -------------------------------------------------------------------------------- the service
class DashboardService:
    """Read-only figures for the dashboard page; Qt-free, safe to call from a worker thread."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._now = store.clock.now

    # ----- everything at once
    def snapshot(
        self,
        actor: Actor,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        top_n: int = DEFAULT_TOP_N,
    ) -> DashboardSnapshot:
        """All cards, charts and alerts of one site and period, from one consistent read."""
        require_site(actor, site_id)
        check_range(date_from, date_to)
        with self._store.read() as session:
            q = _Query(session, site_id, date_from, date_to, self._now())
            stock = q.stock(_kpi_window_start(date_from, date_to))
            return DashboardSnapshot(
                site=q.site,
                date_from=date_from,
                date_to=date_to,
                today=q.today,
                kpis=q.kpis(stock),
                received_dispatched=q.received_dispatched(stock),
                production=q.production_vs_target(stock),
                inventory=q.inventory_over_time(stock),
                top_levels=q.top_levels(stock, date_to, top_n, Uom.TON.value),
                utilisation=q.utilisation(),
                manpower=q.manpower(),
                attention=q.attention(stock),
            )

    # ----- the smaller calls (each one read unit), for pages that need only one figure
    def kpis(self, actor: Actor, site_id: str, date_from: date, date_to: date) -> KpiSet:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.kpis(q.stock(_kpi_window_start(date_from, date_to)))

    def received_vs_dispatched(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> ReceivedDispatched:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.received_dispatched(q.stock(date_from))

    def production_vs_target(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> ProductionVsTarget:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.production_vs_target(q.stock(date_from))

    def inventory_over_time(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> InventoryOverTime:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.inventory_over_time(q.stock(date_from))

    def top_levels(
        self,
        actor: Actor,
        site_id: str,
        as_of: date,
        n: int = DEFAULT_TOP_N,
        uom: str | None = Uom.TON.value,
    ) -> tuple[MaterialLevel, ...]:
        """The ``n`` highest latest closings as of ``as_of``, highest first.

        Defaults to TON materials because the bars share one axis; ``uom=None`` ranks every unit
        (only the level colours are then comparable).
        """
        with self._query(actor, site_id, as_of, as_of) as q:
            return q.top_levels(q.stock(as_of), as_of, n, uom)

    def utilisation(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> tuple[EquipmentUtilisation, ...]:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.utilisation()

    def manpower(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> ManpowerByRoleShift:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.manpower()

    def attention(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> tuple[AttentionItem, ...]:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.attention(q.stock(date_from))

    @contextmanager
    def _query(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> Iterator[_Query]:
        require_site(actor, site_id)
        check_range(date_from, date_to)
        with self._store.read() as session:
            yield _Query(session, site_id, date_from, date_to, self._now())


def _kpi_window_start(date_from: date, date_to: date) -> date:
    """The stock window the cards need: the period plus the sparkline's 7 days. The previous
    period is summed in SQL instead (``_PREVIOUS_FLOWS``), which halves the rows read."""
    return min(date_from, date_to - timedelta(days=SPARKLINE_DAYS - 1))


class _Query:
    """The computations, over one open session. Each method reads only what it needs."""

    def __init__(
        self, session: Session, site_id: str, date_from: date, date_to: date, now: datetime
    ):
        self.session = session
        self.site_id = site_id
        self.date_from = date_from
        self.date_to = date_to
        self.site = load_site(session, site_id)
        self.today = self.site.today(now)
        self.refs = load_reference_index(session)
        self.days = _days(date_from, date_to)

    def stock(self, start: date) -> _StockWindow:
        return _StockWindow(
            self.session, self.site_id, self.refs, min(start, self.date_from), self.date_to
        )

    # ----- KPI cards
    def kpis(self, stock: _StockWindow) -> KpiSet:
        length = len(self.days)
        prev_to = self.date_from - timedelta(days=1)
        prev_from = self.date_from - timedelta(days=length)
        spark = _days(self.date_to - timedelta(days=SPARKLINE_DAYS - 1), self.date_to)

        before: dict[str, tuple[int, int, int]] = {
            uom: (int(p or 0), int(r or 0), int(d or 0))
            for uom, p, r, d in self.session.execute(
                _PREVIOUS_FLOWS,
                {
                    "s": self.site_id,
                    "m": [m.id for m in self.refs.materials],
                    "a": prev_from,
                    "b": prev_to,
                },
            ).all()
        }

        def flow_kpi(key: str, title: str, flow: str) -> Kpi:
            figures = []
            for uom in UNITS:
                current = stock.flow_total(uom, flow, self.date_from, self.date_to)
                previous = before.get(uom, (0, 0, 0))[_FLOWS.index(flow)]
                line = stock.flow_days(uom, flow, spark[0], spark[-1])
                if uom != Uom.TON and not (current or previous or any(line)):
                    continue
                figures.append(_figure(uom, current, previous, line))
            return Kpi(key, title, tuple(figures))

        inventory = []
        for uom in UNITS:
            if uom != Uom.TON and not stock.materials_of(uom):
                continue
            inventory.append(
                _figure(
                    uom,
                    stock.unit_closing(uom, self.date_to),
                    stock.unit_closing(uom, prev_to),
                    [stock.unit_closing(uom, d) for d in spark],
                )
            )
        return KpiSet(
            self.date_from,
            self.date_to,
            prev_from,
            prev_to,
            spark,
            flow_kpi("production", "Production", "produced"),
            flow_kpi("received", "Received", "received"),
            flow_kpi("dispatched", "Dispatched", "dispatched"),
            Kpi("inventory", "Current inventory", tuple(inventory)),
        )

    # ----- charts
    def received_dispatched(self, stock: _StockWindow) -> ReceivedDispatched:
        units = []
        for uom in UNITS:
            received = stock.flow_days(uom, "received", self.date_from, self.date_to)
            dispatched = stock.flow_days(uom, "dispatched", self.date_from, self.date_to)
            if uom != Uom.TON and not (any(received) or any(dispatched)):
                continue
            units.append(
                FlowSeries(
                    uom,
                    _decimals(received),
                    _decimals(dispatched),
                    _decimals(r - d for r, d in zip(received, dispatched, strict=True)),
                )
            )
        return ReceivedDispatched(self.days, tuple(units))

    def production_vs_target(self, stock: _StockWindow) -> ProductionVsTarget:
        rows = self.session.execute(
            select(
                ProductionTarget.material_id,
                ProductionTarget.from_date,
                ProductionTarget.daily_tons,
            )
            .where(
                ProductionTarget.site_id == self.site_id, ProductionTarget.from_date <= self.date_to
            )
            .order_by(ProductionTarget.from_date, ProductionTarget.created_at, ProductionTarget.id)
        )
        targets: dict[str | None, list[tuple[date, Decimal]]] = {}
        for material_id, from_date, tons in rows:
            targets.setdefault(material_id, []).append((from_date, tons))
        overall = targets.pop(None, [])
        total = stock.flow_days(Uom.TON.value, "produced", self.date_from, self.date_to)
        by_material = []
        for m in self.refs.materials:
            if m.id not in targets:
                continue
            if m.id in stock.produced:
                first, last = stock.offset(self.date_from), stock.offset(self.date_to)
                produced = _decimals(stock.produced[m.id][first : last + 1])
            else:
                produced = _decimals([0] * len(self.days))
            by_material.append(
                MaterialTargetSeries(
                    m.code, m.name, produced, tuple(target_on(targets[m.id], d) for d in self.days)
                )
            )
        return ProductionVsTarget(
            self.days,
            _decimals(total),
            tuple(target_on(overall, d) for d in self.days),
            tuple(by_material),
        )

    def inventory_over_time(self, stock: _StockWindow) -> InventoryOverTime:
        first, last = stock.offset(self.date_from), stock.offset(self.date_to)
        return InventoryOverTime(
            self.days,
            tuple(
                MaterialSeries(
                    m.code,
                    m.name,
                    m.category,
                    m.uom,
                    m.low_threshold,
                    m.high_threshold,
                    _decimals(stock.closing[m.id][first : last + 1]),
                )
                for m in stock.materials
            ),
        )

    def top_levels(
        self, stock: _StockWindow, as_of: date, n: int, uom: str | None
    ) -> tuple[MaterialLevel, ...]:
        levels = [
            _level(m, stock.closing_on(m.id, as_of))
            for m in stock.materials
            if uom is None or m.uom == uom
        ]
        # Stable sort: equal closings keep the display order.
        levels.sort(key=lambda lv: lv.closing, reverse=True)
        return tuple(levels[: max(n, 0)])

    def utilisation(self) -> tuple[EquipmentUtilisation, ...]:
        shift_centi = SHIFT_HOURS * 100
        result = self.session.execute(
            _sql(
                "SELECT equipment_id, SUM(hours * count),"
                f" SUM(CASE WHEN hours > {shift_centi} THEN hours ELSE {shift_centi} END * count),"
                " COUNT(*) FROM equipment_logs WHERE site_id = :s AND date >= :a AND date <= :b"
                " GROUP BY equipment_id",
                "a",
                "b",
            ),
            {"s": self.site_id, "a": self.date_from, "b": self.date_to},
        )
        sums = {e: (int(op or 0), int(av or 0), int(n)) for e, op, av, n in result}
        out = []
        for item in self.refs.equipment:
            if item.id not in sums:
                continue
            operating, available, logs = sums[item.id]
            idle = max(available - operating, 0)
            op_share = idle_share = None
            if available > 0:
                op_share = share(min(operating, available), available)
                idle_share = _HUNDRED - op_share
            out.append(
                EquipmentUtilisation(
                    item.code,
                    item.name,
                    item.category,
                    from_centi(operating),
                    from_centi(available),
                    from_centi(idle),
                    op_share,
                    idle_share,
                    logs,
                )
            )
        return tuple(out)

    def manpower(self) -> ManpowerByRoleShift:
        params = {"s": self.site_id, "a": self.date_from, "b": self.date_to}
        where = "WHERE site_id = :s AND date >= :a AND date <= :b"
        cells: dict[tuple[str, str], tuple[int, int]] = {}
        for role_id, shift, heads, centi in self.session.execute(
            _sql(
                f"SELECT role_id, shift, SUM(headcount), SUM(headcount * hours) FROM manpower_logs"
                f" {where} GROUP BY role_id, shift",
                "a",
                "b",
            ),
            params,
        ):
            cells[(role_id, shift or "")] = (int(heads or 0), int(centi or 0))
        days_logged = int(
            self.session.execute(
                _sql(f"SELECT COUNT(DISTINCT date) FROM manpower_logs {where}", "a", "b"), params
            ).scalar()
            or 0
        )
        roles = [r for r in self.refs.roles if any(k[0] == r.id for k in cells)]
        present = {k[1] for k in cells}
        layers = []
        for shift in _SHIFT_ORDER:
            if shift not in present:
                continue
            heads = tuple(cells.get((r.id, shift), (0, 0))[0] for r in roles)
            layers.append(
                ManpowerShiftSeries(
                    shift,
                    heads,
                    tuple(_average(h, days_logged) for h in heads),
                    tuple(from_centi(cells.get((r.id, shift), (0, 0))[1]) for r in roles),
                )
            )
        return ManpowerByRoleShift(
            tuple(r.code for r in roles), tuple(r.name for r in roles), tuple(layers), days_logged
        )

    # ----- needs attention
    def attention(self, stock: _StockWindow) -> tuple[AttentionItem, ...]:
        negative: list[AttentionItem] = []
        low: list[AttentionItem] = []
        first, last = stock.offset(self.date_from), stock.offset(self.date_to)
        for m in stock.materials:
            series = stock.closing[m.id]
            latest = series[last]
            shown = from_milli(latest)
            where = AttentionTarget(PAGE_INVENTORY, material_code=m.code, day=self.date_to)
            if latest < 0:
                negative.append(
                    AttentionItem(
                        AttentionKind.NEGATIVE_STOCK,
                        f"{m.code} {m.name}: stock is negative ({summary(shown, m.uom, unit=True)}"
                        f" on {self.date_to.isoformat()}) — an entry is missing or was late",
                        where,
                    )
                )
                continue
            dipped = next((i for i in range(first, last + 1) if series[i] < 0), None)
            if dipped is not None:
                day = stock.days[dipped]
                negative.append(
                    AttentionItem(
                        AttentionKind.NEGATIVE_STOCK,
                        f"{m.code} {m.name}: stock was negative on {day.isoformat()}"
                        f" ({summary(from_milli(series[dipped]), m.uom, unit=True)})",
                        AttentionTarget(PAGE_INVENTORY, material_code=m.code, day=day),
                    )
                )
            if latest < to_milli(m.low_threshold):
                low.append(
                    AttentionItem(
                        AttentionKind.LOW_STOCK,
                        f"{m.code} {m.name} is LOW: {summary(shown, m.uom, unit=True)}"
                        f" (below {summary(m.low_threshold, m.uom, unit=True)})",
                        where,
                    )
                )
        return (*negative, *low, *self._breakdowns(), *self._missing_days(stock))

    def _breakdowns(self) -> list[AttentionItem]:
        """Equipment whose latest status (blank statuses skipped) is BREAKDOWN, with the day the
        current streak began. SQL finds each unit's latest status day; the full history is
        read only for the (rare) broken-down units."""
        params = {
            "s": self.site_id,
            "a": self.date_to - timedelta(days=STATUS_LOOKBACK_DAYS),
            "b": self.date_to,
        }
        where = "site_id = :s AND status <> '' AND date >= :a AND date <= :b"
        latest = self.session.execute(
            _sql(
                f"SELECT MIN(d) FROM (SELECT MAX(date) AS d FROM equipment_logs WHERE {where}"
                " GROUP BY equipment_id) latest",
                "a",
                "b",
            ),
            params,
        ).scalar()
        if latest is None:
            return []
        recent = self.session.execute(
            _sql(
                f"SELECT equipment_id, date, shift, status FROM equipment_logs WHERE {where}",
                "a",
                "b",
            ),
            {**params, "a": _as_date(latest)},
        ).all()
        newest: dict[str, tuple[date, int, str]] = {}
        for equipment_id, day, shift, status in recent:
            key = (_as_date(day), _SHIFT_RANK.get(shift or "", 0), status)
            if equipment_id not in newest or key > newest[equipment_id]:
                newest[equipment_id] = key
        items = []
        for item in self.refs.equipment:
            last = newest.get(item.id)
            if last is None or last[2] != EquipmentStatus.BREAKDOWN:
                continue
            history = sorted(
                (
                    (_as_date(day), _SHIFT_RANK.get(shift or "", 0), status)
                    for day, shift, status in self.session.execute(
                        _sql(
                            f"SELECT date, shift, status FROM equipment_logs WHERE {where}"
                            " AND equipment_id = :e",
                            "a",
                            "b",
                        ),
                        {**params, "e": item.id},
                    ).all()
                ),
                reverse=True,
            )
            since = last[0]
            for day, _rank, status in history:
                if status != EquipmentStatus.BREAKDOWN:
                    break
                since = day
            items.append(
                AttentionItem(
                    AttentionKind.BREAKDOWN,
                    f"{item.code} {item.name} is in BREAKDOWN (since {since.isoformat()})",
                    AttentionTarget(PAGE_EQUIPMENT, equipment_code=item.code, day=last[0]),
                )
            )
        return items

    def _missing_days(self, stock: _StockWindow) -> list[AttentionItem]:
        """Runs of days up to today with no record of any module at the site.

        Days with a stock row have entries; only the rest are looked up in the six record
        tables (equipment and manpower have no maintained rows, and a day whose adjustments
        cancel out has records but no stock row) — usually a handful of days, not the range.
        """
        last = min(self.date_to, self.today)
        if last < self.date_from:
            return []
        candidates = [d for d in _days(self.date_from, last) if d not in stock.moved_days]
        seen: set[date] = set()
        if candidates:
            # Index seeks on (site_id, date) for exactly the candidate days, not a range scan.
            branches = " UNION ".join(
                f"SELECT date FROM {table} WHERE site_id = :s AND date IN :days"
                for table in _RECORD_TABLES
            )
            statement = text(branches).bindparams(bindparam("days", type_=Date, expanding=True))
            seen = {
                _as_date(d)
                for (d,) in self.session.execute(
                    statement, {"s": self.site_id, "days": candidates}
                ).all()
            }
        runs: list[tuple[date, date]] = []
        for day in candidates:
            if day in seen:
                continue
            if runs and runs[-1][1] == day - timedelta(days=1):
                runs[-1] = (runs[-1][0], day)
            else:
                runs.append((day, day))
        items = []
        for start, end in reversed(runs):  # most recent first: that is what a clerk fixes now
            if start == end:
                message = f"No entries for {start.isoformat()}"
            else:
                count = (end - start).days + 1
                message = f"No entries from {start.isoformat()} to {end.isoformat()} ({count} days)"
            items.append(
                AttentionItem(
                    AttentionKind.MISSING_ENTRIES,
                    message,
                    AttentionTarget(PAGE_PRODUCTION, day=start),
                )
            )
        return items


def _figure(uom: str, current: int, previous: int, line: Iterable[int]) -> UnitFigure:
    cur, prev = from_milli(current), from_milli(previous)
    return UnitFigure(uom, cur, prev, percent_change(cur, prev), _decimals(line))


def _decimals(values: Iterable[int]) -> tuple[Decimal, ...]:
    return tuple(from_milli(v) for v in values)


def _average(total: int, days: int) -> Decimal:
    if days <= 0:
        return Decimal("0.0")
    return (Decimal(total) / Decimal(days)).quantize(_PERCENT, ROUND_HALF_UP)


def _level(m: RefItem, closing: int) -> MaterialLevel:
    return MaterialLevel(
        m.code,
        m.name,
        m.category,
        m.uom,
        from_milli(closing),
        m.low_threshold,
        m.high_threshold,
        level_of(closing, to_milli(m.low_threshold), to_milli(m.high_threshold)),
    )
