"""The dashboard's figures as frozen values: KPI cards, chart series, "needs attention" items.

Plain values only (``Decimal``, ``date``, ``str``, tuples): no ORM objects, no Qt. Every
quantity carries its ``uom``; units are never added together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum

from deskops_desktop.models.enums import Level, Module, Shift, Uom
from deskops_desktop.services.reference import SiteInfo

SPARKLINE_DAYS = 7
DEFAULT_TOP_N = 10
# An equipment status older than this is not "current": a unit nobody has logged for three
# months is not shown as broken down today (and the query stays bounded on big stores).
STATUS_LOOKBACK_DAYS = 90
UNITS: tuple[str, ...] = (Uom.TON.value, Uom.LOAD.value)
PERCENT = Decimal("0.1")
HUNDRED = Decimal(100)
SHIFT_RANK = {"": 0, Shift.MORNING.value: 1, Shift.AFTERNOON.value: 2, Shift.NIGHT.value: 3}
SHIFT_ORDER = (Shift.MORNING.value, Shift.AFTERNOON.value, Shift.NIGHT.value, "")


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
    """One KPI card: ``key`` is production, received, sold, inventory, or one of the plant's
    ratios (yield, tons_per_crusher_hour, tons_per_man_hour); ``note`` is the line a card shows
    under its figure ("incl. 1,204.00 t deemed")."""

    key: str
    title: str
    figures: tuple[UnitFigure, ...]
    note: str = ""

    def figure(self, uom: str) -> UnitFigure | None:
        return next((f for f in self.figures if f.uom == uom), None)


@dataclass(frozen=True, slots=True)
class KpiSet:
    """The cards. Production is summed per unit over the period; received and sold are tons with
    the deemed tons of LOAD records included (the mass balance's figures; sold is fate SALE
    only, disposal is in its note); inventory is the TON (and, separately, LOAD) sum of each
    material's latest closing as of ``date_to`` — never a sum over history. ``plant`` holds the
    ratios: yield (t/t), tons per crusher hour, tons per man-hour."""

    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    sparkline_days: tuple[date, ...]
    production: Kpi
    received: Kpi
    sold: Kpi
    inventory: Kpi
    plant: tuple[Kpi, ...] = ()

    @property
    def cards(self) -> tuple[Kpi, ...]:
        return (self.production, self.received, self.sold, self.inventory)


@dataclass(frozen=True, slots=True)
class FlowSeries:
    """Received, dispatched and net (received - dispatched) per day, in one unit."""

    uom: str
    received: tuple[Decimal, ...]
    dispatched: tuple[Decimal, ...]
    net: tuple[Decimal, ...]


@dataclass(frozen=True, slots=True)
class ReceivedDispatched:
    """Chart 1: one ``FlowSeries`` per unit: TON always — tons received and dispatched (every
    fate) with the deemed tons of LOAD records included — and LOAD, the raw loads, when they
    moved in the range."""

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
    """Why an item is on the "needs attention" list (most urgent first)."""

    NEGATIVE_STOCK = "NEGATIVE_STOCK"
    LOW_STOCK = "LOW_STOCK"
    BREAKDOWN = "BREAKDOWN"
    MISSING_ENTRIES = "MISSING_ENTRIES"


@dataclass(frozen=True, slots=True)
class AttentionTarget:
    """Where the item's fix lives: the module whose page fixes it, plus what to select there, so
    clicking the item opens the right page already filtered."""

    page: Module
    material_code: str | None = None
    equipment_code: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class AttentionItem:
    """One line of the "needs attention" list and the page that fixes it."""

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
    # False for a site nobody has recorded anything at yet: the page shows how to begin.
    has_records: bool = True
