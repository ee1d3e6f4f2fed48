"""A believable demo plant: sites, a year of daily records, targets and two demo users.

Why it looks the way it does (so the pages have something to show):

- Production runs in *campaigns*: a product is crushed until its stock passes a per-product
  ceiling (650-1,150 t), then the screens switch to other sizes until it falls under a floor
  (80-260 t). Dispatches never take more than is in stock. Closings therefore swing across the
  100 / 500 thresholds (red, yellow and green all appear) but stay positive.
- Demand is seasonal: summer months and a Ramadan-like month are slower, Friday is quiet (no
  production; a few dispatches; security and the generator still log, so Fridays are not
  "missing"), Saturday is a little slower.
- Raw C&D debris arrives in loads from named sources and is fed to the crushers as Feed records
  (in loads, on CRUSHER-01/02): each day's feed is that day's production divided by a yield drawn
  between 0.88 and 0.94 t/t, converted to loads with the factor valid that day, so the mass
  balance has a believable process loss. About a fifth of the mixed debris is sorted out as
  rejects and leaves as DISPOSAL dispatches to the landfill; receipts follow the crushers' appetite
  (an average of recent feed), so raw piles neither run dry nor grow without bound.
- Conversion factors (tons per load) are set company-wide from the first day — concrete 16.5,
  mixed 12, asphalt 14 — with a re-survey of concrete to 17.2 half-way, and on a second site its
  own mixed-debris factor (11.5): a mid-period change and a site override to look at. Factors an
  admin already set are kept.
- Most product dispatches are sales; a few are used on site (recycled base for haul roads) and,
  with several sites, transferred to another site.
- Equipment logs have hours per unit and shift, occasional BREAKDOWN streaks that cut production,
  fortnightly MAINTENANCE shifts and some IDLE shifts. On the first site CRUSHER-02 is broken down
  on the last two days, and the last generated site has no entries yet on its last day, so the
  dashboard's "needs attention" list is never empty on a fresh demo.
- Each site starts with OPENING_BALANCE adjustments and has a STOCK_COUNT every quarter.

Invariants: every record goes through ``RecordService.create_many`` with the SYSTEM actor, so the
validation rules, the change log and the maintained ledger are exactly those of a clerk's entry.
The same ``seed`` (and the same store contents and clock) gives the same records and quantities
— each site draws from its own ``random.Random`` seeded with ``seed`` and the site code; only the
generated ids differ. Records are written per site, month and module (one transaction each),
month by month, so the ledger writer only ever appends at the tail of each material's history.

Demo users (created only when the user name is free): ``demo.operator`` (OPERATOR, first site) and
``demo.moderator`` (MODERATOR, every demo site), both with the password ``DEMO_PASSWORD``
(``"demo-pass-123"``). They exist to try the role limits, never for real use.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from deskops_desktop.models import reference_data as ref
from deskops_desktop.models.conversion import FactorTable
from deskops_desktop.models.enums import (
    RECORD_MODULES,
    AdjustmentReason,
    EquipmentStatus,
    Fate,
    Module,
    Operation,
    Role,
    Shift,
)
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.progress import NullProgress, Progress
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.reference import SiteInfo

DEMO_PASSWORD = "demo-pass-123"
DEMO_USERS: tuple[tuple[str, Role, str], ...] = (
    ("demo.operator", Role.OPERATOR, "Demo Site Clerk"),
    ("demo.moderator", Role.MODERATOR, "Demo Site Supervisor"),
)
MAX_DAYS = 3660


@dataclass(frozen=True)
class DemoSite:
    """A site the demo generator creates (code, name, place, time zone)."""

    code: str
    name: str
    location: str
    timezone: str


# Generated sites after ALASLA-29; numbered by position so codes stay unique when cycling.
_SITE_POOL: tuple[tuple[str, str, str, str], ...] = (
    ("JED", "Jeddah South Recycling Yard", "Jeddah", "Asia/Riyadh"),
    ("DXB", "Al Lisaili C&D Recycling Plant", "Dubai", "Asia/Dubai"),
    ("DMM", "Dammam 2nd Industrial City Yard", "Dammam", "Asia/Riyadh"),
    ("DOH", "Mesaieed Recycling Facility", "Doha", "Asia/Qatar"),
    ("KWI", "Sulaibiya C&D Recycling Yard", "Kuwait City", "Asia/Kuwait"),
    ("MCT", "Al Misfah Recycling Plant", "Muscat", "Asia/Muscat"),
    ("BAH", "Hafeera Recycling Yard", "Manama", "Asia/Bahrain"),
    ("RUH", "Riyadh East C&D Plant", "Riyadh", "Asia/Riyadh"),
)

_CUSTOMERS: tuple[tuple[str, int], ...] = (
    ("Red Sea Contracting Co.", 8),
    ("Al Rashid Trading & Contracting", 6),
    ("Nesma & Partners", 5),
    ("Saudi Road Works Est.", 5),
    ("Municipality Roads Dept.", 4),
    ("Gulf Precast Concrete", 3),
    ("Al Fouzan Building Materials", 3),
    ("Walk-in customer", 2),
)
_SOURCES: tuple[str, ...] = (
    "Municipality demolition program",
    "Al Balad redevelopment site",
    "King Road tower demolition",
    "Airport expansion project",
    "Private villa demolition",
    "Road resurfacing (milled asphalt)",
)
_PLATE_LETTERS = "ABDEGHJKLNRSTUVXZ"

# Operation a product is usually recorded under.
_OPERATIONS: dict[str, str] = {
    "AGG-FILLING": Operation.SEG_OP,
    "AGG-RIPRAP": Operation.SEG_OP,
    "FINE-NATURAL": Operation.SEG_OP,
    "SPEC-BEDDING": Operation.SEG_OP,
    "BASE-CRUSHED": Operation.CRU_OP,
    "BASE-RECYCLED": Operation.CRU_OP,
}
_ALWAYS_MADE = ("AGG-G1", "AGG-3/4", "BASE-RECYCLED", "FINE-WASHED")
# Share of the crushers' feed (in tons) taken from each raw pile, and the demo's factors.
_FEED_SHARE = {"RAW-CONCRETE": 0.6, "RAW-MIXED": 0.28, "RAW-ASPHALT": 0.12}
_FACTORS = {"RAW-CONCRETE": Decimal("16.5"), "RAW-MIXED": Decimal("12"), "RAW-ASPHALT": Decimal(14)}
_FACTOR_RESURVEY = ("RAW-CONCRETE", Decimal("17.2"))
_SITE_FACTOR = ("RAW-MIXED", Decimal("11.5"))  # the second site's own factor
_REJECT_SHARE = {"RAW-MIXED": 0.2}  # of what is received, sorted out for the landfill
_FEED_CRUSHER = {
    "RAW-CONCRETE": "CRUSHER-01",
    "RAW-MIXED": "CRUSHER-01",
    "RAW-ASPHALT": "CRUSHER-02",
}
_YIELD = (0.88, 0.94)
_UNITS_PER_LOG = {"DUMPTRUCK-01": 3, "DUMPTRUCK-02": 2}
_CREW: dict[str, tuple[int, int]] = {
    "EQUIPMENT_DRIVER": (6, 9),
    "CRUSHER_OPERATOR": (2, 4),
    "MAINTENANCE_WORKER": (1, 3),
    "LABORER": (8, 14),
    "SECURITY": (2, 3),
}
_SUMMER_FACTOR = {6: 0.75, 7: 0.68, 8: 0.72, 9: 0.88, 12: 1.08, 1: 1.1, 2: 1.1, 3: 1.05}
_FRIDAY, _SATURDAY = 4, 5
# Ramadan moves ~11 days earlier each year; an anchor plus the mean lunar year is close
# enough for a demo dip (it is not a calendar).
_RAMADAN_ANCHOR = date(2025, 3, 1)
_LUNAR_YEAR = 354.367
_MODULE_ORDER = (
    Module.ADJUSTMENTS,
    Module.PRODUCTION,
    Module.RECEIVED,
    Module.FEED,
    Module.DISPATCH,
    Module.EQUIPMENT,
    Module.MANPOWER,
)


@dataclass(frozen=True)
class DemoSummary:
    """What ``generate_demo`` added. ``elapsed_seconds`` is left out of equality so two runs
    with the same seed compare equal."""

    sites: tuple[str, ...]
    date_from: date
    date_to: date
    seed: int
    counts: Mapping[Module, int]
    targets_added: int
    users_added: tuple[str, ...]
    factors_added: int = 0
    elapsed_seconds: float = field(default=0.0, compare=False)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    def __str__(self) -> str:
        lines = [
            f"Demo data (seed {self.seed}) for {len(self.sites)} site(s): {', '.join(self.sites)}",
            f"  {self.date_from.isoformat()} to {self.date_to.isoformat()}",
        ]
        width = max(len(m.value) for m in RECORD_MODULES)
        for module in RECORD_MODULES:
            lines.append(f"  {module.value:<{width}}  {self.counts.get(module, 0):>9,}")
        lines.append(
            f"  {'total':<{width}}  {self.total:>9,} records in {self.elapsed_seconds:.1f} s"
        )
        lines.append(f"  production targets added: {self.targets_added}")
        lines.append(f"  conversion factors added: {self.factors_added}")
        if self.users_added:
            lines.append(
                f"  users added: {', '.join(self.users_added)} (password {DEMO_PASSWORD!r})"
            )
        return "\n".join(lines)


def ramadan_like(day: date) -> bool:
    """Whether ``day`` falls in the approximate Ramadan month (demand dip)."""
    k = math.floor((day - _RAMADAN_ANCHOR).days / _LUNAR_YEAR)
    start = _RAMADAN_ANCHOR + timedelta(days=round(k * _LUNAR_YEAR))
    return 0 <= (day - start).days < 30


def demand_factor(day: date) -> float:
    """Relative dispatch demand on ``day``: season x Ramadan x weekday."""
    factor = _SUMMER_FACTOR.get(day.month, 1.0)
    if ramadan_like(day):
        factor *= 0.7
    weekday = day.weekday()
    if weekday == _FRIDAY:
        factor *= 0.1
    elif weekday == _SATURDAY:
        factor *= 0.85
    return factor


def demo_sites(count: int) -> tuple[DemoSite, ...]:
    """ALASLA-29 plus ``count - 1`` generated sites (DEMO-JED-02, DEMO-DXB-03, ...)."""
    sites = [
        DemoSite(
            ref.DEFAULT_SITE_CODE,
            ref.DEFAULT_SITE_NAME,
            ref.DEFAULT_SITE_LOCATION,
            ref.DEFAULT_TIMEZONE,
        )
    ]
    for index in range(1, count):
        city, name, location, zone = _SITE_POOL[(index - 1) % len(_SITE_POOL)]
        sites.append(DemoSite(f"DEMO-{city}-{index + 1:02d}", name, location, zone))
    return tuple(sites)


def generate_demo(
    services: Services,
    *,
    sites: int = 3,
    days: int = 365,
    seed: int = 1,
    end: date | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill the current store with ``days`` days of records for ``sites`` sites.

    Args:
        services: the services over the store to fill; writes go through them.
        sites: number of sites (ALASLA-29 first; missing sites are created).
        days: days of records per site, ending at ``end``.
        seed: the random seed; the same seed gives the same records and quantities.
        end: last day; default (and upper bound) is today in each site's time zone (from the
            store's clock), because validation refuses future dates.
        progress: told the percentage and a status line after each written chunk.

    Raises:
        ValidationError: bad arguments, or a site already has records in the demo's range (the
            demo fills empty sites; re-running it would collide with its own unique keys).
    """
    started = time.perf_counter()
    problems = []
    if sites < 1:
        problems.append(Problem("sites", "must be at least 1"))
    if not 1 <= days <= MAX_DAYS:
        problems.append(Problem("days", f"must be between 1 and {MAX_DAYS}"))
    if problems:
        raise ValidationError(problems)
    report = _reporter(progress or NullProgress())
    report(0, "preparing sites")
    refs = services.master.reference()
    clock = services.store.clock
    existing = {s.code: s for s in services.master.sites(SYSTEM, include_inactive=True)}
    windows: list[tuple[date, date]] = []
    for site in demo_sites(sites):
        today = clock.today(site.timezone)
        last = min(end, today) if end is not None else today
        windows.append((last - timedelta(days=days - 1), last))
        if site.code in existing:  # refuse before anything is written
            _refuse_filled(services, existing[site.code], *windows[-1])
    infos = [existing.get(s.code) or _add_site(services, s) for s in demo_sites(sites)]
    factors = _add_factors(services, infos, windows)

    plans = [
        _SitePlan(
            random.Random(f"deskops-demo:{seed}:{info.code}"),
            index,
            len(infos),
            first,
            last,
            refs.materials,
            refs.equipment,
            refs.roles,
            services.factors.site_factor_table(SYSTEM, info.id),
        ).build()
        for index, (info, (first, last)) in enumerate(zip(infos, windows, strict=True))
    ]

    chunks = [
        (info, module, month, rows)
        for info, plan in zip(infos, plans, strict=True)
        for month, by_module in plan.items()
        for module in _MODULE_ORDER
        if (rows := by_module.get(module))
    ]
    counts = {m: 0 for m in RECORD_MODULES}
    for done, (info, module, month, rows) in enumerate(chunks, start=1):
        result = services.records.create_many(SYSTEM, module, info.id, rows)
        counts[module] += result.value
        report(
            min(99, done * 97 // max(len(chunks), 1) + 1),
            f"{info.code} {month} {module.value}: {result.value} records",
        )

    report(99, "targets and users")
    targets = sum(
        _add_targets(services, info, first, last, _daily_rate(plan))
        for info, (first, last), plan in zip(infos, windows, plans, strict=True)
    )
    users = _add_users(services, [i.code for i in infos])
    summary = DemoSummary(
        sites=tuple(i.code for i in infos),
        date_from=min(w[0] for w in windows),
        date_to=max(w[1] for w in windows),
        seed=seed,
        counts=counts,
        targets_added=targets,
        users_added=users,
        factors_added=factors,
        elapsed_seconds=time.perf_counter() - started,
    )
    report(100, "done")
    return summary


def _reporter(progress: Progress) -> Callable[[int, str], None]:
    def report(percent: int, status: str) -> None:
        progress.set_status(status)
        progress.set_progress(percent)

    return report


# ----------------------------------------------------------------------------- set-up steps
def _add_site(services: Services, site: DemoSite) -> SiteInfo:
    return services.master.add_site(
        SYSTEM, site.code, site.name, location=site.location, timezone=site.timezone
    ).value


def _refuse_filled(services: Services, site: SiteInfo, first: date, last: date) -> None:
    for module in RECORD_MODULES:
        if services.records.count(SYSTEM, module, site.id, first, last):
            raise ValidationError(
                [
                    Problem(
                        "sites",
                        f"{site.code} already has {module.value} records between"
                        f" {first.isoformat()} and {last.isoformat()};"
                        " demo data goes into empty sites",
                    )
                ]
            )


def _add_factors(
    services: Services, sites: Sequence[SiteInfo], windows: Sequence[tuple[date, date]]
) -> int:
    """The demo's tons-per-load factors, for each raw material that has none yet."""
    have = {f.material_code for f in services.factors.factors(SYSTEM)}
    first = min(w[0] for w in windows)
    last = max(w[1] for w in windows)
    middle = first + timedelta(days=(last - first).days // 2)
    entries: list[tuple[str, Decimal, date, str | None, str]] = [
        (code, value, first, None, "Weighbridge sample of 20 loads (demo)")
        for code, value in _FACTORS.items()
        if code not in have
    ]
    code, value = _FACTOR_RESURVEY
    if code not in have and middle > first:
        entries.append((code, value, middle, None, "Weighbridge re-survey (demo)"))
    code, value = _SITE_FACTOR
    if code not in have and len(sites) > 1:
        entries.append((code, value, windows[1][0], sites[1].code, "Site survey (demo)"))
    for code, value, start, site_code, basis in entries:
        services.factors.set_factor(SYSTEM, code, value, start, site_code=site_code, basis=basis)
    return len(entries)


def _daily_rate(plan: dict[str, dict[Module, list[dict[str, Any]]]]) -> Decimal:
    """Average tons produced per working day of a plan (rounded to 10 t): the demo target."""
    total = Decimal(0)
    working = set()
    for by_module in plan.values():
        for row in by_module.get(Module.PRODUCTION, ()):
            if row["material"] in _FEED_SHARE:
                continue
            total += row["quantity"]
            working.add(row["date"])
    if not working:
        return Decimal(0)
    return (total / len(working) / 10).quantize(Decimal(1)) * 10


def _add_targets(services: Services, site: SiteInfo, first: date, last: date, rate: Decimal) -> int:
    """An all-materials target at the plan's average (raised 8 % half-way) and two product
    targets — only for a site that has no targets yet (an admin's own targets win)."""
    if rate <= 0 or services.master.targets(SYSTEM, site.id):
        return 0
    entries: list[tuple[Decimal, date, str | None]] = [(rate, first, None)]
    middle = first + timedelta(days=(last - first).days // 2)
    if middle > first:
        raised = (rate * Decimal("1.08") / 10).quantize(Decimal(1)) * 10
        entries.append((raised, middle, None))
    entries += [(Decimal(80), first, "AGG-3/4"), (Decimal(90), first, "BASE-RECYCLED")]
    for tons, start, material in entries:
        services.master.set_target(SYSTEM, site.id, tons, start, material_code=material)
    return len(entries)


def _add_users(services: Services, site_codes: Sequence[str]) -> tuple[str, ...]:
    existing = {u.username for u in services.users.list(SYSTEM)}
    added = []
    for username, role, display in DEMO_USERS:
        if username in existing:
            continue
        sites = site_codes[:1] if role is Role.OPERATOR else site_codes
        services.users.create(SYSTEM, username, DEMO_PASSWORD, role, sites, display)
        added.append(username)
    return tuple(added)


# -------------------------------------------------------------------------------- the plant
def _tons(value: float) -> Decimal:
    """Weighbridge tons: 2 decimals, at least 0.01."""
    return max(Decimal(round(value * 100)) / 100, Decimal("0.01"))


def _hours(value: float) -> Decimal:
    """Hours in quarter hours between 0 and 24."""
    return min(max(Decimal(round(value * 4)) / 4, Decimal(0)), Decimal(24)).quantize(
        Decimal("0.01")
    )


@dataclass
class _Product:
    code: str
    operation: str
    rate: float  # tons per shift while in campaign
    floor: float
    ceiling: float
    stock: float = 0.0
    running: bool = True
    demand: float = 0.0


@dataclass
class _Machine:
    code: str
    units: int
    breakdown_days: int = 0
    maintenance_phase: int = 0


class _SitePlan:
    """Simulates one site day by day and returns its records grouped by month and module."""

    def __init__(
        self,
        rng: random.Random,
        index: int,
        site_count: int,
        first: date,
        last: date,
        materials: Sequence[RefItem],
        equipment: Sequence[RefItem],
        roles: Sequence[RefItem],
        factors: FactorTable,
    ) -> None:
        self.rng = rng
        self.index = index
        self.site_count = site_count
        self.factors = factors
        self.material_ids = {m.code: m.id for m in materials}
        self.first = first
        self.last = last
        # The last generated site "has not typed today in yet".
        self.skip_last_day = site_count > 1 and index == site_count - 1
        active = {m.code for m in materials if m.active}
        seeded_final = [m.code for m in ref.MATERIALS if m.is_final and m.code in active]
        optional = [c for c in seeded_final if c not in _ALWAYS_MADE]
        rng.shuffle(optional)
        made = set(_ALWAYS_MADE) | set(optional[: max(len(optional) - 3, 0)])
        self.products = [
            _Product(
                code,
                _OPERATIONS.get(code, Operation.CRU_PRO),
                rate=rng.uniform(14, 34),
                floor=rng.uniform(80, 260),
                ceiling=rng.uniform(650, 1150),
            )
            for code in seeded_final
            if code in made and code in active
        ]
        for product in self.products:
            # Demand is about half of what a running campaign makes (6 working days against 7
            # demand days at ~0.8 of peak), so stock builds while a product runs and drains
            # while the screens make other sizes.
            product.demand = product.rate * rng.uniform(0.4, 0.55)
        self.raw = {c: 0.0 for c in _FEED_SHARE if c in active}
        self.rejects = {c: 0.0 for c in _REJECT_SHARE if c in self.raw}
        self.shifts = (
            (Shift.MORNING, Shift.AFTERNOON, Shift.NIGHT)
            if index == 0 or rng.random() < 0.4
            else (Shift.MORNING, Shift.AFTERNOON)
        )
        # The crushers' recent appetite per raw pile (loads per working day), which the
        # receipts follow: start from what the products' rates suggest.
        expected_tons = sum(p.rate for p in self.products) * len(self.shifts) * 0.5 / 0.91
        self.appetite = {
            code: expected_tons * _FEED_SHARE[code] / float(_FACTORS[code]) for code in self.raw
        }
        active_equipment = {e.code for e in equipment if e.active}
        self.crushers = {
            code: crusher for code, crusher in _FEED_CRUSHER.items() if crusher in active_equipment
        }
        self.machines = [
            _Machine(e.code, _UNITS_PER_LOG.get(e.code, 1), maintenance_phase=i * 3 % 14)
            for i, e in enumerate(ref.EQUIPMENT)
            if e.code in active_equipment
        ]
        active_roles = {r.code for r in roles if r.active}
        self.roles = [r.code for r in ref.ROLES if r.code in active_roles]
        self.dr_number = 1000 * (index + 1)
        self.plates = [self._plate() for _ in range(12)]
        self.out: dict[str, dict[Module, list[dict[str, Any]]]] = {}

    def build(self) -> dict[str, dict[Module, list[dict[str, Any]]]]:
        self._opening_balances()
        for day in _each_day(self.first, self.last):
            if self.skip_last_day and day == self.last:
                continue
            self._day(day)
        return self.out

    # ----- helpers
    def _add(self, module: Module, day: date, row: dict[str, Any]) -> None:
        self.out.setdefault(day.strftime("%Y-%m"), {}).setdefault(module, []).append(
            {"date": day, **row}
        )

    def _plate(self) -> str:
        letters = "".join(self.rng.choice(_PLATE_LETTERS) for _ in range(3))
        return f"{letters} {self.rng.randint(1000, 9999)}"

    def _opening_balances(self) -> None:
        for product in self.products:
            product.stock = round(self.rng.uniform(150, 650), 2)
            self._add(
                Module.ADJUSTMENTS,
                self.first,
                {
                    "material": product.code,
                    "quantity": _tons(product.stock),
                    "reason": AdjustmentReason.OPENING_BALANCE,
                    "notes": "Opening balance (demo)",
                },
            )
        for code in self.raw:
            self.raw[code] = float(self.rng.randint(150, 350))
            self._add(
                Module.ADJUSTMENTS,
                self.first,
                {
                    "material": code,
                    "quantity": Decimal(int(self.raw[code])),
                    "reason": AdjustmentReason.OPENING_BALANCE,
                    "notes": "Opening balance (demo)",
                },
            )

    # ----- one day
    def _day(self, day: date) -> None:
        friday = day.weekday() == _FRIDAY
        capacity = self._equipment(day, friday)
        produced = 0.0 if friday else self._production(day, capacity)
        self._received(day, friday)
        self._dispatch(day)
        if produced:
            self._feed(day, produced)
        self._rejects_to_landfill(day, friday)
        self._manpower(day, friday)
        if day != self.first and day.day == 28 and day.month in (3, 6, 9, 12):
            self._stock_count(day)

    def _equipment(self, day: date, friday: bool) -> float:
        """Log every machine for every shift; return the capacity factor for production."""
        capacity = 1.0
        forced = self.index == 0 and (self.last - day).days < 2
        for machine in self.machines:
            if machine.breakdown_days == 0 and not friday:
                chance = 0.007 if machine.code.startswith(("CRUSHER", "SCREEN")) else 0.004
                if self.rng.random() < chance:
                    machine.breakdown_days = self.rng.randint(1, 5)
            broken = machine.breakdown_days > 0 or (forced and machine.code == "CRUSHER-02")
            if broken:
                capacity *= {"CRUSHER-01": 0.35, "CRUSHER-02": 0.7, "SCREEN-01": 0.6}.get(
                    machine.code, 0.95
                )
            shifts: Sequence[str] = self.shifts
            if friday:
                if machine.code != "GENERATOR-01":
                    machine.breakdown_days = max(machine.breakdown_days - 1, 0)
                    continue
                shifts = (Shift.NIGHT,)
            for position, shift in enumerate(shifts):
                row = self._machine_shift(machine, day, position, broken)
                self._add(
                    Module.EQUIPMENT,
                    day,
                    {"shift": shift, "equipment": machine.code, "count": machine.units, **row},
                )
            machine.breakdown_days = max(machine.breakdown_days - 1, 0)
        return capacity

    def _machine_shift(
        self, machine: _Machine, day: date, position: int, broken: bool
    ) -> dict[str, Any]:
        rng = self.rng
        if broken:
            hours = rng.uniform(0, 3) if position == 0 and rng.random() < 0.3 else 0.0
            return {
                "hours": _hours(hours),
                "status": EquipmentStatus.BREAKDOWN,
                "notes": "Breakdown — waiting for parts" if rng.random() < 0.3 else "",
            }
        if position == 0 and (day - self.first).days % 14 == machine.maintenance_phase:
            return {
                "hours": _hours(rng.uniform(2, 4)),
                "status": EquipmentStatus.MAINTENANCE,
                "notes": "Scheduled service",
            }
        if machine.code in ("EXCAVATOR-02", "DUMPTRUCK-02") and rng.random() < 0.12:
            return {"hours": _hours(rng.uniform(0, 2)), "status": EquipmentStatus.IDLE, "notes": ""}
        hours = rng.uniform(5.5, 8.0) if rng.random() > 0.08 else rng.uniform(8.0, 10.0)
        return {"hours": _hours(hours), "status": EquipmentStatus.OPERATIONAL, "notes": ""}

    def _production(self, day: date, capacity: float) -> float:
        """Crush today's products; return the tons made (what the feed must account for)."""
        rng = self.rng
        made = 0.0
        pace = capacity * (0.85 if ramadan_like(day) else 1.0)
        for product in self.products:
            if product.running and product.stock > product.ceiling:
                product.running = False
            elif not product.running and product.stock < product.floor:
                product.running = True
                continue  # the campaign starts tomorrow: the screens are being changed
            if not product.running:
                continue
            for shift in self.shifts:
                if rng.random() < 0.06:
                    continue  # that shift ran other sizes
                quantity = _tons(product.rate * pace * rng.gauss(1.0, 0.15))
                product.stock += float(quantity)
                made += float(quantity)
                self._add(
                    Module.PRODUCTION,
                    day,
                    {
                        "shift": shift,
                        "operation": product.operation,
                        "material": product.code,
                        "quantity": quantity,
                        "notes": "",
                    },
                )
        return made

    def _received(self, day: date, friday: bool) -> None:
        rng = self.rng
        factor = 0.2 if friday else (0.8 if ramadan_like(day) else 1.0)
        for code, stock in self.raw.items():
            # Six working days of feed arrive over six days and a quiet Friday, plus what will
            # be sorted out as rejects; a pile that grows too big or too small is steered back.
            steer = 1.3 if stock < 150 else (0.7 if stock > 500 else 1.0)
            mean = self.appetite[code] * 6 / 6.2 / (1 - _REJECT_SHARE.get(code, 0.0)) * steer
            loads = max(int(rng.gauss(mean * factor, mean * 0.3)), 0)
            while loads > 0:
                part = min(loads, rng.randint(2, 9))
                loads -= part
                source = rng.choice(_SOURCES[:5] if code != "RAW-ASPHALT" else _SOURCES[4:])
                self.raw[code] += part
                if code in self.rejects:
                    self.rejects[code] += part * _REJECT_SHARE[code]
                self._add(
                    Module.RECEIVED,
                    day,
                    {
                        "material": code,
                        "quantity": Decimal(part),
                        "source": source,
                        "vehicle_ref": rng.choice(self.plates),
                        "notes": "",
                    },
                )
        sand = next((p for p in self.products if p.code == "FINE-NATURAL"), None)
        if sand is not None and not friday and rng.random() < 0.2:
            quantity = _tons(rng.uniform(30, 60))
            sand.stock += float(quantity)
            self._add(
                Module.RECEIVED,
                day,
                {
                    "material": sand.code,
                    "quantity": quantity,
                    "source": "Al Jouf Sand Quarry",
                    "vehicle_ref": rng.choice(self.plates),
                    "notes": "Purchased sand",
                },
            )

    def _dispatch(self, day: date) -> None:
        rng = self.rng
        factor = demand_factor(day)
        for product in self.products:
            wanted = product.demand * len(self.shifts) * factor * rng.lognormvariate(0, 0.35)
            while wanted > 5 and product.stock > 25:
                payload = rng.uniform(18, 32)
                trips = rng.choice((1, 1, 1, 2, 2, 3))
                quantity = min(payload * trips, product.stock - 5)
                quantity_d = _tons(quantity)
                product.stock -= float(quantity_d)
                wanted -= float(quantity_d)
                self.dr_number += 1
                owner = rng.choices([c for c, _ in _CUSTOMERS], [w for _, w in _CUSTOMERS])[0]
                fate = Fate.SALE
                if product.code == "BASE-RECYCLED" and rng.random() < 0.04:
                    fate, owner = Fate.USED_ON_SITE, "Haul road repairs (own site)"
                elif self.site_count > 1 and rng.random() < 0.015:
                    fate, owner = Fate.TRANSFER, "Transfer to another DeskOps site"
                self._add(
                    Module.DISPATCH,
                    day,
                    {
                        "reference": f"DR-{self.dr_number:06d}",
                        "material": product.code,
                        "quantity": quantity_d,
                        "fate": fate,
                        "trips": trips,
                        "owner": owner,
                        "operation": Operation.CRU_PRO,
                        "notes": "",
                    },
                )

    def _feed(self, day: date, produced: float) -> None:
        """Feed the crushers what today's products were made of: produced ÷ yield, in loads."""
        rng = self.rng
        fed_tons = produced / rng.uniform(*_YIELD)
        for code, stock in self.raw.items():
            factor = self.factors.factor_m(self.material_ids[code], day)
            per_load = factor / 1000 if factor else float(_FACTORS[code])
            wanted = fed_tons * _FEED_SHARE[code] / per_load
            loads = min(round(wanted * 2) / 2, math.floor(stock) - 2.0)
            if loads <= 0:
                continue
            self.raw[code] -= loads
            self.appetite[code] = 0.9 * self.appetite[code] + 0.1 * loads
            # Split over the shifts in half loads; the last shift takes the remainder.
            shares = [math.floor(loads / len(self.shifts) * 2) / 2] * len(self.shifts)
            shares[-1] = loads - sum(shares[:-1])
            for shift, part in zip(self.shifts, shares, strict=True):
                if part <= 0:
                    continue
                self._add(
                    Module.FEED,
                    day,
                    {
                        "shift": shift,
                        "material": code,
                        "quantity": Decimal(str(part)),
                        "equipment": self.crushers.get(code, ""),
                        "notes": "",
                    },
                )

    def _rejects_to_landfill(self, day: date, friday: bool) -> None:
        """Sorted-out rejects leave for the landfill in whole truck loads (not on Fridays)."""
        if friday:
            return
        for code, waiting in self.rejects.items():
            loads = min(math.floor(waiting), math.floor(self.raw[code]) - 2)
            if loads < 4:
                continue
            self.rejects[code] -= loads
            self.raw[code] -= loads
            self._add(
                Module.DISPATCH,
                day,
                {
                    "reference": "",
                    "material": code,
                    "quantity": Decimal(loads),
                    "fate": Fate.DISPOSAL,
                    "trips": loads,
                    "owner": "Municipal landfill",
                    "operation": Operation.CRU_DIS,
                    "notes": "Rejects to landfill",
                },
            )

    def _manpower(self, day: date, friday: bool) -> None:
        rng = self.rng
        ramadan = ramadan_like(day)
        for role in self.roles:
            if friday and role != "SECURITY":
                continue
            low, high = _CREW.get(role, (1, 3))
            shifts = (
                (Shift.MORNING, Shift.AFTERNOON, Shift.NIGHT) if role == "SECURITY" else self.shifts
            )
            for shift in shifts:
                hours = 6.0 if ramadan else (10.0 if rng.random() < 0.1 else 8.0)
                self._add(
                    Module.MANPOWER,
                    day,
                    {
                        "shift": shift,
                        "role": role,
                        "headcount": rng.randint(low, high),
                        "hours": _hours(hours),
                        "notes": "",
                    },
                )

    def _stock_count(self, day: date) -> None:
        rng = self.rng
        for product in rng.sample(self.products, k=min(4, len(self.products))):
            if product.stock < 20:
                continue
            delta = _tons(product.stock * rng.uniform(0.004, 0.03))
            quantity = -delta if rng.random() < 0.8 else delta
            product.stock += float(quantity)
            self._add(
                Module.ADJUSTMENTS,
                day,
                {
                    "material": product.code,
                    "quantity": quantity,
                    "reason": AdjustmentReason.STOCK_COUNT,
                    "notes": "Quarterly stock count",
                },
            )


def _each_day(first: date, last: date) -> Iterator[date]:
    day = first
    while day <= last:
        yield day
        day += timedelta(days=1)
