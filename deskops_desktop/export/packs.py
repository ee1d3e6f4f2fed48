"""Running a report pack: one folder per period, every file reproducible, a manifest, the audit.

``run_pack(services, actor, name, as_of=None, progress=None)`` is a plain function (Orange's
``run(params, progress)`` shape): the command line and the OS task call it in the foreground, the
desktop app on its export thread pool with a ``Progress`` that feeds the dock. It:

1. resolves the pack's period rule against ``as_of`` (default: today in the pack's time zone,
   from the store's clock) and refuses a period that has not ended yet;
2. builds every report of every site in every format into a hidden staging folder beside
   ``<destination>/<pack>/<period>/``, through the same ``build_table`` and writers as an
   interactive export, each file published atomically;
3. refreshes the pack's Power BI folder when it has one (``powerbi_folder``);
4. writes ``manifest.json`` (each file's sha256, size, record count, site, period and the DeskOps
   version) and swaps the staging folder in (``folders.swap_in``): a killed run leaves the
   previous folder as it was;
5. records the run on the pack and one export-audit row per file (``PackService.finish_run``).

Reproducible: the files of one pack and period are byte-identical from run to run while the
records are unchanged. Rows are in a stable order, and every table is stamped with the period's
end (midnight after its last day, in the pack's time zone) and "DeskOps report pack NAME" instead
of the clock and the signed-in user (``ExportTable.reproducible``); the writers then fix what
their formats store (xlsx core properties and zip times, the pdf CreationDate and ID). The
manifest holds no time either, so it is identical too.
"""

from __future__ import annotations

import errno
import json
import logging
import shutil
import time
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from deskops_desktop import __version__
from deskops_desktop.export.files import export_filename, safe_filename
from deskops_desktop.export.folders import recover, replace_file, staging_folder, swap_in
from deskops_desktop.export.jobs import CANCELLED, describe_failure, writer_for
from deskops_desktop.export.powerbi_folder import FOLDER, PowerBiResult, refresh_powerbi_folder
from deskops_desktop.export.powerbi_folder import MANIFEST as POWERBI_MANIFEST
from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import ExportQuery, Flavour
from deskops_desktop.models.enums import ExportFormat, Granularity, Module
from deskops_desktop.models.errors import PermissionDenied, Problem, ValidationError
from deskops_desktop.models.pack_rules import Period
from deskops_desktop.models.progress import Cancelled, NullProgress, Progress
from deskops_desktop.services.access import Actor, require_admin
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.packs import AuditFile, PackInfo, RunRecord
from deskops_desktop.services.reference import SiteInfo

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"
MANIFEST_VERSION = 1


@dataclass(frozen=True, slots=True)
class PackFile:
    """One data file of a run (``path`` relative to the run folder, ``/``-separated)."""

    path: str
    site_id: str
    site_code: str
    report: str
    module: Module
    granularity: Granularity
    format: ExportFormat
    records: int
    size_bytes: int
    sha256: str


@dataclass(frozen=True)
class PackRun:
    """A completed run: its folder, files, Power BI refresh, and how long it took."""

    run_id: str
    pack: str
    period: Period
    folder: Path
    files: tuple[PackFile, ...]
    powerbi: PowerBiResult | None
    seconds: float

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


def run_pack(
    services: Services,
    actor: Actor,
    name: str,
    *,
    as_of: date | None = None,
    progress: Progress | None = None,
) -> PackRun:
    """Build pack ``name`` for the period its rule gives on ``as_of`` (see the module doc).

    Raises ``ValidationError`` for a period that has not ended, ``PermissionDenied`` for a
    non-administrator, ``Cancelled`` when ``progress`` asked to stop; any failure after the run
    began is also recorded on the pack (its Settings line shows it) before it propagates.
    """
    outer = progress or NullProgress()
    require_admin(actor, "run report packs")
    pack = services.packs.pack(actor, name)
    today = services.store.clock.today(pack.timezone)
    period = pack.period_on(as_of or today)
    if period.date_to >= today:
        raise ValidationError(
            [
                Problem(
                    "as_of",
                    f"the period {period.label} ends {period.date_to}, which is not over yet"
                    f" (today is {today} in {pack.timezone})",
                )
            ]
        )
    sites = _sites(services, actor, pack)
    run_id = services.packs.start_run(actor, pack.name, period.label).value
    started = time.perf_counter()
    try:
        run = _build(services, actor, pack, period, sites, outer)
    except BaseException as exc:
        message = CANCELLED if isinstance(exc, Cancelled) else _describe(exc)
        try:
            services.packs.finish_run(
                actor, pack.name, RunRecord(run_id, False, period.label, message)
            )
        except Exception:  # the store went away too: the original error is what matters
            log.exception("could not record the failed run of pack %s", pack.name)
        raise
    seconds = time.perf_counter() - started
    record = RunRecord(
        run_id,
        True,
        period.label,
        message=f"{len(run.files)} files, {run.size_bytes:,} bytes in {seconds:.1f} s",
        folder=str(run.folder),
        files=_audit_files(run),
    )
    services.packs.finish_run(actor, pack.name, record)
    outer.set_progress(100)
    return PackRun(run_id, pack.name, period, run.folder, run.files, run.powerbi, seconds)


@dataclass(frozen=True)
class _Built:
    """What ``_build`` made; ``run_pack`` adds the run's id, record and duration."""

    folder: Path
    files: tuple[PackFile, ...]
    powerbi: PowerBiResult | None

    @property
    def size_bytes(self) -> int:
        return sum(f.size_bytes for f in self.files)


def _sites(services: Services, actor: Actor, pack: PackInfo) -> list[SiteInfo]:
    """The pack's sites by code: every active site, or the listed ones (inactive included —
    an admin named them)."""
    if pack.all_sites:
        return services.master.sites(actor)
    every = {s.id: s for s in services.master.sites(actor, include_inactive=True)}
    missing = [
        code for sid, code in zip(pack.site_ids, pack.site_codes, strict=True) if sid not in every
    ]
    if missing:
        raise PermissionDenied(f"the pack names sites you may not see: {', '.join(missing)}")
    return sorted((every[s] for s in pack.site_ids), key=lambda s: s.code)


def as_of_moment(period: Period, timezone: str) -> datetime:
    """The moment a reproducible file is stamped with: midnight after the period's last day in
    the pack's time zone (what "as of" means for a report of that period)."""
    end = datetime.combine(period.date_to + timedelta(days=1), day_time(0), ZoneInfo(timezone))
    return end.astimezone(UTC)


def _build(
    services: Services,
    actor: Actor,
    pack: PackInfo,
    period: Period,
    sites: list[SiteInfo],
    progress: Progress,
) -> _Built:
    final = pack.folder / safe_filename(period.label)
    if final.exists() and not final.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "is a file, not the pack's folder", str(final))
    recover(final)
    staged = staging_folder(final)
    try:
        files = _write_reports(services, actor, pack, period, sites, staged, progress)
        powerbi = None
        if pack.powerbi:
            share = _Slice(progress, 80, 98)
            powerbi = refresh_powerbi_folder(
                services,
                pack.folder / FOLDER,
                pack.name,
                sites,
                pack.fiscal_year_start,
                period.date_to,
                share,
            )
        if progress.is_cancelled():
            raise Cancelled()
        manifest = _manifest(pack, period, sites, files, powerbi)
        replace_file(staged / MANIFEST, manifest)
        swap_in(staged, final)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return _Built(final, files, powerbi)


def _write_reports(
    services: Services,
    actor: Actor,
    pack: PackInfo,
    period: Period,
    sites: list[SiteInfo],
    staged: Path,
    progress: Progress,
) -> tuple[PackFile, ...]:
    jobs = [(s, spec, fmt) for s in sites for spec in pack.reports for fmt in pack.formats]
    end = 80 if pack.powerbi else 98
    stamp = as_of_moment(period, pack.timezone)
    by = f"DeskOps report pack {pack.name}"
    files: list[PackFile] = []
    for n, (site, spec, fmt) in enumerate(jobs):
        share = _Slice(progress, n * end // len(jobs), (n + 1) * end // len(jobs))
        progress.set_status(f"{site.code}: {spec.module.heading} ({fmt.value})")
        flavour = Flavour.of(fmt)
        query = ExportQuery(
            spec.module, site.id, period.date_from, period.date_to, spec.granularity
        )
        table = build_table(services, actor, query, flavour).reproducible(stamp, by)
        name = export_filename(
            site.code,
            spec.module.heading,
            spec.granularity.value,
            period.date_from,
            period.date_to,
            fmt.extension,
        )
        if fmt is ExportFormat.POWERBI:
            name = name.removesuffix(".csv") + " powerbi.csv"
        folder = safe_filename(site.code)
        result = writer_for(fmt)(table, staged / folder / name, share)
        files.append(
            PackFile(
                path=f"{folder}/{result.path.name}",
                site_id=site.id,
                site_code=site.code,
                report=spec.key,
                module=spec.module,
                granularity=spec.granularity,
                format=fmt,
                records=result.record_count,
                size_bytes=result.size_bytes,
                sha256=result.sha256,
            )
        )
    return tuple(files)


def _manifest(
    pack: PackInfo,
    period: Period,
    sites: list[SiteInfo],
    files: tuple[PackFile, ...],
    powerbi: PowerBiResult | None,
) -> bytes:
    """The run's manifest: what is in the folder, no time of the run (it is reproducible)."""
    body: dict[str, Any] = {
        "format": "deskops-report-pack",
        "manifest_version": MANIFEST_VERSION,
        "deskops_version": __version__,
        "pack": pack.name,
        "period": {
            "rule": period.rule.value,
            "label": period.label,
            "from": period.date_from.isoformat(),
            "to": period.date_to.isoformat(),
        },
        "timezone": pack.timezone,
        "sites": [{"code": s.code, "name": s.name, "timezone": s.timezone} for s in sites],
        "reports": [spec.key for spec in pack.reports],
        "formats": [fmt.value for fmt in pack.formats],
        "files": [
            {
                "path": f.path,
                "sha256": f.sha256,
                "size": f.size_bytes,
                "records": f.records,
                "site": f.site_code,
                "report": f.report,
                "module": f.module.value,
                "granularity": f.granularity.value,
                "format": f.format.value,
                "period": {"from": period.date_from.isoformat(), "to": period.date_to.isoformat()},
                "deskops_version": __version__,
            }
            for f in files
        ],
        "powerbi": None,
    }
    if powerbi is not None:
        body["powerbi"] = {
            "folder": f"../{FOLDER}",
            "manifest": f"../{FOLDER}/{POWERBI_MANIFEST}",
            "covers": {
                "from": powerbi.date_from.isoformat() if powerbi.date_from else None,
                "to": powerbi.date_to.isoformat(),
            },
            "skipped": powerbi.skipped or None,
        }
    return (json.dumps(body, indent=2, ensure_ascii=False) + "\n").encode("utf-8")


def _audit_files(run: _Built) -> list[AuditFile]:
    out = [
        AuditFile(
            site_id=f.site_id,
            module=f.module.value,
            format=f.format.value,
            record_count=f.records,
            size_bytes=f.size_bytes,
            sha256=f.sha256,
            filters={"file": f.path, "report": f.report, "granularity": f.granularity.value},
        )
        for f in run.files
    ]
    if run.powerbi is not None:
        out += [
            AuditFile(
                site_id=None,
                module=f.table,
                format=ExportFormat.POWERBI.value,
                record_count=f.rows,
                size_bytes=f.size_bytes,
                sha256=f.sha256,
                filters={"file": f"{FOLDER}/{f.path}", "month": f.month},
            )
            for f in run.powerbi.rewritten
        ]
    return out


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        return "; ".join(str(p) for p in exc.problems)
    return describe_failure(exc)


class _Slice:
    """A share ``[start, end]`` of the caller's 0-100 progress (never going down)."""

    def __init__(self, outer: Progress, start: int, end: int) -> None:
        self._outer = outer
        self._start = start
        self._end = max(end, start)

    def set_progress(self, percent: int) -> None:
        span = self._end - self._start
        self._outer.set_progress(self._start + span * max(0, min(percent, 100)) // 100)

    def set_status(self, text: str) -> None:
        self._outer.set_status(text)

    def is_cancelled(self) -> bool:
        return self._outer.is_cancelled()
