# ruff: noqa: RUF001  (en dashes and similar are deliberate typography)
"""The export job lifecycle on SQLite and PostgreSQL: limits, run, audit, progress, cancel,
retry, crash recovery, expiry cleanup, downloads, failures — and the csv import round trip."""

from __future__ import annotations

import csv
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from deskops_desktop.export.jobs import (
    CANCELLED,
    INTERRUPTED,
    MAX_ACTIVE_JOBS,
    NOT_STARTED,
    ExportJobService,
    ExportRefused,
    ExportRequest,
)
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import ExportFormat, Granularity, Module, Role
from deskops_desktop.models.errors import PermissionDenied, ValidationError
from deskops_desktop.models.jobs import (
    JOB_COMPLETED,
    JOB_FAILED,
    JOB_PENDING,
    ExportAudit,
    ExportJob,
)
from deskops_desktop.models.progress import RecordingProgress
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.imports import ImportService
from deskops_desktop.services.store import Store, open_store
from tests.conftest import FIXED_NOW
from tests.helpers import default_site, production
from tests.test_export_support import TODAY, Demo, demo_fixture, demo_template_fixture  # noqa: F401


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def users(services: Services) -> dict[str, Actor]:
    services.users.create(None, "admin", "admin-pass-1", Role.ADMIN)
    admin = services.users.authenticate("admin", "admin-pass-1")
    services.master.add_site(admin, "RUH-01", "Riyadh East")
    services.users.create(admin, "clerk", "clerk-pass-1", Role.OPERATOR, ["ALASLA-29"])
    services.users.create(admin, "super", "super-pass-1", Role.MODERATOR, ["ALASLA-29"])
    return {
        "admin": admin,
        "clerk": services.users.authenticate("clerk", "clerk-pass-1"),
        "super": services.users.authenticate("super", "super-pass-1"),
    }


@pytest.fixture
def jobs(services: Services, clock: FixedClock) -> ExportJobService:
    return ExportJobService(services)


def request_for(
    services: Services, folder: Path, days: int = 10, **changes: object
) -> ExportRequest:
    site = default_site(services)
    values: dict[str, object] = {
        "module": Module.PRODUCTION, "format": ExportFormat.CSV, "site_id": site.id,
        "date_from": TODAY - timedelta(days=days), "date_to": TODAY, "destination": str(folder),
    }  # fmt: skip
    values.update(changes)
    return ExportRequest(**values)  # type: ignore[arg-type]


def add_production(services: Services, n: int = 5) -> None:
    site = default_site(services)
    for i in range(n):
        services.records.create(
            SYSTEM,
            Module.PRODUCTION,
            site.id,
            production(TODAY - timedelta(days=i), quantity=f"{10 + i}.125"),
        )


# ------------------------------------------------------------------------------ running
def test_job_runs_to_completion_with_audit_and_progress(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    add_production(services, 5)
    admin = users["admin"]
    job = jobs.create(admin, request_for(services, tmp_path))
    assert job.status == JOB_PENDING
    assert job.progress == 0
    progress = RecordingProgress()
    done = jobs.run(job.id, progress)
    assert done.status == JOB_COMPLETED
    assert done.progress == 100
    assert done.record_count == 5
    path = Path(done.file_path)
    assert path.parent == tmp_path
    assert path.name == f"ALASLA-29 Production daily {TODAY - timedelta(days=10)} to {TODAY}.csv"
    assert done.size_bytes == path.stat().st_size
    import hashlib

    assert done.sha256 == hashlib.sha256(path.read_bytes()).hexdigest()
    assert done.completed_at == FIXED_NOW
    assert done.expires_at == FIXED_NOW + timedelta(hours=24)
    assert progress.percents[-1] == 100
    with services.store.read() as session:
        audit = session.scalars(select(ExportAudit)).one()
        assert (audit.job_id, audit.user_id, audit.site_id, audit.module, audit.format) == (
            job.id,
            admin.user_id,
            job.site_id,
            "production",
            "csv",
        )
        assert (audit.record_count, audit.size_bytes, audit.sha256) == (
            5,
            done.size_bytes,
            done.sha256,
        )
        assert audit.filters["date_from"] == str(TODAY - timedelta(days=10))
    assert jobs.history(admin)[0].id == job.id


def test_progress_is_persisted_while_rows_are_written(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    site = default_site(services)
    rows = [production(TODAY - timedelta(days=d), material=m, shift=s)
            for d in range(10) for m in ("AGG-G1", "AGG-S1", "AGG-3/4", "FINE-WASHED")
            for s in ("MORNING", "AFTERNOON", "NIGHT")]  # fmt: skip
    services.records.create_many(SYSTEM, Module.PRODUCTION, site.id, rows * 1)
    job = jobs.create(users["admin"], request_for(services, tmp_path))
    seen: list[int] = []

    class Spy(RecordingProgress):
        def set_progress(self, percent: int) -> None:
            super().set_progress(percent)
            with services.store.read() as session:
                seen.append(
                    session.scalar(select(ExportJob.progress).where(ExportJob.id == job.id)) or 0
                )

    jobs.run(job.id, Spy())
    assert max(seen) >= 5  # saved before the end, as rows were written
    assert seen == sorted(seen)


def test_every_format_completes(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    add_production(services, 3)
    names = []
    for fmt in ExportFormat:
        job = jobs.create(
            users["admin"],
            request_for(services, tmp_path, format=fmt, granularity=Granularity.WEEKLY),
        )
        done = jobs.run(job.id)
        assert done.status == JOB_COMPLETED, done.error
        names.append(Path(done.file_path).name)
    stem = f"ALASLA-29 Production weekly {TODAY - timedelta(days=10)} to {TODAY}"
    assert names == [f"{stem}.xlsx", f"{stem}.csv", f"{stem} powerbi.csv", f"{stem}.pdf"]


# ------------------------------------------------------------------------------- limits
def test_sixth_active_job_is_refused(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    clerk = users["clerk"]
    for _ in range(MAX_ACTIVE_JOBS):
        jobs.create(clerk, request_for(services, tmp_path))
    with pytest.raises(ExportRefused, match="at most 5"):
        jobs.create(clerk, request_for(services, tmp_path))
    # Another user has their own five; finishing one frees a place.
    jobs.create(users["super"], request_for(services, tmp_path))
    first = jobs.active(clerk)[0]
    jobs.run(first.id)
    jobs.create(clerk, request_for(services, tmp_path))


@pytest.mark.parametrize(
    ("who", "allowed", "refused"), [("clerk", 30, 31), ("super", 90, 91), ("admin", 365, 366)]
)
def test_role_range_limits(
    services: Services,
    users: dict[str, Actor],
    jobs: ExportJobService,
    tmp_path: Path,
    who: str,
    allowed: int,
    refused: int,
) -> None:
    actor = users[who]
    jobs.create(actor, request_for(services, tmp_path, days=allowed))
    with pytest.raises(ValidationError) as info:
        jobs.create(actor, request_for(services, tmp_path, days=refused))
    (problem,) = info.value.problems
    assert problem.field == "date_to"
    assert f"≤ {allowed}" in problem.message


def test_sites_dates_and_folders_are_checked(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    ruh = services.master.site_by_code(users["admin"], "RUH-01")
    with pytest.raises(ValidationError) as info:
        jobs.create(users["clerk"], request_for(services, tmp_path, site_id=ruh.id))
    assert [p.field for p in info.value.problems] == ["site"]
    jobs.create(users["admin"], request_for(services, tmp_path, site_id=ruh.id))  # admins: any site
    bad = request_for(
        services,
        tmp_path,
        date_from=TODAY,
        date_to=TODAY - timedelta(days=1),
        destination="relative/folder",
    )
    with pytest.raises(ValidationError) as info:
        jobs.check(users["admin"], bad)
    assert {p.field for p in info.value.problems} == {"date_to", "destination"}
    future = request_for(services, tmp_path, date_to=TODAY + timedelta(days=1))
    with pytest.raises(ValidationError, match="after today"):
        jobs.check(users["admin"], future)
    a_file = tmp_path / "file.txt"
    a_file.write_text("x")
    with pytest.raises(ValidationError, match="not a folder"):
        jobs.check(users["admin"], request_for(services, a_file))
    with pytest.raises(ValidationError, match="category"):
        jobs.check(
            users["admin"],
            request_for(services, tmp_path, module=Module.EQUIPMENT, category="FINE"),
        )


# -------------------------------------------------------------- cancel, retry, recovery
def test_cancel_pending_and_running_jobs(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    admin = users["admin"]
    pending = jobs.create(admin, request_for(services, tmp_path))
    cancelled = jobs.cancel(admin, pending.id)
    assert (cancelled.status, cancelled.error, cancelled.is_cancelled) == (
        JOB_FAILED,
        CANCELLED,
        True,
    )
    add_production(services, 3)
    out = tmp_path / "out"
    running = jobs.create(admin, request_for(services, out, format=ExportFormat.XLSX))
    done = jobs.run(running.id, RecordingProgress(cancel_at=0))
    assert done.status == JOB_FAILED
    assert done.error == CANCELLED
    assert list(out.iterdir()) == []  # the temporary file is gone too
    with pytest.raises(PermissionDenied):
        jobs.cancel(users["clerk"], running.id)


def test_failed_jobs_can_be_retried(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    admin = users["admin"]
    add_production(services, 2)
    blocker = tmp_path / "target"
    blocker.write_text("a file where the folder should be")
    job = jobs.create(admin, request_for(services, tmp_path / "target" / "sub"))
    failed = jobs.run(job.id)
    assert failed.status == JOB_FAILED
    assert failed.error  # a sentence, not a traceback
    blocker.unlink()
    again = jobs.retry(admin, job.id)
    assert (again.status, again.progress, again.error) == (JOB_PENDING, 0, "")
    done = jobs.run(job.id)
    assert done.status == JOB_COMPLETED
    assert Path(done.file_path).is_file()
    with pytest.raises(ValidationError, match="only failed"):
        jobs.retry(admin, job.id)


def test_crash_recovery_marks_leftover_jobs_failed(
    services: Services, users: dict[str, Actor], jobs: ExportJobService, tmp_path: Path
) -> None:
    admin = users["admin"]
    crashed = jobs.create(admin, request_for(services, tmp_path))
    waiting = jobs.create(admin, request_for(services, tmp_path))
    others = jobs.create(users["clerk"], request_for(services, tmp_path))
    with services.store.write() as session:
        session.execute(
            update(ExportJob).where(ExportJob.id == crashed.id).values(status="processing")
        )
    assert jobs.recover(admin) == 2
    assert jobs.get(admin, crashed.id).error == INTERRUPTED
    assert jobs.get(admin, waiting.id).error == NOT_STARTED
    assert jobs.get(users["clerk"], others.id).status == JOB_PENDING  # not this user's
    jobs.retry(admin, crashed.id)
    assert jobs.run(crashed.id).status == JOB_COMPLETED


def test_cleanup_removes_expired_files_but_keeps_audit_rows(
    services: Services,
    users: dict[str, Actor],
    jobs: ExportJobService,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    admin = users["admin"]
    add_production(services, 2)
    done = jobs.run(jobs.create(admin, request_for(services, tmp_path)).id)
    kept = jobs.run(jobs.create(admin, request_for(services, tmp_path, keep=True)).id)
    assert kept.expires_at is None
    clock.set(FIXED_NOW + timedelta(hours=23))
    assert jobs.cleanup() == 0
    clock.set(FIXED_NOW + timedelta(hours=24, minutes=1))
    assert jobs.cleanup() == 1
    assert not Path(done.file_path).exists()
    assert Path(kept.file_path).exists()
    assert [j.id for j in jobs.history(admin)] == [kept.id]
    with services.store.read() as session:
        assert len(session.scalars(select(ExportAudit)).all()) == 2


def test_downloads_remove_and_clear(
    services: Services,
    users: dict[str, Actor],
    jobs: ExportJobService,
    clock: FixedClock,
    tmp_path: Path,
) -> None:
    admin = users["admin"]
    add_production(services, 2)
    done = jobs.run(jobs.create(admin, request_for(services, tmp_path)).id)
    clock.set(FIXED_NOW + timedelta(minutes=5))
    jobs.record_download(admin, done.id)
    again = jobs.record_download(admin, done.id)
    assert (again.download_count, again.last_download_at) == (2, clock.now())
    jobs.remove(admin, done.id)
    assert not Path(done.file_path).exists()
    assert jobs.history(admin) == []
    with services.store.read() as session:
        assert session.scalars(select(ExportAudit.download_count)).one() == 2
    second = jobs.run(jobs.create(admin, request_for(services, tmp_path)).id)
    active = jobs.create(admin, request_for(services, tmp_path))
    assert jobs.clear(admin) == 1
    assert not Path(second.file_path).exists()
    assert [j.id for j in jobs.history(admin)] == [active.id]
    with pytest.raises(ValidationError):
        jobs.remove(admin, active.id)


# ----------------------------------------------------------------- csv import round trip
def record_values(services: Services, module: Module, site_id: str) -> list[tuple[object, ...]]:
    spec_fields = [
        f.key
        for f in __import__("deskops_desktop.models.modules", fromlist=["SPECS"])
        .SPECS[module]
        .fields
    ]
    rows = services.records.list(SYSTEM, module, site_id, TODAY - timedelta(days=400), TODAY)
    return sorted(tuple(str(r.values[k]) for k in spec_fields) for r in rows)


@pytest.mark.parametrize(
    "module",
    [
        Module.PRODUCTION,
        Module.DISPATCH,
        Module.RECEIVED,
        Module.EQUIPMENT,
        Module.MANPOWER,
        Module.ADJUSTMENTS,
        Module.FEED,
    ],
)
def test_daily_csv_imports_back_into_an_empty_store(
    demo: Demo, module: Module, tmp_path: Path
) -> None:
    jobs = ExportJobService(demo.services)
    request = ExportRequest(
        module,
        ExportFormat.CSV,
        demo.site.id,
        TODAY - timedelta(days=59),
        TODAY,
        destination=str(tmp_path),
    )
    done = jobs.export_now(demo.actors.admin, request)
    assert done.status == JOB_COMPLETED, done.error
    fresh_store = open_store(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", clock=demo.services.store.clock
    )
    try:
        fresh = build_services(fresh_store)
        site = default_site(fresh)
        result = ImportService(fresh.records).import_file(
            SYSTEM, module, site.id, Path(done.file_path)
        )
        assert result.value.count == done.record_count
        assert record_values(fresh, module, site.id) == record_values(
            demo.services, module, demo.site.id
        )
    finally:
        fresh_store.dispose()


def test_csv_with_tricky_notes_round_trips(demo: Demo, tmp_path: Path) -> None:
    notes = ["comma, inside", 'a "quoted" word', "two\nlines", "كسارة رقم ١ متوقفة"]
    for n, note in enumerate(notes):
        demo.services.records.create(SYSTEM, Module.RECEIVED, demo.site.id, {
            "date": TODAY.isoformat(), "material": "RAW-MIXED", "quantity": f"{n + 1}.5",
            "source": note, "notes": note})  # fmt: skip
    jobs = ExportJobService(demo.services)
    done = jobs.export_now(
        demo.actors.admin,
        ExportRequest(
            Module.RECEIVED,
            ExportFormat.CSV,
            demo.site.id,
            TODAY,
            TODAY,
            destination=str(tmp_path),
        ),
    )
    with Path(done.file_path).open(encoding="utf-8-sig", newline="") as handle:
        exported = {row["Notes"] for row in csv.DictReader(handle)}
    assert set(notes) <= exported
    fresh_store = open_store(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", clock=demo.services.store.clock
    )
    try:
        fresh = build_services(fresh_store)
        ImportService(fresh.records).import_file(
            SYSTEM, Module.RECEIVED, default_site(fresh).id, Path(done.file_path)
        )
        rows = fresh.records.list(SYSTEM, Module.RECEIVED, default_site(fresh).id, TODAY, TODAY)
        assert set(notes) <= {r.values["notes"] for r in rows}
    finally:
        fresh_store.dispose()


def test_guarded_notes_round_trip_through_import(demo: Demo, tmp_path: Path) -> None:
    demo.services.records.create(
        SYSTEM,
        Module.RECEIVED,
        demo.site.id,
        {
            "date": TODAY.isoformat(),
            "material": "RAW-MIXED",
            "quantity": "1",
            "notes": "-5 t short",
        },
    )
    jobs = ExportJobService(demo.services)
    done = jobs.export_now(
        demo.actors.admin,
        ExportRequest(
            Module.RECEIVED,
            ExportFormat.CSV,
            demo.site.id,
            TODAY,
            TODAY,
            destination=str(tmp_path),
        ),
    )
    fresh_store = open_store(
        f"sqlite:///{tmp_path / 'empty.sqlite3'}", clock=demo.services.store.clock
    )
    try:
        fresh = build_services(fresh_store)
        site = default_site(fresh)
        ImportService(fresh.records).import_file(
            SYSTEM, Module.RECEIVED, site.id, Path(done.file_path)
        )
        notes = {
            r.values["notes"]
            for r in fresh.records.list(SYSTEM, Module.RECEIVED, site.id, TODAY, TODAY)
        }
        assert "-5 t short" in notes
    finally:
        fresh_store.dispose()
