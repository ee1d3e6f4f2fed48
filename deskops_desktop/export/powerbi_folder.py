"""A report pack's Power BI folder: a star schema in csv, one file per table and month.

Power BI Desktop's Folder connector points at ``<destination>/<pack>/powerbi`` and combines the
files of each table's sub-folder (``docs/power-bi.md``)::

    powerbi/
      dim_site/dim_site.csv            one row per site of the pack
      dim_material/dim_material.csv    one row per material
      dim_date/dim_date.csv            every day of the months covered (ISO week, fiscal fields)
      fact_stock_daily/fact_stock_daily_YYYY-MM.csv   site x material x day: the ledger
      fact_movements/fact_movements_YYYY-MM.csv       one row per record that moves stock
      manifest.json                    every file's sha256, size, rows; what the last run rewrote

The feed covers the pack's sites from their first record to the end of the run's period,
whatever its length (an administrator's pack is not bound by the interactive range limits).

Invariants a newcomer must not break:
- **Stable keys.** ``site_key`` and ``material_key`` are 48-bit integers derived from the row's
  id (``surrogate_key``), the same in every pack, run and computer; ``date_key`` is
  ``YYYYMMDD``. Codes and names may change; keys never do.
- **One format.** UTF-8 without BOM, CRLF, snake_case headers, ISO dates, ``.`` decimals with
  the stored places (3 for quantities), no thousands separators; free text guarded against
  spreadsheet formulas like every export (``cells.guard_csv``). Dates are site-local days;
  every timestamp appears twice, ``*_site`` (the site's wall clock, no offset) and ``*_utc``
  (with ``Z``).
- **Incremental.** A nightly run rewrites only the months whose bytes change. Which months to
  recompute is decided from cheap fingerprints (per site and month: record count, quantity sum
  and latest ``updated_at`` of every movement table; the stock months chain them, because a
  back-dated entry moves every later closing), plus a *basis* (sites, materials, factors, the
  pack's sites and fiscal year, the feed's format) whose change recomputes everything. A
  recomputed month is written only when its bytes differ from the file on disk, by
  ``folders.replace_file`` (atomic, same name), and ``manifest.json`` says which files the
  last run rewrote.
- Deterministic: the same records give byte-identical files (rows sorted by day, site code,
  module, material order, id; no clock anywhere).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import BigInteger, bindparam, func, select, text, type_coerce
from sqlalchemy.orm import Session

from deskops_desktop import __version__
from deskops_desktop.export.cells import guard_csv
from deskops_desktop.export.folders import replace_file
from deskops_desktop.export.progress import ExportCancelled
from deskops_desktop.models.conversion import FactorTable, deemed_milli
from deskops_desktop.models.enums import MassDetermination, Module, Uom
from deskops_desktop.models.ledger_math import level_of
from deskops_desktop.models.progress import Progress
from deskops_desktop.models.records import (
    Dispatch,
    Feed,
    InventoryAdjustment,
    Production,
    Received,
)
from deskops_desktop.models.reference import ConversionFactor, Equipment, Material, Site
from deskops_desktop.models.stock import StockDay
from deskops_desktop.models.types import from_milli, to_milli
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.factors import load_factor_table
from deskops_desktop.services.reference import SiteInfo

FEED_FORMAT = 1
"""Bumped when a column changes: the next run then rewrites every file (it is in the basis)."""
FOLDER = "powerbi"
MANIFEST = "manifest.json"

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
    "date_key",
    "date",
    "site_key",
    "material_key",
    "site_code",
    "material_code",
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
    "date_key",
    "date",
    "site_key",
    "material_key",
    "site_code",
    "material_code",
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
_MOVEMENTS: tuple[tuple[Module, Any, int], ...] = (
    (Module.RECEIVED, Received, 1),
    (Module.FEED, Feed, -1),
    (Module.PRODUCTION, Production, 1),
    (Module.DISPATCH, Dispatch, -1),
    (Module.ADJUSTMENTS, InventoryAdjustment, 1),
)


def surrogate_key(row_id: str) -> int:
    """The stable integer key of a site or material: 48 bits of SHA-256 of its id."""
    return int(hashlib.sha256(row_id.encode()).hexdigest()[:12], 16)


@dataclass(frozen=True, slots=True)
class PowerBiFile:
    """One file of the folder (``path`` relative to it, ``/``-separated)."""

    path: str
    table: str
    month: str
    rows: int
    size_bytes: int
    sha256: str
    rewritten: bool


@dataclass(frozen=True)
class PowerBiResult:
    """What a refresh did; ``skipped`` says why nothing was touched (the folder already covers
    a later period than this run's)."""

    folder: Path
    files: tuple[PowerBiFile, ...]
    date_from: date | None
    date_to: date
    skipped: str = ""

    @property
    def rewritten(self) -> tuple[PowerBiFile, ...]:
        return tuple(f for f in self.files if f.rewritten)


# ----------------------------------------------------------------------------- entry point
def refresh_powerbi_folder(
    services: Services,
    folder: Path,
    pack_name: str,
    sites: Sequence[SiteInfo],
    fiscal_year_start: int,
    up_to: date,
    progress: Progress,
) -> PowerBiResult:
    """Bring ``folder`` up to ``up_to`` for ``sites`` (see the module docstring)."""
    previous = _read_manifest(folder)
    covered = previous.get("covers", {}).get("to")
    if covered and date.fromisoformat(covered) > up_to:
        return PowerBiResult(
            folder,
            _files_from(previous),
            _optional_date(previous.get("covers", {}).get("from")),
            date.fromisoformat(covered),
            skipped=f"the folder already covers up to {covered}, later than {up_to}",
        )
    store = services.store
    ordered = sorted(sites, key=lambda s: s.code)
    with store.read() as session:
        catalogue = _Catalogue.read(session, ordered)
        basis = _basis(session, catalogue, pack_name, fiscal_year_start)
        movement_prints = _movement_fingerprints(session, catalogue, up_to)
    months = _months(movement_prints, up_to)
    old_files: dict[str, dict[str, Any]] = (
        previous.get("files", {}) if previous.get("basis") == basis else {}
    )
    plan = _Plan(folder, old_files)
    stock_print = basis
    stock_dirty_from: int | None = None
    for index, (month, last_day) in enumerate(months):
        move_print = _digest([basis, month, last_day.isoformat(), movement_prints.get(month, [])])
        stock_print = _digest([stock_print, move_print])
        plan.want(_movement_path(month), "fact_movements", month, move_print)
        if plan.want(_stock_path(month), "fact_stock_daily", month, stock_print):
            stock_dirty_from = index if stock_dirty_from is None else stock_dirty_from

    steps = len(plan.dirty) + 3
    done = 0

    def step(status: str) -> None:
        nonlocal done
        if progress.is_cancelled():
            raise ExportCancelled()
        progress.set_status(status)
        progress.set_progress(min(99, done * 100 // max(steps, 1)))
        done += 1

    with store.read() as session:
        for month, last_day in months:
            path = _movement_path(month)
            if path in plan.dirty:
                step(f"Power BI: movements {month}")
                rows = _movement_rows(session, catalogue, month, last_day)
                plan.write(path, FACT_MOVEMENTS, rows)
        if stock_dirty_from is not None:
            first_month = months[stock_dirty_from][0]
            balances = _Balances.before(session, catalogue, _month_start(first_month))
            for month, last_day in months[stock_dirty_from:]:
                step(f"Power BI: stock {month}")
                rows = _stock_rows(session, catalogue, balances, month, last_day)
                path = _stock_path(month)
                if path in plan.dirty:
                    plan.write(path, FACT_STOCK, rows)
    step("Power BI: dimensions")
    first = _month_start(months[0][0]) if months else None
    plan.dimension("dim_site", DIM_SITE, catalogue.site_rows(), basis)
    plan.dimension("dim_material", DIM_MATERIAL, catalogue.material_rows(), basis)
    last = _month_end(up_to)
    days = _dim_date_rows(first, last, fiscal_year_start) if first else iter(())
    plan.dimension("dim_date", DIM_DATE, days, _digest([basis, str(first), last.isoformat()]))
    files = plan.finish()
    manifest = {
        "format": "deskops-powerbi-folder",
        "format_version": FEED_FORMAT,
        "deskops_version": __version__,
        "pack": pack_name,
        "basis": basis,
        "covers": {"from": first.isoformat() if first else None, "to": up_to.isoformat()},
        "sites": [s.code for s in ordered],
        "files": {
            f.path: {
                "table": f.table,
                "month": f.month,
                "rows": f.rows,
                "size": f.size_bytes,
                "sha256": f.sha256,
                "fingerprint": plan.prints[f.path],
            }
            for f in files
        },
        "last_run": {
            "up_to": up_to.isoformat(),
            "rewritten": [f.path for f in files if f.rewritten],
            "unchanged": sum(1 for f in files if not f.rewritten),
        },
    }
    replace_file(folder / MANIFEST, _json_bytes(manifest))
    progress.set_progress(100)
    return PowerBiResult(folder, files, first, up_to)


# ------------------------------------------------------------------------- what exists
@dataclass
class _Catalogue:
    """Sites, materials, equipment and factors of one refresh, read once."""

    sites: tuple[SiteInfo, ...]
    site_rows_: list[tuple[Any, ...]]
    materials: list[Any]  # Material rows' values, display order
    equipment_codes: dict[str, str]
    factors: dict[str, FactorTable]
    zones: dict[str, ZoneInfo]
    material_rank: dict[str, int] = field(default_factory=dict)

    @classmethod
    def read(cls, session: Session, sites: Sequence[SiteInfo]) -> _Catalogue:
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


def _basis(session: Session, catalogue: _Catalogue, pack: str, fiscal_year_start: int) -> str:
    """What every file depends on beyond the records: if any of it changes, all is rebuilt."""
    factors = session.execute(
        select(
            ConversionFactor.material_id,
            ConversionFactor.site_id,
            ConversionFactor.valid_from,
            ConversionFactor.tons_per_load,
            ConversionFactor.updated_at,
        ).order_by(ConversionFactor.id)
    ).all()
    sites = session.execute(
        select(Site.id, Site.code, Site.name, Site.location, Site.timezone, Site.active)
        .where(Site.id.in_(catalogue.site_ids))
        .order_by(Site.id)
    ).all()
    return _digest(
        [
            FEED_FORMAT,
            __version__,
            pack,
            fiscal_year_start,
            [list(map(str, row)) for row in sites],
            [list(map(str, row)) for row in catalogue.materials],
            [list(map(str, row)) for row in factors],
        ]
    )


def _month_column(session: Session, column: Any) -> Any:
    if session.get_bind().dialect.name == "sqlite":
        return func.strftime("%Y-%m", column)
    return func.to_char(column, "YYYY-MM")


def _movement_fingerprints(
    session: Session, catalogue: _Catalogue, up_to: date
) -> dict[str, list[list[str]]]:
    """month -> [[table, site, count, quantity sum, latest update], ...] up to ``up_to``."""
    out: dict[str, list[list[str]]] = {}
    for module, table, _sign in _MOVEMENTS:
        month = _month_column(session, table.date)
        rows = session.execute(
            select(
                month,
                table.site_id,
                func.count(),
                func.sum(type_coerce(table.quantity, BigInteger)),
                func.max(table.updated_at),
            )
            .where(table.site_id.in_(catalogue.site_ids), table.date <= up_to)
            .group_by(month, table.site_id)
        )
        for key, site_id, count, total, latest in rows:
            out.setdefault(str(key), []).append(
                [module.value, site_id, str(count), str(total), str(latest)]
            )
    for entries in out.values():
        entries.sort()
    return out


def _months(prints: dict[str, list[list[str]]], up_to: date) -> list[tuple[str, date]]:
    """Every month from the first with a record through ``up_to``'s, with its last day."""
    if not prints:
        return []
    first = _month_start(min(prints))
    out: list[tuple[str, date]] = []
    day = first
    while day <= up_to:
        key = f"{day:%Y-%m}"
        out.append((key, min(_month_end(day), up_to)))
        day = _month_end(day) + timedelta(days=1)
    return out


# ------------------------------------------------------------------------------ the facts
def _movement_rows(
    session: Session, catalogue: _Catalogue, month: str, last_day: date
) -> list[tuple[Any, ...]]:
    """One row per record of ``month`` (through ``last_day``) at the pack's sites."""
    start = _month_start(month)
    codes = {s.id: s.code for s in catalogue.sites}
    keys = {s.id: surrogate_key(s.id) for s in catalogue.sites}
    keyed: list[tuple[tuple[Any, ...], tuple[Any, ...]]] = []
    for order, (module, table, sign) in enumerate(_MOVEMENTS):
        extras = _extra_columns(module, table)
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


def _extra_columns(module: Module, table: Any) -> list[tuple[str, Any]]:
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


class _Balances:
    """Each (site, material)'s closing carried from month to month; a pair enters the stock
    fact on its first stock day (a product a site never makes is not listed at 0 forever)."""

    def __init__(self, closing: dict[tuple[str, str], int]) -> None:
        self.closing = closing

    @classmethod
    def before(cls, session: Session, catalogue: _Catalogue, first_day: date) -> _Balances:
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


def _stock_rows(
    session: Session, catalogue: _Catalogue, balances: _Balances, month: str, last_day: date
) -> list[tuple[Any, ...]]:
    """site x material x day of ``month`` (through ``last_day``), dense from each pair's first
    stock day; ``balances`` is moved to the month's end."""
    start = _month_start(month)
    flows: dict[tuple[str, str, date], tuple[int, ...]] = {}
    rows = session.execute(
        select(
            StockDay.site_id,
            StockDay.material_id,
            StockDay.day,
            StockDay.produced,
            StockDay.received,
            StockDay.dispatched,
            StockDay.fed,
            StockDay.adjustment,
            StockDay.closing,
        ).where(
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
def _dim_date_rows(first: date, last: date, fiscal_start: int) -> Iterator[tuple[Any, ...]]:
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


# ----------------------------------------------------------------------- writing the files
class _Plan:
    """Which files this refresh wants, which of them must be recomputed, and the results."""

    def __init__(self, folder: Path, old: dict[str, dict[str, Any]]) -> None:
        self.folder = folder
        self.old = old
        self.prints: dict[str, str] = {}
        self.meta: dict[str, tuple[str, str]] = {}
        self.dirty: set[str] = set()
        self.results: dict[str, PowerBiFile] = {}

    def want(self, path: str, table: str, month: str, fingerprint: str) -> bool:
        """Register ``path``; True when it must be recomputed (new fingerprint, or the file on
        disk is not the one the manifest describes)."""
        self.prints[path] = fingerprint
        self.meta[path] = (table, month)
        known = self.old.get(path)
        on_disk = self.folder / path
        if (
            known is not None
            and known.get("fingerprint") == fingerprint
            and on_disk.is_file()
            and on_disk.stat().st_size == known.get("size")
        ):
            self.results[path] = PowerBiFile(
                path, table, month, int(known["rows"]), int(known["size"]), known["sha256"], False
            )
            return False
        self.dirty.add(path)
        return True

    def write(self, path: str, header: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> None:
        """Serialise and write ``path`` if its bytes differ from the file on disk."""
        data = _csv_bytes(header, rows)
        sha = hashlib.sha256(data).hexdigest()
        target = self.folder / path
        rewritten = _sha_of(target) != sha
        if rewritten:
            replace_file(target, data)
        table, month = self.meta[path]
        self.results[path] = PowerBiFile(path, table, month, len(rows), len(data), sha, rewritten)

    def dimension(
        self, table: str, header: Sequence[str], rows: Iterator[tuple[Any, ...]], fingerprint: str
    ) -> None:
        path = f"{table}/{table}.csv"
        self.want(path, table, "", fingerprint)
        self.dirty.discard(path)
        self.write(path, header, list(rows))

    def finish(self) -> tuple[PowerBiFile, ...]:
        missing = self.dirty - self.results.keys()
        assert not missing, f"dirty files never written: {sorted(missing)}"
        return tuple(self.results[p] for p in sorted(self.results))


def _csv_bytes(header: Sequence[str], rows: Sequence[tuple[Any, ...]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def _sha_of(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            return hashlib.file_digest(handle, "sha256").hexdigest()
    except FileNotFoundError:
        return None


def _read_manifest(folder: Path) -> dict[str, Any]:
    try:
        loaded = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return loaded if isinstance(loaded, dict) else {}


def _files_from(manifest: dict[str, Any]) -> tuple[PowerBiFile, ...]:
    return tuple(
        PowerBiFile(
            path,
            entry["table"],
            entry["month"],
            entry["rows"],
            entry["size"],
            entry["sha256"],
            False,
        )
        for path, entry in sorted(manifest.get("files", {}).items())
    )


def _json_bytes(value: object) -> bytes:
    return (json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()


def _digest(value: object) -> str:
    return hashlib.sha256(json.dumps(value, sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------- values
def _movement_path(month: str) -> str:
    return f"fact_movements/fact_movements_{month}.csv"


def _stock_path(month: str) -> str:
    return f"fact_stock_daily/fact_stock_daily_{month}.csv"


def _month_start(month: str | date) -> date:
    if isinstance(month, date):
        return month.replace(day=1)
    return date(int(month[:4]), int(month[5:7]), 1)


def _month_end(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)


def _date_key(day: date) -> int:
    return day.year * 10000 + day.month * 100 + day.day


def _optional_date(text_value: object) -> date | None:
    return date.fromisoformat(str(text_value)) if text_value else None


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
