"""The tables of a report pack's Power BI folder: their columns and how their rows are made.

``powerbi_folder`` decides which files to (re)write and writes them; this module only turns the
store into rows — the dimensions (sites, materials, dates), the stock fact (site x material x
day, dense from each pair's first stock day) and the movement fact (one row per record that
moves stock, with its tons). See ``docs/power-bi.md`` for what each column means.

Keys: ``site_key`` and ``material_key`` are ``surrogate_key(id)``, 48 bits of SHA-256 of the
row's id (the same in every pack, run and computer); ``date_key`` is ``YYYYMMDD``. Rows come
sorted (day, site code, module, material order, id), so the same records give the same bytes.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, bindparam, select, text, type_coerce
from sqlalchemy.orm import Session

from deskops_desktop.export.cells import guard_csv
from deskops_desktop.models.conversion import FactorTable, deemed_milli
from deskops_desktop.models.enums import MassDetermination, Module, Uom
from deskops_desktop.models.ledger_math import level_of
from deskops_desktop.models.records import Dispatch, Feed, InventoryAdjustment, Production, Received
from deskops_desktop.models.reference import Equipment, Material
from deskops_desktop.models.stock import STORED_FIGURES, StockDay
from deskops_desktop.models.types import from_milli, to_milli
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.reference import SiteInfo

# The columns that tie a fact row to its day, site and material (the model's relationships).
_FACT_KEYS = ("date_key", "date", "site_key", "material_key", "site_code", "material_code")

DIM_SITE = ("site_key", "site_code", "site_name", "location", "timezone", "active")
DIM_MATERIAL = (
    "material_key",
    "material_code",
    "material_name",
    "category",
    "uom",
    "is_final",
    "low_threshold",
    "high_threshold",
    "active",
    "sort_order",
)
DIM_DATE = (
    "date_key",
    "date",
    "year",
    "quarter",
    "month",
    "month_name",
    "month_key",
    "iso_year",
    "iso_week",
    "iso_week_key",
    "iso_day_of_week",
    "day_name",
    "fiscal_year",
    "fiscal_quarter",
    "fiscal_month",
)
FACT_STOCK = (
    *_FACT_KEYS,
    "uom",
    "opening",
    "produced",
    "received",
    "dispatched",
    "fed",
    "adjustment",
    "closing",
    "level",
    "tons_per_load",
    "closing_tons",
)
FACT_MOVEMENTS = (
    "movement_key",
    "module",
    *_FACT_KEYS,
    "quantity",
    "uom",
    "stock_effect",
    "tons",
    "deemed_tons",
    "mass_determination",
    "tons_per_load",
    "fate",
    "operation",
    "shift",
    "reason",
    "equipment_code",
    "counterparty",
    "reference",
    "created_at_site",
    "created_at_utc",
    "updated_at_site",
    "updated_at_utc",
)

_MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
_DAY_NAMES = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")
# Movement tables in the order their rows are listed on one day; +1 adds to stock, -1 takes.
MOVEMENTS: tuple[tuple[Module, Any, int], ...] = (
    (Module.RECEIVED, Received, 1),
    (Module.FEED, Feed, -1),
    (Module.PRODUCTION, Production, 1),
    (Module.DISPATCH, Dispatch, -1),
    (Module.ADJUSTMENTS, InventoryAdjustment, 1),
)


def surrogate_key(row_id: str) -> int:
    """The stable integer key of a site or material: 48 bits of SHA-256 of its id."""
    return int(hashlib.sha256(row_id.encode()).hexdigest()[:12], 16)


@dataclass
class Catalogue:
    """Sites, materials, equipment and factors of one refresh, read once."""

    sites: tuple[SiteInfo, ...]
    site_rows_: list[tuple[Any, ...]]
    materials: list[Any]  # Material rows' values, display order
    equipment_codes: dict[str, str]
    factors: dict[str, FactorTable]
    zones: dict[str, ZoneInfo]
    material_rank: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, sites: Sequence[SiteInfo]) -> Catalogue:
        materials = list(
            session.execute(
                select(
                    Material.id,
                    Material.code,
                    Material.name,
                    Material.category,
                    Material.uom,
                    Material.is_final,
                    Material.low_threshold,
                    Material.high_threshold,
                    Material.active,
                    Material.sort_order,
                ).order_by(Material.sort_order, Material.code)
            )
        )
        equipment = {e: code for e, code in session.execute(select(Equipment.id, Equipment.code))}
        return cls(
            sites=tuple(sites),
            site_rows_=[
                (surrogate_key(s.id), s.code, s.name, s.location, s.timezone, _flag(s.active))
                for s in sites
            ],
            materials=materials,
            equipment_codes=equipment,
            factors={s.id: load_factor_table(session, s.id) for s in sites},
            zones={s.id: ZoneInfo(s.timezone) for s in sites},
            material_rank={m[0]: n for n, m in enumerate(materials)},
        )

    @property
    def site_ids(self) -> list[str]:
        return [s.id for s in self.sites]

    def material(self, material_id: str) -> Any:
        return self.materials[self.material_rank[material_id]]

    def site_rows(self) -> Iterator[tuple[Any, ...]]:
        return iter(self.site_rows_)

    def material_rows(self) -> Iterator[tuple[Any, ...]]:
        for mid, code, name, category, uom, final, low, high, active, order in self.materials:
            yield (
                surrogate_key(mid),
                code,
                name,
                category,
                uom,
                _flag(final),
                from_milli(to_milli(low)),
                from_milli(to_milli(high)),
                _flag(active),
                order,
            )


# ------------------------------------------------------------------------------ the facts
def movement_rows(
    session: Session, catalogue: Catalogue, month: str, last_day: date
) -> list[tuple[Any, ...]]:
    """One row per record of ``month`` (through ``last_day``) at the pack's sites."""
    start = month_start(month)
    codes = {s.id: s.code for s in catalogue.sites}
    keys = {s.id: surrogate_key(s.id) for s in catalogue.sites}
    keyed: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    for order, (module, table, sign) in enumerate(MOVEMENTS):
        extras = extra_columns(module, table)
        stmt = select(
            table.id,
            table.site_id,
            table.date,
            table.material_id,
            type_coerce(table.quantity, BigInteger),
            table.created_at,
            table.updated_at,
            *(column for _name, column in extras),
        ).where(table.site_id.in_(catalogue.site_ids), table.date >= start, table.date <= last_day)
        for (
            record_id,
            site_id,
            day,
            material_id,
            quantity,
            created,
            updated,
            *rest,
        ) in session.execute(stmt):
            day = day if isinstance(day, date) else date.fromisoformat(str(day))
            m = catalogue.material(material_id)
            values = dict(zip((name for name, _ in extras), rest, strict=True))
            factor = catalogue.factors[site_id].factor_m(material_id, day)
            tonnage = catalogue.factors[site_id].tonnage(material_id, m[4], day, int(quantity))
            zone = catalogue.zones[site_id]
            tons = tonnage.tons_m
            deemed = tons if tonnage.mass is MassDetermination.DEEMED or tons is None else 0
            row = (
                record_id,
                module.value,
                _date_key(day),
                day.isoformat(),
                keys[site_id],
                surrogate_key(material_id),
                codes[site_id],
                m[1],
                from_milli(int(quantity)),
                m[4],
                sign,
                None if tons is None else from_milli(tons),
                None if deemed is None else from_milli(deemed),
                tonnage.mass.value,
                from_milli(factor) if m[4] != Uom.TON and factor is not None else None,
                values.get("fate") or None,
                values.get("operation") or None,
                values.get("shift") or None,
                values.get("reason") or None,
                catalogue.equipment_codes.get(values.get("equipment_id") or "") or None,
                _text(values.get("counterparty")),
                _text(values.get("reference")),
                *_stamps(created, zone),
                *_stamps(updated, zone),
            )
            rank = (day, codes[site_id], order, catalogue.material_rank[material_id], record_id)
            keyed.append((rank, row))
    keyed.sort(key=lambda pair: pair[0])
    return [row for _rank, row in keyed]


def extra_columns(module: Module, table: Any) -> list[tuple[str, Any]]:
    """The module-specific columns of a movement row, under their fact column names."""
    if module is Module.PRODUCTION:
        return [("shift", table.shift), ("operation", table.operation)]
    if module is Module.RECEIVED:
        return [("counterparty", table.source), ("reference", table.vehicle_ref)]
    if module is Module.DISPATCH:
        return [
            ("fate", table.fate),
            ("operation", table.operation),
            ("counterparty", table.owner),
            ("reference", table.reference),
        ]
    if module is Module.FEED:
        return [("shift", table.shift), ("equipment_id", table.equipment_id)]
    return [("reason", table.reason)]


class Balances:
    """Each (site, material)'s closing carried from month to month; a pair enters the stock
    fact on its first stock day (a product a site never makes is not listed at 0 forever)."""

    def __init__(self, closing: dict[tuple[str, str], int]) -> None:
        self.closing = closing

    @classmethod
    def before(cls, session: Session, catalogue: Catalogue, first_day: date) -> Balances:
        sql = text(
            "SELECT sd.site_id, sd.material_id, sd.closing FROM stock_days sd JOIN"
            " (SELECT site_id, material_id, MAX(day) AS d FROM stock_days"
            "  WHERE site_id IN :s AND day < :a GROUP BY site_id, material_id) last"
            " ON sd.site_id = last.site_id AND sd.material_id = last.material_id"
            " AND sd.day = last.d"
        ).bindparams(bindparam("s", expanding=True))
        sqlite = session.get_bind().dialect.name == "sqlite"
        rows = session.execute(
            sql, {"s": catalogue.site_ids, "a": first_day.isoformat() if sqlite else first_day}
        )
        return cls({(s, m): int(c) for s, m, c in rows})


def stock_rows(
    session: Session, catalogue: Catalogue, balances: Balances, month: str, last_day: date
) -> list[tuple[Any, ...]]:
    """site x material x day of ``month`` (through ``last_day``), dense from each pair's first
    stock day; ``balances`` is moved to the month's end."""
    start = month_start(month)
    flows: dict[tuple[str, str, date], tuple[int, ...]] = {}
    rows = session.execute(
        select(StockDay.site_id, StockDay.material_id, StockDay.day, *STORED_FIGURES).where(
            StockDay.site_id.in_(catalogue.site_ids),
            StockDay.day >= start,
            StockDay.day <= last_day,
        )
    )
    for site_id, material_id, day, *values in rows:
        day = day if isinstance(day, date) else date.fromisoformat(str(day))
        flows[(site_id, material_id, day)] = tuple(int(v) for v in values)
    out: list[tuple[Any, ...]] = []
    closing = balances.closing
    materials = [
        (m[0], m[1], m[4], to_milli(m[6]), to_milli(m[7]), surrogate_key(m[0]))
        for m in catalogue.materials
    ]
    sites = [(s.id, s.code, surrogate_key(s.id), catalogue.factors[s.id]) for s in catalogue.sites]
    day = start
    while day <= last_day:
        day_key, iso = _date_key(day), day.isoformat()
        for site_id, site_code, site_key, factors in sites:
            for material_id, code, uom, low, high, material_key in materials:
                pair = (site_id, material_id)
                cell = flows.get((site_id, material_id, day))
                opening = closing.get(pair)
                if cell is None and opening is None:
                    continue  # no history yet
                before = opening or 0
                p, r, d, f, a, end = cell if cell is not None else (0, 0, 0, 0, 0, before)
                closing[pair] = end
                factor = None if uom == Uom.TON else factors.factor_m(material_id, day)
                tons = end if uom == Uom.TON else None
                if factor is not None:
                    tons = deemed_milli(end, factor)
                out.append(
                    (
                        day_key,
                        iso,
                        site_key,
                        material_key,
                        site_code,
                        code,
                        uom,
                        *(from_milli(v) for v in (before, p, r, d, f, a, end)),
                        level_of(end, low, high).value,
                        None if factor is None else from_milli(factor),
                        None if tons is None else from_milli(tons),
                    )
                )
        day += timedelta(days=1)
    return out


# ---------------------------------------------------------------------------- dimensions
def dim_date_rows(first: date, last: date, fiscal_start: int) -> Iterator[tuple[Any, ...]]:
    day = first
    while day <= last:
        iso_year, iso_week, iso_day = day.isocalendar()
        # The fiscal year is named after the calendar year it ends in (FY2027 = Apr 2026 to
        # Mar 2027 when it starts in April); with a January start it is the calendar year.
        shifted = (day.month - fiscal_start) % 12
        fiscal_year = day.year + (1 if fiscal_start > 1 and day.month >= fiscal_start else 0)
        yield (
            _date_key(day),
            day.isoformat(),
            day.year,
            (day.month - 1) // 3 + 1,
            day.month,
            _MONTH_NAMES[day.month - 1],
            f"{day:%Y-%m}",
            iso_year,
            iso_week,
            f"{iso_year}-W{iso_week:02d}",
            iso_day,
            _DAY_NAMES[iso_day - 1],
            fiscal_year,
            shifted // 3 + 1,
            shifted + 1,
        )
        day += timedelta(days=1)


# ------------------------------------------------------------------------------- values
def month_start(month: str | date) -> date:
    if isinstance(month, date):
        return month.replace(day=1)
    return date(int(month[:4]), int(month[5:7]), 1)


def month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _date_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _flag(value: bool) -> str:
    return "true" if value else "false"


def _text(value: object) -> str | None:
    return guard_csv(str(value)) if value else None


def _stamps(moment: datetime | None, zone: ZoneInfo) -> tuple[str | None, str | None]:
    """(wall clock at the site, UTC) of a stored timestamp, to the second."""
    if moment is None:
        return None, None
    utc = moment if moment.tzinfo is not None else moment.replace(tzinfo=ZoneInfo("UTC"))
    site = utc.astimezone(zone)
    return f"{site:%Y-%m-%dT%H:%M:%S}", f"{utc.astimezone(ZoneInfo('UTC')):%Y-%m-%dT%H:%M:%SZ}"
