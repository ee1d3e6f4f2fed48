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

This module decides what to (re)write and writes it; ``powerbi_tables`` makes the rows.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from deskops_desktop import __version__
from deskops_desktop.export.folders import replace_file
from deskops_desktop.export.powerbi_tables import (
    DIM_DATE,
    DIM_MATERIAL,
    DIM_SITE,
    FACT_MOVEMENTS,
    FACT_STOCK,
    MOVEMENTS,
    Balances,
    Catalogue,
    dim_date_rows,
    month_end,
    month_start,
    movement_rows,
    stock_rows,
    surrogate_key,
)
from deskops_desktop.export.progress import ExportCancelled
from deskops_desktop.models.progress import Progress
from deskops_desktop.models.reference import ConversionFactor, Site
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.reference import SiteInfo

__all__ = [
    "FOLDER",
    "MANIFEST",
    "PowerBiFile",
    "PowerBiResult",
    "refresh_powerbi_folder",
    "surrogate_key",
]

FEED_FORMAT = 1
"""Bumped when a column changes: the next run then rewrites every file (it is in the basis)."""
FOLDER = "powerbi"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class PowerBiResult:
    """What a refresh did; ``skipped`` says why nothing was touched (the folder already covers
    a later period than this run's); ``removed`` lists the files of months that have gone."""

    folder: Path
    files: tuple[PowerBiFile, ...]
    date_from: date | None
    date_to: date
    skipped: str = ""
    removed: tuple[str, ...] = ()

    @property
    def rewritten(self) -> tuple[PowerBiFile, ...]:
        return tuple(f for f in self.files if f.rewritten)


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
        catalogue = Catalogue.read(session, ordered)
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
                rows = movement_rows(session, catalogue, month, last_day)
                plan.write(path, FACT_MOVEMENTS, rows)
        if stock_dirty_from is not None:
            first_month = months[stock_dirty_from][0]
            balances = Balances.before(session, catalogue, month_start(first_month))
            for month, last_day in months[stock_dirty_from:]:
                step(f"Power BI: stock {month}")
                rows = stock_rows(session, catalogue, balances, month, last_day)
                path = _stock_path(month)
                if path in plan.dirty:
                    plan.write(path, FACT_STOCK, rows)
    step("Power BI: dimensions")
    first = month_start(months[0][0]) if months else None
    plan.dimension("dim_site", DIM_SITE, catalogue.site_rows(), basis)
    plan.dimension("dim_material", DIM_MATERIAL, catalogue.material_rows(), basis)
    last = month_end(up_to)
    days = dim_date_rows(first, last, fiscal_year_start) if first else iter(())
    plan.dimension("dim_date", DIM_DATE, days, _digest([basis, str(first), last.isoformat()]))
    files = plan.finish()
    # A month that no longer has a file in the plan (its records were all deleted, so the feed
    # now starts later) must not linger: the Folder connector would still read it.
    removed = sorted(set(previous.get("files", {})) - {f.path for f in files})
    for path in removed:
        (folder / path).unlink(missing_ok=True)
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
            "removed": removed,
        },
    }
    replace_file(folder / MANIFEST, _json_bytes(manifest))
    progress.set_progress(100)
    return PowerBiResult(folder, files, first, up_to, removed=tuple(removed))


# ------------------------------------------------------------------------ fingerprints
def _basis(session: Session, catalogue: Catalogue, pack: str, fiscal_year_start: int) -> str:
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
    session: Session, catalogue: Catalogue, up_to: date
) -> dict[str, list[list[str]]]:
    """month -> [[table, site, count, quantity sum, latest update], ...] up to ``up_to``."""
    out: dict[str, list[list[str]]] = {}
    for module, table, _sign in MOVEMENTS:
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
    first = month_start(min(prints))
    out: list[tuple[str, date]] = []
    day = first
    while day <= up_to:
        key = f"{day:%Y-%m}"
        out.append((key, min(month_end(day), up_to)))
        day = month_end(day) + timedelta(days=1)
    return out


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


def _optional_date(text_value: object) -> date | None:
    return date.fromisoformat(str(text_value)) if text_value else None
