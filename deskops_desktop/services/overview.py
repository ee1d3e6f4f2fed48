"""The company overview: every site the actor may see, side by side, for a period and the one
before it — head office's landing page and its export.

Per site: stock in tons on the last day (deemed tons included) and how many materials are LOW,
production, sales, disposal, yield, diversion, tons per crusher hour, and days not yet entered.

Invariants a newcomer must not break:
- **The mass balance's figures.** Production, sales, disposal, received and fed are summed in tons
  exactly as ``services.mass_balance`` sums them (TON records as entered; LOAD records converted
  one by one with the factor valid on their date, rounded once), and yield, diversion and tons
  per crusher hour use its formulas (``yield_of``, ``diversion_of``, ``per_hour``): a site's line
  here equals its mass balance to the last digit (a test holds both to it).
- **Stock in tons** is, per material with history at the site, its book closing on the last day:
  TON materials as they are, LOAD materials times the factor valid that day (deemed). Closings no
  factor converts are not tons (``stock_no_factor_loads_m`` says how many loads were left out).
  LOW counts every material with history whose closing is under its low threshold, the
  dashboard's rule.
- **Days not yet entered** are the days of the period up to the site's today (its time zone,
  the store's clock) without a single record of any module.
- **Fast.** All sites at once: one grouped query per flow table and period, one for the
  closings, one for crusher hours, one for the entered days — about twenty queries whatever
  the number of sites, never a query per site or per material.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, Integer, bindparam, func, select, text, type_coerce
from sqlalchemy.orm import Session

from deskops_desktop.models.conversion import FactorTable, deemed_milli
from deskops_desktop.models.enums import EquipmentType, Fate, MassDetermination, Uom
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.records import (
    Dispatch,
    EquipmentLog,
    Feed,
    Production,
    Received,
)
from deskops_desktop.models.reference import Equipment, Site
from deskops_desktop.models.types import to_milli
from deskops_desktop.services.access import Actor
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.ledger import check_range
from deskops_desktop.services.mass_balance import diversion_of, per_hour, period_before, yield_of
from deskops_desktop.services.reference import SiteInfo, load_reference_index, site_info
from deskops_desktop.services.store import StoreService

# Every table a clerk's day of entries can be in (a day with any of them is "entered").
ENTRY_TABLES = (
    "production",
    "dispatches",
    "received",
    "feed",
    "equipment_logs",
    "manpower_logs",
    "inventory_adjustments",
)


@dataclass(frozen=True, slots=True)
class SiteFigures:
    """One site (or the company) over one period. Tons are integer thousandths, hours
    hundredths."""

    date_from: date
    date_to: date
    stock_tons_m: int = 0
    stock_deemed_m: int = 0
    stock_no_factor_loads_m: int = 0
    low_materials: int = 0
    produced_m: int = 0
    sold_m: int = 0
    disposal_m: int = 0
    received_m: int = 0
    fed_m: int = 0
    crusher_hours_c: int = 0
    days_not_entered: int = 0
    no_factor_records: int = 0

    @property
    def yield_ratio(self) -> Decimal | None:
        return yield_of(self.produced_m, self.fed_m)

    @property
    def diversion_percent(self) -> Decimal | None:
        return diversion_of(self.received_m, self.disposal_m)

    @property
    def tons_per_crusher_hour(self) -> Decimal | None:
        return per_hour(self.produced_m, self.crusher_hours_c)

    @property
    def complete(self) -> bool:
        """Every LOAD record and closing had a factor (every ton is counted)."""
        return self.no_factor_records == 0 and self.stock_no_factor_loads_m == 0

    def plus(self, other: SiteFigures) -> SiteFigures:
        """The sum of two sites' figures (ratios are recomputed from the sums)."""
        return SiteFigures(
            self.date_from,
            self.date_to,
            *(
                getattr(self, name) + getattr(other, name)
                for name in (
                    "stock_tons_m",
                    "stock_deemed_m",
                    "stock_no_factor_loads_m",
                    "low_materials",
                    "produced_m",
                    "sold_m",
                    "disposal_m",
                    "received_m",
                    "fed_m",
                    "crusher_hours_c",
                    "days_not_entered",
                    "no_factor_records",
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class SiteOverview:
    """A site's line: this period and the previous one."""

    site: SiteInfo
    current: SiteFigures
    previous: SiteFigures


@dataclass(frozen=True)
class CompanyOverview:
    """Every visible site's line, by site code, and the company's total."""

    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    sites: tuple[SiteOverview, ...]
    total: SiteFigures
    previous_total: SiteFigures


class OverviewService(StoreService):
    """The company overview (see the module docstring). Read-only; one session per call."""

    def overview(
        self,
        actor: Actor,
        date_from: date,
        date_to: date,
        *,
        site_ids: Sequence[str] | None = None,
    ) -> CompanyOverview:
        """Every active site ``actor`` may see (or those of ``site_ids`` among them), for
        ``[date_from, date_to]`` against the equally long period just before it."""
        check_range(date_from, date_to)
        before_from, before_to = period_before(date_from, date_to)
        now = self._now()
        with self._store.read() as session:
            sites = _visible_sites(session, actor, site_ids)
            lines: tuple[SiteOverview, ...] = ()
            if sites:
                reader = _Reader(session, sites, {s.id: s.today(now) for s in sites})
                current = reader.figures(date_from, date_to)
                previous = reader.figures(before_from, before_to)
                lines = tuple(SiteOverview(s, current[s.id], previous[s.id]) for s in sites)
        return CompanyOverview(
            date_from,
            date_to,
            before_from,
            before_to,
            lines,
            _sum(SiteFigures(date_from, date_to), (line.current for line in lines)),
            _sum(SiteFigures(before_from, before_to), (line.previous for line in lines)),
        )


def _sum(start: SiteFigures, figures: Iterable[SiteFigures]) -> SiteFigures:
    total = start
    for one in figures:
        total = total.plus(one)
    return total


def _visible_sites(session: Session, actor: Actor, wanted: Sequence[str] | None) -> list[SiteInfo]:
    rows = [site_info(s) for s in session.scalars(select(Site).order_by(Site.code))]
    chosen = set(wanted) if wanted is not None else None
    return [
        s
        for s in rows
        if actor.can_see_site(s.id) and (s.id in chosen if chosen is not None else s.active)
    ]


class _Reader:
    """The grouped queries of one overview, over one session."""

    def __init__(self, session: Session, sites: list[SiteInfo], today: dict[str, date]) -> None:
        self.session = session
        self.sites = sites
        self.site_ids = [s.id for s in sites]
        self.today = today
        refs = load_reference_index(session)
        self.materials: dict[str, RefItem] = {m.id: m for m in refs.materials}
        self.ton_ids = [m.id for m in refs.materials if m.uom == Uom.TON]
        self.load_ids = [m.id for m in refs.materials if m.uom != Uom.TON]
        self.factors: dict[str, FactorTable] = {
            s.id: load_factor_table(session, s.id) for s in sites
        }
        self.sqlite = session.get_bind().dialect.name == "sqlite"

    def figures(self, date_from: date, date_to: date) -> dict[str, SiteFigures]:
        produced = self._tons(Production, date_from, date_to)
        received = self._tons(Received, date_from, date_to)
        fed = self._tons(Feed, date_from, date_to)
        out = self._tons(Dispatch, date_from, date_to, Dispatch.fate)
        hours = self._crusher_hours(date_from, date_to)
        stock = self._stock(date_to)
        entered = self._entered_days(date_from, date_to)
        result = {}
        for site in self.sites:
            sid = site.id
            last = min(date_to, self.today[sid])
            open_days = max(0, (last - date_from).days + 1)
            missing = sum(
                cell[3]
                for flow in (produced, received, fed, out)
                for key, cell in flow.items()
                if key[0] == sid
            )
            tons, deemed, loose, low = stock.get(sid, (0, 0, 0, 0))
            result[sid] = SiteFigures(
                date_from=date_from,
                date_to=date_to,
                stock_tons_m=tons,
                stock_deemed_m=deemed,
                stock_no_factor_loads_m=loose,
                low_materials=low,
                produced_m=produced.get((sid, ""), (0, 0, 0, 0))[0],
                sold_m=out.get((sid, Fate.SALE.value), (0, 0, 0, 0))[0],
                disposal_m=out.get((sid, Fate.DISPOSAL.value), (0, 0, 0, 0))[0],
                received_m=received.get((sid, ""), (0, 0, 0, 0))[0],
                fed_m=fed.get((sid, ""), (0, 0, 0, 0))[0],
                crusher_hours_c=hours.get(sid, 0),
                days_not_entered=max(0, open_days - entered.get(sid, 0)),
                no_factor_records=missing,
            )
        return result

    def _tons(
        self, table: Any, date_from: date, date_to: date, group: Any = None
    ) -> dict[tuple[str, str], tuple[int, int, int, int]]:
        """(site, group) -> (tons, deemed tons, no-factor loads, no-factor records)."""
        quantity = type_coerce(table.quantity, BigInteger)
        where = (table.site_id.in_(self.site_ids), table.date >= date_from, table.date <= date_to)
        keys = [table.site_id, *([group] if group is not None else [])]
        acc: dict[tuple[str, str], list[int]] = {}

        def slot(site_id: str, rest: Sequence[Any]) -> list[int]:
            key = (site_id, str(rest[0] or "") if group is not None else "")
            return acc.setdefault(key, [0, 0, 0, 0])

        summed = self.session.execute(
            select(*keys, func.sum(quantity))
            .where(*where, table.material_id.in_(self.ton_ids))
            .group_by(*keys)
        )
        for site_id, *rest in summed:
            slot(site_id, rest)[0] += int(rest[-1] or 0)
        # LOAD records: each converted on its own date; records of one material, date and
        # quantity convert alike, so they are counted, not fetched one by one.
        per_record = self.session.execute(
            select(*keys, table.material_id, table.date, quantity, func.count())
            .where(*where, table.material_id.in_(self.load_ids))
            .group_by(*keys, table.material_id, table.date, quantity)
        )
        for site_id, *rest in per_record:
            material_id, day, loads, count = rest[-4:]
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            item = self.materials[material_id]
            tons_m, mass = self.factors[site_id].tonnage(material_id, item.uom, day, int(loads))
            cell = slot(site_id, rest)
            if tons_m is None:
                cell[2] += int(loads) * int(count)
                cell[3] += int(count)
            else:
                cell[0] += tons_m * int(count)
                cell[1] += tons_m * int(count) if mass is MassDetermination.DEEMED else 0
        return {key: (v[0], v[1], v[2], v[3]) for key, v in acc.items()}

    def _crusher_hours(self, date_from: date, date_to: date) -> dict[str, int]:
        hours = type_coerce(EquipmentLog.hours, Integer)
        rows = self.session.execute(
            select(EquipmentLog.site_id, func.sum(hours * EquipmentLog.count))
            .join(Equipment, Equipment.id == EquipmentLog.equipment_id)
            .where(
                EquipmentLog.site_id.in_(self.site_ids),
                EquipmentLog.date >= date_from,
                EquipmentLog.date <= date_to,
                Equipment.type == EquipmentType.CRUSHING_SCREENING,
            )
            .group_by(EquipmentLog.site_id)
        )
        return {site_id: int(total or 0) for site_id, total in rows}

    def _stock(self, day: date) -> dict[str, tuple[int, int, int, int]]:
        """site -> (tons, deemed tons, loads without a factor, LOW materials) on ``day``."""
        sql = text(
            "SELECT sd.site_id, sd.material_id, sd.closing FROM stock_days sd JOIN"
            " (SELECT site_id, material_id, MAX(day) AS d FROM stock_days"
            "  WHERE site_id IN :s AND day <= :a GROUP BY site_id, material_id) last"
            " ON sd.site_id = last.site_id AND sd.material_id = last.material_id"
            " AND sd.day = last.d"
        ).bindparams(bindparam("s", expanding=True))
        bound = day.isoformat() if self.sqlite else day
        out: dict[str, list[int]] = {}
        for site_id, material_id, closing in self.session.execute(
            sql, {"s": self.site_ids, "a": bound}
        ):
            item = self.materials.get(material_id)
            if item is None:
                continue
            closing = int(closing)
            cell = out.setdefault(site_id, [0, 0, 0, 0])
            if closing < to_milli(item.low_threshold):
                cell[3] += 1
            if item.uom == Uom.TON:
                cell[0] += closing
                continue
            factor = self.factors[site_id].factor_m(material_id, day)
            if factor is None:
                cell[2] += closing
            else:
                tons = deemed_milli(closing, factor)
                cell[0] += tons
                cell[1] += tons
        return {key: (v[0], v[1], v[2], v[3]) for key, v in out.items()}

    def _entered_days(self, date_from: date, date_to: date) -> dict[str, int]:
        """site -> days of the period up to its today with at least one record."""
        last = min(date_to, max(self.today.values()))
        if last < date_from:
            return {}
        branches = " UNION ".join(
            f"SELECT site_id, date FROM {table} WHERE site_id IN :s AND date >= :a AND date <= :b"
            for table in ENTRY_TABLES
        )
        sql = text(branches).bindparams(bindparam("s", expanding=True))
        a, b = (date_from.isoformat(), last.isoformat()) if self.sqlite else (date_from, last)
        counts: dict[str, int] = {}
        for site_id, day in self.session.execute(sql, {"s": self.site_ids, "a": a, "b": b}):
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            if day <= self.today[site_id]:
                counts[site_id] = counts.get(site_id, 0) + 1
        return counts
