"""Report packs: define, list, remove, schedule, and the record of each run.

The pack *run* (reading the reports, writing the folder, the manifest and the Power BI feed)
lives in ``export.packs`` because it uses the writers, which sit above the services; this
service keeps the definitions and what the runs did, so the Settings page, the command line and
the scheduler all read one truth.

Who may do what: administrators define, remove, schedule and run packs (a pack spans sites and,
with a Power BI folder, the whole history — head office's business); everyone signed in may list
them (a clerk's Settings page can show that head office receives a nightly pack). On a secured
PostgreSQL store the server enforces the same (``pg_security``: ``report_packs`` is admin-written
master data).

How the app runs a due pack (while it is open): ``due(actor, local_now)`` lists the scheduled
packs whose latest scheduled moment has passed since their last run started; the app hands each
to ``export.packs.run_pack`` on its export thread pool with a ``Progress``. The operating-system
task (``pack_schedule``) runs the same function through ``deskops pack run``; a run marks itself
``running`` first, so the app does not start a pack an OS task is already building.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from deskops_desktop.models import reference_data as ref
from deskops_desktop.models.enums import ExportFormat
from deskops_desktop.models.errors import NotFound, Problem, ValidationError
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.jobs import ExportAudit
from deskops_desktop.models.pack_rules import (
    Period,
    PeriodRule,
    ReportSpec,
    name_problem,
    parse_formats,
    parse_reports,
    period_for,
)
from deskops_desktop.models.packs import RUN_COMPLETED, RUN_FAILED, RUN_RUNNING, ReportPack
from deskops_desktop.models.reference import Site
from deskops_desktop.services.access import Actor, require_admin
from deskops_desktop.services.audit import log_change
from deskops_desktop.services.changes import Area, Changed, ChangeSet
from deskops_desktop.services.store import StoreService

PACKS_CHANGED = ChangeSet(frozenset({Area.PACKS}))
RUN_RECORDED = ChangeSet(frozenset({Area.PACKS, Area.EXPORTS}))
STALE_RUN = timedelta(hours=6)
"""A run still marked ``running`` after this long died without saying so (a killed process);
the pack is due again."""


@dataclass(frozen=True)
class PackSchedule:
    """Where and when an operating-system task runs the pack (``daily_at`` is that computer's
    local time); ``run_as`` is the user whose keyring sign-in it uses."""

    daily_at: time
    kind: str
    host: str
    run_as: str

    @property
    def label(self) -> str:
        return f"daily at {self.daily_at:%H:%M} on {self.host} ({self.kind}, as {self.run_as})"


# The columns of ``PackInfo.cells`` but the last run's, which each list names in its own words.
PACK_COLUMNS = ("Pack", "Sites", "Reports", "Formats", "Period", "Folder", "Schedule", "Next")


@dataclass(frozen=True)
class LastRun:
    """What the latest run of a pack did (``status``: running, completed or failed)."""

    status: str
    started_at: datetime | None
    finished_at: datetime | None
    period: str
    message: str
    files: int | None
    size_bytes: int | None
    folder: str

    @property
    def ok(self) -> bool:
        return self.status == RUN_COMPLETED

    def summary(self) -> str:
        """ "completed 2026-11 2026-12-01 02:00" (this computer's time): the pack lists say it."""
        when = self.finished_at or self.started_at
        stamp = f" {when.astimezone():%Y-%m-%d %H:%M}" if when is not None else ""
        return f"{self.status} {self.period}{stamp}".strip()


@dataclass(frozen=True)
class PackInfo:
    """A pack as every caller sees it (a value, safe across threads)."""

    id: str
    name: str
    all_sites: bool
    site_ids: tuple[str, ...]
    site_codes: tuple[str, ...]
    reports: tuple[ReportSpec, ...]
    formats: tuple[ExportFormat, ...]
    period: PeriodRule
    destination: str
    powerbi: bool
    timezone: str
    fiscal_year_start: int
    schedule: PackSchedule | None = None
    last_run: LastRun | None = None

    @property
    def folder(self) -> Path:
        """``<destination>/<name>``: the run folders and the Power BI folder live here."""
        return Path(self.destination) / self.name

    @property
    def sites_label(self) -> str:
        return "all sites" if self.all_sites else ", ".join(self.site_codes)

    def period_on(self, today: date) -> Period:
        """The period a run for ``today`` (in the pack's time zone) covers."""
        return period_for(self.period, today)

    def next_run(self, local_now: datetime) -> datetime | None:
        """The next scheduled moment after ``local_now`` (naive, this computer's time)."""
        if self.schedule is None:
            return None
        at = datetime.combine(local_now.date(), self.schedule.daily_at)
        return at if at > local_now else at + timedelta(days=1)

    def cells(
        self, local_now: datetime, *, powerbi: str, unscheduled: str, last_run: str
    ) -> tuple[str, ...]:
        """The pack's line in ``deskops pack list`` and Settings → Reports (each its own words)."""
        following = self.next_run(local_now)
        return (
            self.name,
            self.sites_label,
            ", ".join(spec.key for spec in self.reports),
            ", ".join(f.value for f in self.formats) + (powerbi if self.powerbi else ""),
            self.period.value,
            str(self.folder),
            self.schedule.label if self.schedule else unscheduled,
            f"{following:%Y-%m-%d %H:%M}" if following else "",
            last_run,
        )

    def is_due(self, local_now: datetime) -> bool:
        """Scheduled, its latest scheduled moment has passed, and no run began since (a run
        still ``running`` counts as begun unless it is older than ``STALE_RUN``)."""
        if self.schedule is None:
            return False
        latest = datetime.combine(local_now.date(), self.schedule.daily_at)
        if latest > local_now:
            latest -= timedelta(days=1)
        run = self.last_run
        if run is None or run.started_at is None:
            return True
        started = run.started_at.astimezone().replace(tzinfo=None)
        if run.status == RUN_RUNNING and local_now - started < STALE_RUN:
            return False
        return started < latest


@dataclass(frozen=True)
class AuditFile:
    """One file a run wrote, as the export audit keeps it (``site_id`` None: company-wide)."""

    site_id: str | None
    module: str
    format: str
    record_count: int
    size_bytes: int
    sha256: str
    filters: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class RunRecord:
    """What ``finish_run`` stores: the outcome and, for a completed run, every file."""

    run_id: str
    ok: bool
    period: str
    message: str = ""
    folder: str = ""
    files: Sequence[AuditFile] = ()


class PackService(StoreService):
    """Definitions, schedules and run records of report packs (see the module docstring)."""

    # ------------------------------------------------------------------ definitions
    def define(
        self,
        actor: Actor,
        name: str,
        *,
        sites: Sequence[str] | None,
        reports: Sequence[str],
        formats: Sequence[str],
        period: str,
        destination: str,
        powerbi: bool = False,
        timezone: str | None = None,
        fiscal_year_start: int = 1,
        replace: bool = False,
    ) -> Changed[PackInfo]:
        """Add a pack (or, with ``replace``, redefine one, keeping its schedule and last run).

        ``sites`` None means every active site at run time; otherwise site codes.
        """
        require_admin(actor, "define report packs")
        clean = name.strip()
        problems: list[Problem] = []
        why = name_problem(clean)
        if why:
            problems.append(Problem("name", why))
        specs, more = parse_reports(reports)
        problems += more
        kinds, more = parse_formats(formats)
        problems += more
        rule = _period_rule(period, problems)
        folder = _destination(destination, problems)
        if not 1 <= fiscal_year_start <= 12:
            problems.append(Problem("fiscal_year_start", "must be a month number, 1 to 12"))
        with self._store.write() as session:
            site_ids, site_zone = _resolve_sites(session, sites, problems)
            zone = (timezone or "").strip() or site_zone or ref.DEFAULT_TIMEZONE
            try:
                ZoneInfo(zone)
            except (ZoneInfoNotFoundError, ValueError):
                problems.append(Problem("timezone", f"'{zone}' is not an IANA time zone"))
            existing = session.scalar(
                select(ReportPack).where(func.lower(ReportPack.name) == clean.lower())
            )
            if existing is not None and not replace:
                problems.append(
                    Problem(
                        "name", f"a pack named {existing.name} already exists (remove it first)"
                    )
                )
            if problems:
                raise ValidationError(problems)
            values: dict[str, Any] = {
                "name": clean,
                "all_sites": sites is None,
                "site_ids": site_ids,
                "reports": [s.key for s in specs],
                "formats": [f.value for f in kinds],
                "period": rule.value,
                "destination": folder,
                "powerbi": powerbi,
                "timezone": zone,
                "fiscal_year_start": fiscal_year_start,
            }
            if existing is None:
                pack = ReportPack(**values, created_by=actor.user_id)
                session.add(pack)
                session.flush()
                log_change(session, actor, "report_packs", pack.id, "INSERT", None, values)
            else:
                pack = existing
                old = {key: getattr(pack, key) for key in values}
                for key, value in values.items():
                    setattr(pack, key, value)
                session.flush()
                log_change(session, actor, "report_packs", pack.id, "UPDATE", old, values)
            return Changed(_info(session, pack), PACKS_CHANGED)

    def packs(self, actor: Actor) -> list[PackInfo]:
        """Every pack, by name (anyone signed in may see what head office receives)."""
        del actor  # readable by every role; kept for the uniform service signature
        with self._store.read() as session:
            rows = session.scalars(select(ReportPack).order_by(func.lower(ReportPack.name)))
            codes = _site_codes(session)
            return [_info(session, pack, codes) for pack in rows]

    def pack(self, actor: Actor, name: str) -> PackInfo:
        del actor
        with self._store.read() as session:
            return _info(session, _find(session, name))

    def remove(self, actor: Actor, name: str) -> Changed[None]:
        """Delete a pack's definition (its files and audit rows stay)."""
        require_admin(actor, "remove report packs")
        with self._store.write() as session:
            pack = _find(session, name)
            log_change(session, actor, "report_packs", pack.id, "DELETE", {"name": pack.name}, None)
            session.delete(pack)
        return Changed(None, PACKS_CHANGED)

    # --------------------------------------------------------------------- schedule
    def set_schedule(
        self, actor: Actor, name: str, daily_at: time, *, kind: str, host: str, run_as: str
    ) -> Changed[PackInfo]:
        """Record that an OS task (``kind`` on ``host``) now runs the pack daily at ``daily_at``."""
        require_admin(actor, "schedule report packs")
        with self._store.write() as session:
            pack = _find(session, name)
            old = _schedule_values(pack)
            pack.schedule_time = f"{daily_at:%H:%M}"
            pack.schedule_kind = kind
            pack.schedule_host = host[:200]
            pack.run_as = run_as
            log_change(
                session, actor, "report_packs", pack.id, "UPDATE", old, _schedule_values(pack)
            )
            return Changed(_info(session, pack), PACKS_CHANGED)

    def clear_schedule(self, actor: Actor, name: str) -> Changed[PackInfo]:
        require_admin(actor, "unschedule report packs")
        with self._store.write() as session:
            pack = _find(session, name)
            old = _schedule_values(pack)
            pack.schedule_time = pack.schedule_kind = pack.schedule_host = pack.run_as = ""
            log_change(
                session, actor, "report_packs", pack.id, "UPDATE", old, _schedule_values(pack)
            )
            return Changed(_info(session, pack), PACKS_CHANGED)

    def due(self, actor: Actor, local_now: datetime | None = None) -> list[PackInfo]:
        """The scheduled packs a running app should build now (``PackInfo.is_due``)."""
        now = local_now or self._store.clock.local_now()
        return [p for p in self.packs(actor) if p.is_due(now)]

    # ------------------------------------------------------------------------- runs
    def start_run(self, actor: Actor, name: str, period: str) -> Changed[str]:
        """Mark the pack ``running`` for ``period``; returns the run's id (the audit rows'
        ``job_id``)."""
        require_admin(actor, "run report packs")
        with self._store.write() as session:
            pack = _find(session, name)
            pack.last_run_started_at = self._now()
            pack.last_run_at = None
            pack.last_run_status = RUN_RUNNING
            pack.last_run_period = period
            pack.last_run_message = ""
            pack.last_run_files = pack.last_run_bytes = None
        return Changed(new_id(), PACKS_CHANGED)

    def finish_run(self, actor: Actor, name: str, run: RunRecord) -> Changed[PackInfo]:
        """Store the outcome of a run, and for a completed one an audit row per file."""
        require_admin(actor, "run report packs")
        now = self._now()
        assert actor.user_id is not None or not run.files, "audit rows need a signed-in user"
        with self._store.write() as session:
            pack = _find(session, name)
            pack.last_run_at = now
            pack.last_run_status = RUN_COMPLETED if run.ok else RUN_FAILED
            pack.last_run_period = run.period
            pack.last_run_message = run.message[:2000]
            pack.last_run_folder = run.folder
            if run.ok:
                pack.last_run_files = len(run.files)
                pack.last_run_bytes = sum(f.size_bytes for f in run.files)
            for file in run.files if run.ok else ():
                session.add(
                    ExportAudit(
                        job_id=run.run_id,
                        user_id=actor.user_id,
                        site_id=file.site_id,
                        module=file.module,
                        format=file.format,
                        filters={"pack": pack.name, "period": run.period, **file.filters},
                        record_count=file.record_count,
                        size_bytes=file.size_bytes,
                        sha256=file.sha256,
                        created_at=now,
                    )
                )
            session.flush()
            return Changed(_info(session, pack), RUN_RECORDED)


# --------------------------------------------------------------------------- helpers
def _period_rule(text: str, problems: list[Problem]) -> PeriodRule:
    try:
        return PeriodRule(text.strip().lower())
    except ValueError:
        choices = ", ".join(r.value for r in PeriodRule)
        problems.append(Problem("period", f"unknown period '{text}'; choose from {choices}"))
        return PeriodRule.YESTERDAY


def _destination(text: str, problems: list[Problem]) -> str:
    if not text.strip():
        problems.append(Problem("destination", "choose a folder"))
        return ""
    folder = Path(text.strip()).expanduser()
    if not folder.is_absolute():
        problems.append(Problem("destination", "must be a full folder path"))
    elif folder.exists() and not folder.is_dir():
        problems.append(Problem("destination", "is a file, not a folder"))
    return str(folder)


def _resolve_sites(
    session: Session, codes: Sequence[str] | None, problems: list[Problem]
) -> tuple[list[str], str | None]:
    """Site codes -> ids (in the given order) and the first site's time zone."""
    if codes is None:
        first = session.scalar(select(Site.timezone).where(Site.active).order_by(Site.code))
        return [], first
    ids: list[str] = []
    zone: str | None = None
    for code in codes:
        site = session.scalar(select(Site).where(func.upper(Site.code) == code.strip().upper()))
        if site is None:
            problems.append(Problem("sites", f"unknown site '{code}'"))
        elif site.id not in ids:
            ids.append(site.id)
            zone = zone or site.timezone
    if not ids and not problems:
        problems.append(Problem("sites", "choose at least one site, or all"))
    return ids, zone


def _find(session: Session, name: str) -> ReportPack:
    pack = session.scalar(
        select(ReportPack).where(func.lower(ReportPack.name) == name.strip().lower())
    )
    if pack is None:
        raise NotFound(f"no report pack named '{name}' ('deskops pack list' shows them)")
    return pack


def _site_codes(session: Session) -> dict[str, str]:
    return {site_id: code for site_id, code in session.execute(select(Site.id, Site.code))}


def _schedule_values(pack: ReportPack) -> dict[str, object]:
    return {
        "schedule_time": pack.schedule_time,
        "schedule_kind": pack.schedule_kind,
        "schedule_host": pack.schedule_host,
        "run_as": pack.run_as,
    }


def _info(session: Session, pack: ReportPack, codes: dict[str, str] | None = None) -> PackInfo:
    codes = codes if codes is not None else _site_codes(session)
    specs, _ = parse_reports(pack.reports)
    kinds, _ = parse_formats(pack.formats)
    schedule = None
    if pack.schedule_time:
        hour, minute = (int(part) for part in pack.schedule_time.split(":"))
        schedule = PackSchedule(
            time(hour, minute), pack.schedule_kind, pack.schedule_host, pack.run_as
        )
    last = None
    if pack.last_run_status:
        last = LastRun(
            status=pack.last_run_status,
            started_at=pack.last_run_started_at,
            finished_at=pack.last_run_at,
            period=pack.last_run_period,
            message=pack.last_run_message,
            files=pack.last_run_files,
            size_bytes=pack.last_run_bytes,
            folder=pack.last_run_folder,
        )
    site_ids = tuple(pack.site_ids or ())
    return PackInfo(
        id=pack.id,
        name=pack.name,
        all_sites=pack.all_sites,
        site_ids=site_ids,
        site_codes=tuple(codes.get(s, "?") for s in site_ids),
        reports=specs,
        formats=kinds,
        period=PeriodRule(pack.period),
        destination=pack.destination,
        powerbi=pack.powerbi,
        timezone=pack.timezone,
        fiscal_year_start=pack.fiscal_year_start,
        schedule=schedule,
        last_run=last,
    )
