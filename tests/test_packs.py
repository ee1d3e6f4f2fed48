"""Report packs on both backends: definitions and who may change them, a run's folder and
manifest, byte-identical reruns, the export audit, the Power BI folder's incremental months,
failures recorded on the pack, and a run killed mid-way leaving the previous folder intact.

The plant is the demo generator's (a believable month of receipts, feed, production, sales and
disposal with dated conversion factors), ending today by the test's clock; the pack is the
month before today's ("last-month"), so every date here follows the clock.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import time
import zipfile
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select

from deskops_desktop.export.packs import run_pack
from deskops_desktop.export.powerbi_folder import surrogate_key
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import NotFound, PermissionDenied, ValidationError
from deskops_desktop.models.jobs import ExportAudit
from deskops_desktop.models.progress import Cancelled, RecordingProgress
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.demo import DEMO_PASSWORD, generate_demo
from deskops_desktop.services.store import Store
from tests.helpers import default_site

BOSS_PASSWORD = "boss-pass-123"
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def boss(services: Services) -> Actor:
    services.users.create(None, "boss", BOSS_PASSWORD, Role.ADMIN)
    return services.users.authenticate("boss", BOSS_PASSWORD)


def plant(services: Services, sites: int = 1, days: int = 62) -> None:
    """A demo plant whose records cover the whole month before today (≤ 62 days back)."""
    generate_demo(services, sites=sites, days=days, seed=7)


def define(
    services: Services,
    boss: Actor,
    folder: Path,
    *,
    reports: tuple[str, ...] = ("inventory", "mass-balance", "dispatch"),
    formats: tuple[str, ...] = ("xlsx", "csv", "pdf", "powerbi"),
    period: str = "last-month",
    powerbi: bool = True,
) -> None:
    """The test's pack: ALASLA-29, three reports in every format, with a Power BI folder."""
    services.packs.define(
        boss,
        "hq-nightly",
        sites=["ALASLA-29"],
        reports=reports,
        formats=formats,
        period=period,
        destination=str(folder),
        powerbi=powerbi,
    )


def tree(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` by relative path."""
    files = (p for p in sorted(folder.rglob("*")) if p.is_file())
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in files}


# ----------------------------------------------------------------------- definitions
def test_admins_define_and_remove_packs_everyone_lists_them(
    services: Services, boss: Actor, tmp_path: Path
) -> None:
    plant(services, days=3)
    clerk = services.users.authenticate("demo.operator", DEMO_PASSWORD)
    defined = services.packs.define(
        boss,
        "hq-nightly",
        sites=None,
        reports=["inventory", "inventory:monthly", "mass-balance"],
        formats=["xlsx", "pdf"],
        period="month-to-date",
        destination=str(tmp_path / "share"),
    )
    pack = defined.value
    assert pack.all_sites
    assert pack.sites_label == "all sites"
    assert [r.key for r in pack.reports] == ["inventory", "inventory:monthly", "mass-balance"]
    assert pack.timezone == "Asia/Riyadh"  # the first site's
    assert pack.folder == tmp_path / "share" / "hq-nightly"
    assert [p.name for p in services.packs.packs(clerk)] == ["hq-nightly"]
    with pytest.raises(PermissionDenied):
        services.packs.define(
            clerk,
            "mine",
            sites=None,
            reports=["inventory"],
            formats=["csv"],
            period="yesterday",
            destination=str(tmp_path),
        )
    with pytest.raises(PermissionDenied):
        services.packs.remove(clerk, "hq-nightly")
    with pytest.raises(PermissionDenied):
        run_pack(services, clerk, "hq-nightly")
    # One message per problem, all at once; a name is unique whatever its case.
    with pytest.raises(ValidationError) as refused:
        services.packs.define(
            boss,
            "HQ-NIGHTLY",
            sites=["NOPE"],
            reports=["stock"],
            formats=["docx"],
            period="weekly",
            destination="relative/folder",
            fiscal_year_start=13,
        )
    fields = sorted(p.field for p in refused.value.problems)
    assert fields == [
        "destination",
        "fiscal_year_start",
        "formats",
        "name",
        "period",
        "reports",
        "sites",
    ]
    services.packs.remove(boss, "HQ-Nightly")
    assert services.packs.packs(boss) == []
    with pytest.raises(NotFound):
        services.packs.pack(boss, "hq-nightly")


# ----------------------------------------------------------------------------- runs
def test_a_pack_run_is_reproducible_and_audited(
    services: Services, boss: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    plant(services)
    define(services, boss, tmp_path)
    progress = RecordingProgress()
    first = run_pack(services, boss, "hq-nightly", progress=progress)
    today = clock.today("Asia/Riyadh")
    last_month_end = today.replace(day=1) - timedelta(days=1)
    assert (first.period.date_from, first.period.date_to) == (
        last_month_end.replace(day=1),
        last_month_end,
    )
    assert first.folder == tmp_path / "hq-nightly" / f"{last_month_end:%Y-%m}"
    assert progress.percents == sorted(progress.percents)
    assert progress.percents[-1] == 100
    files = tree(first.folder)
    manifest = json.loads(files.pop("manifest.json"))
    # 3 reports x 4 formats, and the manifest describes each file exactly.
    assert len(manifest["files"]) == 12 == len(files)
    for entry in manifest["files"]:
        data = files[entry["path"]]
        assert entry["size"] == len(data)
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert entry["site"] == "ALASLA-29"
        assert entry["period"] == {
            "from": first.period.date_from.isoformat(),
            "to": first.period.date_to.isoformat(),
        }
        assert entry["deskops_version"] == manifest["deskops_version"]
    period = f"{first.period.date_from} to {first.period.date_to}"
    inventory = next(e for e in manifest["files"] if e["path"].endswith(f"daily {period}.csv"))
    assert inventory["records"] == 17 * first.period.days  # every material, every day
    # No clock inside the data: the xlsx core properties and zip times and the pdf dates are the
    # period's end, midnight in Riyadh = 21:00 UTC on its last day.
    xlsx = next(p for p in files if p.endswith(".xlsx"))
    with zipfile.ZipFile(first.folder / xlsx) as book:
        core = book.read("docProps/core.xml").decode()
        stamps = {i.date_time for i in book.infolist()}
    end = last_month_end
    assert stamps == {(end.year, end.month, end.day, 21, 0, 0)}
    assert re.findall(r"<dcterms:\w+ [^>]*>([^<]+)<", core) == [f"{end}T21:00:00Z"] * 2
    pdf = next(p for p in files if p.endswith(".pdf"))
    assert f"/CreationDate (D:{last_month_end:%Y%m%d}210000+00'00')".encode() in files[pdf]

    # Two hours later (another day, if the clock sits at a midnight), another run of the same
    # period: the same bytes, file by file.
    clock.advance(timedelta(hours=2))
    second = run_pack(services, boss, "hq-nightly", as_of=today)
    assert tree(second.folder) == {**files, "manifest.json": tree(first.folder)["manifest.json"]}
    assert [f.sha256 for f in second.files] == [f.sha256 for f in first.files]
    assert first.powerbi is not None
    assert second.powerbi is not None
    assert len(first.powerbi.rewritten) == len(first.powerbi.files)
    assert second.powerbi.rewritten == ()  # nothing changed, nothing rewritten

    # The export audit: a row per file per run (the Power BI partitions when rewritten).
    columns = (
        ExportAudit.job_id,
        ExportAudit.site_id,
        ExportAudit.module,
        ExportAudit.user_id,
        ExportAudit.filters,
    )
    with services.store.read() as session:
        audits = session.execute(select(*columns)).all()
    runs: dict[str, int] = {}
    for job_id, *_rest in audits:
        runs[job_id] = runs.get(job_id, 0) + 1
    assert sorted(runs.values()) == [12, 12 + len(first.powerbi.files)]
    per_site = {site for _j, site, module, _u, _f in audits if not module.startswith("fact_")}
    assert per_site - {None} == {default_site(services).id}
    assert {site for _j, site, module, _u, _f in audits if module.startswith("fact_")} == {None}
    assert {user for _j, _s, _m, user, _f in audits} == {boss.user_id}
    assert {filters["pack"] for *_rest, filters in audits} == {"hq-nightly"}
    last = services.packs.pack(boss, "hq-nightly").last_run
    assert last is not None
    assert last.ok
    assert last.files == 12
    assert last.folder == str(second.folder)


def test_the_power_bi_folder_rewrites_only_the_months_that_changed(
    services: Services, boss: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    plant(services)
    define(services, boss, tmp_path, reports=["inventory"], formats=["csv"], period="yesterday")
    today = clock.today("Asia/Riyadh")
    first = run_pack(services, boss, "hq-nightly")
    assert first.powerbi is not None
    folder = first.powerbi.folder
    months = sorted({f.month for f in first.powerbi.files if f.month})
    assert len(months) >= 2
    site = default_site(services)

    # Facts agree with the services: the stock fact's last closing is the ledger's, and the
    # production tons of a month are the mass balance's.
    yesterday = first.period.date_to
    stock = _csv(folder / f"fact_stock_daily/fact_stock_daily_{yesterday:%Y-%m}.csv")
    closings = {r["material_code"]: r["closing"] for r in stock if r["date"] == str(yesterday)}
    ledger = services.ledger.ledger(boss, site.id, yesterday, yesterday)
    in_ledger = {r.material.code: str(r.closing) for r in ledger.rows}
    # Materials the site never moved are not listed at 0 (the dashboard's "with history").
    assert closings == {code: v for code, v in in_ledger.items() if code in closings}
    assert {v for code, v in in_ledger.items() if code not in closings} <= {"0.000"}
    assert {r["site_key"] for r in stock} == {str(surrogate_key(site.id))}
    month = months[-2]
    start = date.fromisoformat(f"{month}-01")
    end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
    moves = _csv(folder / f"fact_movements/fact_movements_{month}.csv")
    produced = sum(Decimal(r["tons"]) for r in moves if r["module"] == "production")
    balance = services.mass_balance.mass_balance(boss, site.id, start, end)
    assert int(produced * 1000) == balance.produced.tons_m
    deemed = [r for r in moves if r["mass_determination"] == "DEEMED"]
    assert deemed
    assert all(r["uom"] == "LOAD" and r["tons_per_load"] for r in deemed)
    assert all(r["created_at_utc"].endswith("Z") for r in moves)

    # A back-dated production record in the first month: that month's movements and every
    # stock month from it on are recomputed; the files that did not change are not touched.
    clock.advance(timedelta(hours=1))
    first_day = date.fromisoformat(f"{months[0]}-01")
    day = max(first_day, first.powerbi.date_from or first_day)
    record_day = day + timedelta(days=1)
    raw = {"date": str(record_day), "material": "AGG-G1", "quantity": "1.5", "operation": "SEG-OP"}
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, raw)
    before = {p: (folder / p).stat().st_mtime_ns for p in (f.path for f in first.powerbi.files)}
    second = run_pack(services, boss, "hq-nightly", as_of=today)
    assert second.powerbi is not None
    rewritten = {f.path for f in second.powerbi.rewritten}
    month_of = f"{record_day:%Y-%m}"
    expected = {f"fact_movements/fact_movements_{month_of}.csv"} | {
        f"fact_stock_daily/fact_stock_daily_{m}.csv" for m in months if m >= month_of
    }
    assert rewritten == expected
    untouched = set(before) - rewritten
    assert untouched
    assert all((folder / p).stat().st_mtime_ns == before[p] for p in untouched)
    manifest = json.loads((folder / "manifest.json").read_text())
    assert sorted(manifest["last_run"]["rewritten"]) == sorted(expected)

    # A month whose records are all gone (an early month deleted) leaves the feed: its files
    # are removed, not left for the Folder connector to read.
    stale = folder / "fact_movements" / "fact_movements_1999-12.csv"
    stale.write_text("old")
    manifest["files"]["fact_movements/fact_movements_1999-12.csv"] = {"size": 3}
    (folder / "manifest.json").write_text(json.dumps(manifest))
    pruned = run_pack(services, boss, "hq-nightly", as_of=today)
    assert pruned.powerbi is not None
    assert pruned.powerbi.removed == ("fact_movements/fact_movements_1999-12.csv",)
    assert not stale.exists()

    # A new conversion factor changes deemed tons everywhere: everything is recomputed, and
    # the months with LOAD records are rewritten (the sites' dimension is not).
    services.factors.set_factor(SYSTEM, "RAW-MIXED", "13.25", str(first_day), site_code=site.code)
    third = run_pack(services, boss, "hq-nightly", as_of=today)
    assert third.powerbi is not None
    changed = {f.path for f in third.powerbi.rewritten}
    assert f"fact_movements/fact_movements_{months[-1]}.csv" in changed
    assert "dim_site/dim_site.csv" not in changed


def _csv(path: Path) -> list[dict[str, str]]:
    import csv

    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def test_a_period_not_over_yet_is_refused_and_a_failed_run_is_recorded(
    services: Services, boss: Actor, tmp_path: Path, clock: FixedClock
) -> None:
    plant(services, days=40)
    define(services, boss, tmp_path, reports=["inventory"], formats=["csv"], powerbi=False)
    today = clock.today("Asia/Riyadh")
    with pytest.raises(ValidationError, match="not over yet"):
        run_pack(services, boss, "hq-nightly", as_of=today + timedelta(days=40))
    good = run_pack(services, boss, "hq-nightly")
    kept = tree(good.folder)
    # The period's folder name is taken by a file in the next run's way: the run fails, says
    # why on the pack, and leaves the finished folder alone.
    blocker = tmp_path / "hq-nightly" / "2000-01"
    blocker.write_text("not a folder")
    with pytest.raises(NotADirectoryError):
        run_pack(services, boss, "hq-nightly", as_of=date(2000, 2, 10))
    last = services.packs.pack(boss, "hq-nightly").last_run
    assert last is not None
    assert last.status == "failed"
    assert last.period == "2000-01"
    assert last.message
    assert tree(good.folder) == kept
    # Cancelled through the progress object: recorded as such, nothing left half-built.
    with pytest.raises(Cancelled):
        run_pack(services, boss, "hq-nightly", progress=RecordingProgress(cancel_at=0))
    last = services.packs.pack(boss, "hq-nightly").last_run
    assert last is not None
    assert last.message == "Cancelled"
    assert tree(good.folder) == kept
    assert [p.name for p in (tmp_path / "hq-nightly").iterdir() if p.name.startswith(".~")] == []


# ------------------------------------------------------------------- a killed run
CHILD = """
import sys, time
from datetime import datetime
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.services.store import Store
from deskops_desktop.services.bundle import build_services
from deskops_desktop.export.packs import run_pack
from pathlib import Path

url, marker, now, password = sys.argv[1:5]
store = Store(url, clock=FixedClock(datetime.fromisoformat(now)))
services = build_services(store)
actor = services.users.authenticate("boss", password)

class StopHalfWay:
    def set_progress(self, percent):
        if percent >= 30:
            Path(marker).write_text("writing")
            time.sleep(120)  # the parent kills us here, mid-run
    def set_status(self, text):
        pass
    def is_cancelled(self):
        return False

run_pack(services, actor, "hq-nightly", progress=StopHalfWay())
"""


def test_a_killed_run_leaves_the_previous_folder_intact(
    sqlite_store: Store, tmp_path: Path, clock: FixedClock
) -> None:
    services = build_services(sqlite_store)
    services.users.create(None, "boss", BOSS_PASSWORD, Role.ADMIN)
    boss = services.users.authenticate("boss", BOSS_PASSWORD)
    plant(services, days=40)
    define(services, boss, tmp_path / "share", formats=["xlsx", "csv", "pdf"], powerbi=False)
    done = run_pack(services, boss, "hq-nightly")
    kept = tree(done.folder)
    marker = tmp_path / "half-way"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    url = sqlite_store.url.render_as_string(hide_password=False)
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, url, str(marker), clock.now().isoformat(), BOSS_PASSWORD],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert child.poll() is None, child.stderr.read().decode() if child.stderr else ""
            assert time.monotonic() < deadline, "the child never got half-way"
            time.sleep(0.05)
        beside = (tmp_path / "share" / "hq-nightly").iterdir()
        assert any(p.name.startswith(".~") for p in beside), "it builds beside the old folder"
        child.send_signal(signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL
    assert tree(done.folder) == kept  # the previous folder, byte for byte
    # The pack still says "running" (nobody could record the kill); the next run cleans up
    # the dead run's staging folder and replaces the folder with the same bytes.
    stuck = services.packs.pack(boss, "hq-nightly").last_run
    assert stuck is not None
    assert stuck.status == "running"
    again = run_pack(services, boss, "hq-nightly")
    assert tree(again.folder) == kept
    assert [p for p in again.folder.parent.iterdir() if p.name.startswith(".~")] == []
