"""The export job lifecycle: limits, run, complete, fail, cancel, retry, recovery, cleanup.

A job is a row in ``export_jobs`` that moves ``pending -> processing -> completed | failed`` with
a progress of 0–100 that ``run`` persists as rows are written. The desktop queues jobs on a
``QThreadPool`` (``views.export_runner``); the command line runs one in the foreground. Both
call the same ``run(job_id, progress)``, a plain function of this Qt-free service.

Invariants a newcomer must not break:
- **Limits are enforced here**, not by the dialog: at most ``MAX_ACTIVE_JOBS`` pending or
  processing jobs per user (checked and inserted in one write transaction that serialises on
  the user's row), and the role's range limit measured as ``date_to - date_from`` in days
  (OPERATOR own sites ≤ 30, MODERATOR assigned sites ≤ 90, ADMIN any site ≤ 365).
- **Each unit of work opens its own session** in the calling thread; ``run`` holds no session
  while writing (reads stream through their own, progress is saved in short writes), so a job on
  a pool thread never shares a session with the GUI thread.
- **Never half-written.** Writers publish atomically; a cancelled or failed job leaves no file.
- **Crashes do not leave zombies.** ``recover`` (called at start) marks a user's leftover
  ``processing``/``pending`` jobs failed with a reason; they can be retried.
- **Audit rows are never deleted.** ``cleanup`` removes expired files (24 h after completion)
  and their job rows; the ``export_audits`` row of every completed export stays, and "Open" /
  "Save as…" count as downloads on it.
- Files written by the command line (``keep=True``) never expire: scheduled Power BI feeds must
  not vanish the next time someone starts the desktop app.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import platformdirs
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from deskops_desktop.export.files import FileResult, export_filename, remove_quietly, safe_filename
from deskops_desktop.export.progress import ExportCancelled
from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import MATERIAL_MODULES, ExportQuery, ExportTable, Flavour
from deskops_desktop.models.accounts import User
from deskops_desktop.models.clock import Clock
from deskops_desktop.models.copying import from_attributes
from deskops_desktop.models.display import first_line
from deskops_desktop.models.enums import Category, ExportFormat, Granularity, Module, Role
from deskops_desktop.models.errors import (
    DeskOpsError,
    NotFound,
    PermissionDenied,
    Problem,
    ValidationError,
)
from deskops_desktop.models.jobs import (
    ACTIVE_JOB_STATES,
    JOB_COMPLETED,
    JOB_FAILED,
    JOB_PENDING,
    JOB_PROCESSING,
    ExportAudit,
    ExportJob,
)
from deskops_desktop.models.progress import NullProgress, Progress
from deskops_desktop.models.reference import Site
from deskops_desktop.models.validation import MIN_DATE
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.reference import site_info

log = logging.getLogger(__name__)

MAX_ACTIVE_JOBS = 5
FILE_LIFETIME = timedelta(hours=24)
ROLE_RANGE_DAYS: dict[Role, int] = {Role.OPERATOR: 30, Role.MODERATOR: 90, Role.ADMIN: 365}
CANCELLED = "Cancelled"
INTERRUPTED = "Interrupted: DeskOps closed while this export was running; retry it"
NOT_STARTED = "Not started: DeskOps closed before this export began; retry it"
PROGRESS_SAVE_SECONDS = 1.0
PROGRESS_SAVE_STEP = 5


class ExportRefused(DeskOpsError):
    """The export may not be queued now (too many active jobs); nothing was created."""


def default_destination() -> Path:
    """``Documents/DeskOps exports`` of the signed-in OS user (created when first used)."""
    return platformdirs.user_documents_path() / "DeskOps exports"


@dataclass(frozen=True)
class ExportRequest:
    """What the dialog or the command line asks for.

    ``destination`` is a folder; ``file_name`` (optional) replaces the generated name;
    ``keep`` marks files that never expire (command-line exports).
    """

    module: Module
    format: ExportFormat
    site_id: str
    date_from: date
    date_to: date
    granularity: Granularity = Granularity.DAILY
    destination: str = ""
    category: str | None = None
    file_name: str = ""
    keep: bool = False

    def query(self) -> ExportQuery:
        """The rows asked for: what ``build_table`` reads (the request's same-named fields)."""
        return from_attributes(ExportQuery, self)


@dataclass(frozen=True)
class JobInfo:
    """A job as the panel and the command line see it (a value, safe across threads)."""

    id: str
    user_id: str
    site_id: str
    site_code: str
    module: Module
    format: ExportFormat
    granularity: Granularity
    date_from: date
    date_to: date
    category: str | None
    destination: str
    status: str
    progress: int
    error: str
    file_path: str
    size_bytes: int | None
    sha256: str
    record_count: int | None
    created_at: datetime
    started_at: datetime | None
    completed_at: datetime | None
    expires_at: datetime | None
    download_count: int = 0
    last_download_at: datetime | None = None

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATES

    @property
    def is_cancelled(self) -> bool:
        return self.status == JOB_FAILED and self.error == CANCELLED

    @property
    def can_retry(self) -> bool:
        return self.status == JOB_FAILED

    @property
    def file_name(self) -> str:
        return Path(self.file_path).name if self.file_path else ""

    @property
    def label(self) -> str:
        """``Production · xlsx · ALASLA-29 · 2026-10-01 to 2026-10-31 (weekly)``."""
        fmt = "Power BI" if self.format is ExportFormat.POWERBI else self.format.value
        gran = "" if self.granularity is Granularity.DAILY else f" ({self.granularity.value})"
        return (
            f"{self.module.heading} · {fmt} · {self.site_code} · "
            f"{self.date_from.isoformat()} to {self.date_to.isoformat()}{gran}"
        )

    @property
    def status_text(self) -> str:
        if self.is_cancelled:
            return "Cancelled"
        return {
            JOB_PENDING: "Queued",
            JOB_PROCESSING: "Running",
            JOB_COMPLETED: "Completed",
            JOB_FAILED: "Failed",
        }.get(self.status, self.status)


Writer = Callable[[ExportTable, Path, Progress], FileResult]


def writer_for(fmt: ExportFormat) -> Writer:
    """The writer function of a format (imported lazily: reportlab is slow to import)."""
    if fmt is ExportFormat.XLSX:
        from deskops_desktop.export.xlsx_writer import write_xlsx

        return write_xlsx
    if fmt is ExportFormat.CSV:
        from deskops_desktop.export.csv_writer import write_csv

        return write_csv
    if fmt is ExportFormat.POWERBI:
        from deskops_desktop.export.powerbi_writer import write_powerbi_csv

        return write_powerbi_csv
    from deskops_desktop.export.pdf_writer import write_pdf

    return write_pdf


def range_limit_days(role: Role) -> int:
    return ROLE_RANGE_DAYS[role]


def limit_text(actor: Actor) -> str:
    """The rule in words, for the dialog ("Operators may export up to 30 days of their sites")."""
    days = range_limit_days(actor.role)
    if actor.role is Role.ADMIN:
        return f"Administrators may export up to {days} days of any site."
    who = "Operators" if actor.role is Role.OPERATOR else "Supervisors"
    return f"{who} may export up to {days} days of their assigned sites."


class ExportJobService:
    """Create, run and keep track of export jobs over one store (see the module docstring)."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._store = services.store
        self._now = services.store.clock.now

    @property
    def clock(self) -> Clock:
        """The store's clock: the dialog proposes ranges ending "today" by it."""
        return self._store.clock

    # ------------------------------------------------------------------ checking
    def check(self, actor: Actor, request: ExportRequest) -> None:
        """Raise ``ValidationError`` with every problem of ``request`` (fields as the dialog's).

        Fields: ``module``, ``format``, ``granularity``, ``site``, ``date_from``, ``date_to``,
        ``category``, ``destination``.
        """
        problems: list[Problem] = []
        if actor.user_id is None:
            raise PermissionDenied("exports need a signed-in user")
        if not actor.can_see_site(request.site_id):
            problems.append(Problem("site", f"{actor.username} is not assigned to this site"))
        site = None
        with self._store.read() as session:
            row = session.get(Site, request.site_id)
            if row is not None:
                site = site_info(row)
        if site is None:
            problems.append(Problem("site", "unknown site"))
        if request.category is not None:
            if request.module not in MATERIAL_MODULES:
                problems.append(Problem("category", "only material modules filter by category"))
            elif request.category not in {c.value for c in Category}:
                problems.append(Problem("category", f"unknown category '{request.category}'"))
        start, end = request.date_from, request.date_to
        if start < MIN_DATE:
            problems.append(Problem("date_from", "must not be before 2000-01-01"))
        if end < start:
            problems.append(Problem("date_to", "must not be before the start date"))
        else:
            days = (end - start).days
            limit = range_limit_days(actor.role)
            if days > limit:
                problems.append(
                    Problem(
                        "date_to",
                        f"the range is {days} days; {limit_text(actor)[:-1].lower()} "
                        f"(end − start ≤ {limit})",
                    )
                )
        if site is not None:
            today = site.today(self._now())
            if end > today:
                problems.append(
                    Problem("date_to", f"must not be after today ({today.isoformat()})")
                )
        destination = request.destination.strip()
        if not destination:
            problems.append(Problem("destination", "choose a folder"))
        else:
            folder = Path(destination).expanduser()
            if not folder.is_absolute():
                problems.append(Problem("destination", "must be a full folder path"))
            elif folder.exists() and not folder.is_dir():
                problems.append(Problem("destination", "is a file, not a folder"))
        if problems:
            raise ValidationError(problems)

    # ------------------------------------------------------------------ creating
    def create(self, actor: Actor, request: ExportRequest) -> JobInfo:
        """Check ``request`` and queue it as a pending job (or refuse: see ``ExportRefused``)."""
        self.check(actor, request)
        assert actor.user_id is not None
        filters: dict[str, object] = {"category": request.category, "keep": request.keep}
        if request.file_name:
            filters["file_name"] = safe_filename(request.file_name)
        with self._store.write() as session:
            self._lock_user(session, actor.user_id)
            active = self._active_jobs(session, actor.user_id)
            if active >= MAX_ACTIVE_JOBS:
                raise ExportRefused(
                    f"you already have {active} exports queued or running (at most "
                    f"{MAX_ACTIVE_JOBS}); wait for one to finish or cancel one"
                )
            job = ExportJob(
                user_id=actor.user_id,
                site_id=request.site_id,
                module=request.module.value,
                format=request.format.value,
                granularity=request.granularity.value,
                date_from=request.date_from,
                date_to=request.date_to,
                filters=filters,
                destination=str(Path(request.destination.strip()).expanduser()),
                status=JOB_PENDING,
                progress=0,
                created_at=self._now(),
            )
            session.add(job)
            session.flush()
            return self._info(session, job)

    @staticmethod
    def _lock_user(session: Session, user_id: str) -> None:
        """Serialise job creation per user (SQLite already serialises writers: BEGIN IMMEDIATE)."""
        if session.get_bind().dialect.name != "sqlite":
            session.execute(select(User.id).where(User.id == user_id).with_for_update())

    @staticmethod
    def _active_jobs(session: Session, user_id: str) -> int:
        """How many of the user's jobs are queued or running (create and retry cap them)."""
        count = (
            select(func.count())
            .select_from(ExportJob)
            .where(ExportJob.user_id == user_id, ExportJob.status.in_(ACTIVE_JOB_STATES))
        )
        return session.scalar(count) or 0

    # ------------------------------------------------------------------- running
    def run(self, job_id: str, progress: Progress | None = None) -> JobInfo:
        """Run a pending job to completion or failure; never raises for the job's own failure.

        Returns the final ``JobInfo``: ``completed`` with path, size, SHA-256 and record count,
        or ``failed`` with the reason (``CANCELLED`` when ``progress`` asked to stop).
        """
        outer = progress or NullProgress()
        with self._store.write() as session:
            job = self._load(session, job_id)
            if job.status != JOB_PENDING:
                raise ValidationError(
                    [Problem("status", f"this export is {job.status}, not queued")]
                )
            job.status = JOB_PROCESSING
            job.started_at = self._now()
            job.progress = 0
            job.error = ""
            request = _request_of(job)
            user_id = job.user_id
        saver = _PersistingProgress(self._store, job_id, outer)
        try:
            if outer.is_cancelled():  # cancelled while it waited in the queue
                raise ExportCancelled()
            actor = self._services.users.actor(user_id)
            self.check(actor, request)
            flavour = Flavour.of(request.format)
            outer.set_status("Reading records…")
            table = build_table(self._services, actor, request.query(), flavour)
            target = Path(request.destination) / (
                request.file_name
                or export_filename(
                    table.meta.site_code,
                    request.module.heading,
                    request.granularity.value,
                    request.date_from,
                    request.date_to,
                    request.format.extension,
                )
            )
            if request.format is ExportFormat.POWERBI and not request.file_name:
                target = target.with_name(target.stem + " powerbi" + target.suffix)
            result = writer_for(request.format)(table, target, saver)
        except ExportCancelled:
            return self._fail(job_id, CANCELLED)
        except DeskOpsError as exc:
            return self._fail(job_id, str(exc))
        except Exception as exc:  # disk full, database gone, a bug: the job fails, the app lives
            log.exception("export %s failed", job_id)
            return self._fail(job_id, describe_failure(exc))
        return self._complete(job_id, result, keep=request.keep)

    def export_now(
        self, actor: Actor, request: ExportRequest, progress: Progress | None = None
    ) -> JobInfo:
        """Create and run a job in the calling thread (the command line)."""
        job = self.create(actor, request)
        return self.run(job.id, progress)

    def _complete(self, job_id: str, result: FileResult, *, keep: bool) -> JobInfo:
        now = self._now()
        with self._store.write() as session:
            job = self._load(session, job_id)
            job.status = JOB_COMPLETED
            job.progress = 100
            job.error = ""
            job.file_path = str(result.path)
            job.size_bytes = result.size_bytes
            job.sha256 = result.sha256
            job.record_count = result.record_count
            job.completed_at = now
            job.expires_at = None if keep else now + FILE_LIFETIME
            session.add(
                ExportAudit(
                    **_columns(job, _AUDITED),
                    job_id=job.id,
                    filters={
                        **job.filters,
                        "granularity": job.granularity,
                        "date_from": job.date_from.isoformat(),
                        "date_to": job.date_to.isoformat(),
                    },
                    created_at=now,
                )
            )
            session.flush()
            return self._info(session, job)

    def _fail(self, job_id: str, message: str) -> JobInfo:
        with self._store.write() as session:
            job = self._load(session, job_id)
            job.status = JOB_FAILED
            job.error = message[:2000]
            job.completed_at = self._now()
            return self._info(session, job)

    # ------------------------------------------------------------ user actions
    def cancel(self, actor: Actor, job_id: str) -> JobInfo:
        """Cancel a queued job at once. A running job stops through its progress object
        (the runner's cancel flag); this only records a cancel for jobs not yet started."""
        with self._store.write() as session:
            job = self._owned(session, actor, job_id)
            if job.status == JOB_PENDING:
                job.status = JOB_FAILED
                job.error = CANCELLED
                job.completed_at = self._now()
            return self._info(session, job)

    def retry(self, actor: Actor, job_id: str) -> JobInfo:
        """Queue a failed job again (the same row: its history stays one line)."""
        with self._store.write() as session:
            self._lock_user(session, actor.user_id or "")
            job = self._owned(session, actor, job_id)
            if job.status != JOB_FAILED:
                raise ValidationError([Problem("status", "only failed exports can be retried")])
            active = self._active_jobs(session, job.user_id)
            if active >= MAX_ACTIVE_JOBS:
                raise ExportRefused(
                    f"you already have {active} exports queued or running "
                    f"(at most {MAX_ACTIVE_JOBS})"
                )
            job.status = JOB_PENDING
            job.progress = 0
            job.error = ""
            job.started_at = None
            job.completed_at = None
            job.created_at = self._now()
            return self._info(session, job)

    def record_download(self, actor: Actor, job_id: str) -> JobInfo:
        """Count an "Open" or "Save as…" on the job's audit row."""
        now = self._now()
        with self._store.write() as session:
            job = self._owned(session, actor, job_id)
            if job.status != JOB_COMPLETED:
                raise ValidationError([Problem("status", "only completed exports can be opened")])
            session.execute(
                update(ExportAudit)
                .where(ExportAudit.job_id == job.id)
                .values(download_count=ExportAudit.download_count + 1, last_download_at=now)
            )
            return self._info(session, job)

    def remove(self, actor: Actor, job_id: str, *, delete_file: bool = True) -> None:
        """Forget a finished job (and delete its file); its audit row stays."""
        with self._store.write() as session:
            job = self._owned(session, actor, job_id)
            if job.status in ACTIVE_JOB_STATES:
                raise ValidationError([Problem("status", "cancel the export before removing it")])
            path, size = job.file_path, job.size_bytes
            session.delete(job)
        if delete_file and path:
            _remove_export(Path(path), size)

    def clear(self, actor: Actor, *, delete_files: bool = True) -> int:
        """Remove every finished job of ``actor`` (active ones stay); returns how many."""
        removed = 0
        for info in self.history(actor):
            if not info.is_active:
                self.remove(actor, info.id, delete_file=delete_files)
                removed += 1
        return removed

    # -------------------------------------------------------------- maintenance
    def recover(self, actor: Actor | None = None) -> int:
        """Fail the jobs a previous run left pending or processing (``actor``'s, or all).

        Called at start: no worker of this process can be running them yet.
        """
        now = self._now()
        with self._store.write() as session:
            base = select(ExportJob).where(ExportJob.status.in_(ACTIVE_JOB_STATES))
            if actor is not None:
                base = base.where(ExportJob.user_id == actor.user_id)
            jobs = list(session.scalars(base))
            for job in jobs:
                job.error = INTERRUPTED if job.status == JOB_PROCESSING else NOT_STARTED
                job.status = JOB_FAILED
                job.completed_at = now
        return len(jobs)

    def cleanup(self) -> int:
        """Delete expired export files and their job rows (audit rows stay); count the files."""
        now = self._now()
        with self._store.read() as session:
            expired = session.execute(
                select(ExportJob.id, ExportJob.file_path, ExportJob.size_bytes).where(
                    ExportJob.expires_at.is_not(None), ExportJob.expires_at <= now
                )
            ).all()
        removed = 0
        for job_id, path, size in expired:
            if path and _remove_export(Path(path), size):
                removed += 1
            with self._store.write() as session:
                session.execute(delete(ExportJob).where(ExportJob.id == job_id))
        return removed

    # ------------------------------------------------------------------- reads
    def get(self, actor: Actor, job_id: str) -> JobInfo:
        with self._store.read() as session:
            return self._info(session, self._owned(session, actor, job_id))

    def history(self, actor: Actor, limit: int = 200) -> list[JobInfo]:
        """``actor``'s jobs, newest first (active ones included), in one query: the panel
        re-reads it on the GUI thread whenever a job starts or ends."""
        query = (
            select(ExportJob, Site.code, ExportAudit.download_count, ExportAudit.last_download_at)
            .join(Site, Site.id == ExportJob.site_id)
            .outerjoin(ExportAudit, ExportAudit.job_id == ExportJob.id)
            .where(ExportJob.user_id == actor.user_id)
            .order_by(ExportJob.created_at.desc(), ExportJob.id.desc())
            .limit(limit)
        )
        with self._store.read() as session:
            return [
                _job_info(job, code, downloads or 0, last)
                for job, code, downloads, last in session.execute(query)
            ]

    def active(self, actor: Actor) -> list[JobInfo]:
        return [job for job in self.history(actor) if job.is_active]

    # ----------------------------------------------------------------- helpers
    @staticmethod
    def _load(session: Session, job_id: str) -> ExportJob:
        job = session.get(ExportJob, job_id)
        if job is None:
            raise NotFound(f"no export job {job_id} (it may have been removed)")
        return job

    def _owned(self, session: Session, actor: Actor, job_id: str) -> ExportJob:
        job = self._load(session, job_id)
        if job.user_id != actor.user_id:
            raise PermissionDenied("this export belongs to another user")
        return job

    @staticmethod
    def _info(session: Session, job: ExportJob) -> JobInfo:
        site_code = session.scalar(select(Site.code).where(Site.id == job.site_id)) or "?"
        audit = session.execute(
            select(ExportAudit.download_count, ExportAudit.last_download_at).where(
                ExportAudit.job_id == job.id
            )
        ).first()
        return _job_info(job, site_code, audit[0] if audit else 0, audit[1] if audit else None)


# What the audit row of a completed job repeats from it, under the same names: who exported
# what, and the file written (``_complete`` has just stored the writer's result on the job).
_AUDITED = ("user_id", "site_id", "module", "format", "record_count", "size_bytes", "sha256")


def _columns(job: ExportJob, names: tuple[str, ...]) -> dict[str, Any]:
    """The job row's columns ``names`` by name (the audit row is an ORM row, not a value)."""
    return {name: getattr(job, name) for name in names}


def _job_info(
    job: ExportJob, site_code: str, downloads: int, last_download: datetime | None
) -> JobInfo:
    """The value of a job row: its same-named columns copied as they are, its enums parsed, the
    site code and the audit's download count joined in."""
    filters: dict[str, Any] = dict(job.filters or {})
    return from_attributes(
        JobInfo,
        job,
        site_code=site_code,
        module=Module(job.module),
        format=ExportFormat(job.format),
        granularity=Granularity(job.granularity),
        category=filters.get("category"),
        download_count=downloads,
        last_download_at=last_download,
    )


def _request_of(job: ExportJob) -> ExportRequest:
    filters: dict[str, Any] = dict(job.filters or {})
    return ExportRequest(
        module=Module(job.module),
        format=ExportFormat(job.format),
        site_id=job.site_id,
        date_from=job.date_from,
        date_to=job.date_to,
        granularity=Granularity(job.granularity),
        destination=job.destination,
        category=filters.get("category"),
        file_name=str(filters.get("file_name") or ""),
        keep=bool(filters.get("keep")),
    )


def _remove_export(path: Path, size: int | None) -> bool:
    """Delete an export file only if it still looks like ours (same size): a file the user
    replaced under the same name is left alone."""
    try:
        if size is not None and path.stat().st_size != size:
            return False
    except OSError:
        return False
    return remove_quietly(path)


def describe_failure(exc: BaseException) -> str:
    """A failed job's message, one line (export jobs and report packs word failures alike)."""
    if isinstance(exc, OSError):
        where = f": {exc.filename}" if exc.filename else ""
        return f"{exc.strerror or exc}{where}"
    first = first_line(exc)
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__


class _PersistingProgress:
    """Forwards progress to the caller and saves it on the job row now and then.

    Saved at most once a second or every ``PROGRESS_SAVE_STEP`` percent, in its own short write
    transaction, so the history shows a live figure without a database write per row.
    """

    def __init__(self, store: Any, job_id: str, outer: Progress) -> None:
        self._store = store
        self._job_id = job_id
        self._outer = outer
        self._saved = 0
        self._saved_at = time.monotonic()

    def set_progress(self, percent: int) -> None:
        self._outer.set_progress(percent)
        now = time.monotonic()
        if percent >= self._saved + PROGRESS_SAVE_STEP or (
            percent > self._saved and now - self._saved_at >= PROGRESS_SAVE_SECONDS
        ):
            self._saved, self._saved_at = percent, now
            with self._store.write() as session:
                session.execute(
                    update(ExportJob).where(ExportJob.id == self._job_id).values(progress=percent)
                )

    def set_status(self, text: str) -> None:
        self._outer.set_status(text)

    def is_cancelled(self) -> bool:
        return self._outer.is_cancelled()
