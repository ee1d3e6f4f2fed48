"""The research's slow sync scenarios (§7, 10 and 11): wall time, bytes and peak memory.

Usage: ``.venv/bin/python bench/bench_sync_scenarios.py [--records 10000] [--kbits 256]
[--reset-every 30] [--only 10|11]`` — minutes at the defaults; not run in CI (nightly).

10. **30 days offline, 10,000 records.** Before going offline the laptop holds head office's
    records. For 30 simulated days (the laptop's clock moves a day at a time) the operator
    types about ``records / 30`` records a day and edits and deletes some of the old ones, while
    head office edits and deletes some of the same old records, enters its own and changes
    master data. Then one sync through a proxy at ``--kbits`` kbit/s that resets every
    connection every ``--reset-every`` seconds, retried until it completes. Checked: nothing
    lost or twice (every operation terminal; head office holds each applied record once), the
    laptop equal to head office, both ledgers equal to a recomputation, the operator's entries
    older than the 7-day window *held* for a supervisor — who then applies them all, after which
    one more sync converges again.
11. **First sync of a site-year, killed halfway.** The demo generator's year of one site at
    head office; a new laptop process joins it through the throttled proxy and is killed in the
    middle of the download (``DESKOPS_SYNC_FAULT=mid_download:N``); a second process resumes.
    Checked: the progress it reports only rises, no record arrives twice, the laptop equals head
    office.
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import json
import os
import resource
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from deskops_desktop.models.clock import FixedClock  # noqa: E402
from deskops_desktop.models.enums import Module, Role  # noqa: E402
from deskops_desktop.models.errors import DeskOpsError  # noqa: E402
from deskops_desktop.services import passwords  # noqa: E402
from deskops_desktop.services.access import SYSTEM  # noqa: E402
from deskops_desktop.services.bundle import build_services  # noqa: E402
from deskops_desktop.services.demo import generate_demo  # noqa: E402
from deskops_desktop.services.store import Store, open_store  # noqa: E402
from deskops_desktop.sync import KEEP_MINE, Credentials, join, list_items, resolve, run_sync  # noqa: E402
from deskops_desktop.sync.link import LinkOptions, ServerLink  # noqa: E402
from tests.pg_throwaway import start_throwaway  # noqa: E402
from tests.sync.hq import CLERK_PASSWORD, HQ, make_hq  # noqa: E402
from tests.sync.invariants import check_invariants  # noqa: E402
from tests.sync.laptops import Laptop, production  # noqa: E402
from tests.sync.proxy import FaultProxy  # noqa: E402

PORT = 54372
FOLDER = Path("/tmp") / "deskops-bench-sync-scenarios"
SLOW_LINK = LinkOptions(connect_timeout=20, io_timeout=90.0)


def _rss_mib(who: int = resource.RUSAGE_SELF) -> float:
    return resource.getrusage(who).ru_maxrss / 1024


def _sync_until_done(store: Store, attempts: int = 200) -> tuple[int, float]:
    started = time.monotonic()
    for attempt in range(1, attempts + 1):
        report = run_sync(
            store, Credentials({"op1": CLERK_PASSWORD}, "op1", False), options=SLOW_LINK
        )
        if report.ok:
            return attempt, time.monotonic() - started
        if not report.offline:
            raise SystemExit(f"sync failed: {report.error}")
    raise SystemExit(f"no complete sync after {attempts} attempts")


def scenario_10(hq: HQ, records: int, kbits: int, reset_every: float) -> dict[str, Any]:
    out: dict[str, Any] = {"scenario": "10: 30 days offline", "records": records}
    services = build_services(hq.store)
    online, mod = hq.online("mod1")
    now = hq.server_now()
    today = hq.today(hq.site_a)
    start = today - timedelta(days=29)
    old = [
        online.records.create(
            mod,
            Module.DISPATCH,
            hq.site_a.id,
            {"date": str(start - timedelta(days=1)), "material": "AGG-G1", "quantity": str(i + 1)},
        ).value
        for i in range(200)
    ]
    clock = FixedClock(now - timedelta(days=29))
    store = open_store(f"sqlite:///{FOLDER / 's10.sqlite3'}", clock=clock)
    assert join(store, hq.clerk_url, "op1", CLERK_PASSWORD, ["SITE-A"], options=SLOW_LINK).ok
    laptop = Laptop("s10", store, build_services(store), hq, "op1")
    actor = laptop.actor()
    per_day = max(1, records // 30)
    typed = 0
    for day in range(30):
        clock.set(now - timedelta(days=29 - day))
        date = start + timedelta(days=day)
        rows = [
            {
                "date": str(date),
                "material": "AGG-3/4",
                "quantity": f"{i % 50 + 1}.250",
                "reference": f"L{day}-{i}",
            }
            for i in range(per_day - 2)
        ]
        laptop.services.records.create_many(actor, Module.DISPATCH, hq.site_a.id, rows)
        for shift in ("MORNING", "NIGHT"):
            laptop.services.records.create(
                actor,
                Module.PRODUCTION,
                hq.site_a.id,
                production(date, "AGG-G1", "120", shift=shift),
            )
        typed += per_day
        # Head office the same day: its own entries, edits and deletes of the old records.
        online.records.create_many(
            mod,
            Module.DISPATCH,
            hq.site_a.id,
            [{"date": str(date), "material": "AGG-S1", "quantity": "7"} for _ in range(15)],
        )
        if day < 10:
            target = old[day]
            online.records.update(
                mod, Module.DISPATCH, target.id, {**_raw(target), "quantity": "99"}
            )
        if 10 <= day < 13:
            online.records.delete(mod, Module.DISPATCH, old[day].id)
        if day % 10 == 0:
            material = next(m for m in services.master.reference().materials if m.code == "AGG-3/4")
            services.master.update_material(hq.boss, material.id, low_threshold=str(100 + day))
    # The operator touched some of the same old records while offline (some within the
    # window the laptop's clock allowed back then).
    clock.set(now - timedelta(days=29))
    for target in old[5:15]:
        with contextlib.suppress(DeskOpsError):
            laptop.services.records.update(
                actor, Module.DISPATCH, target.id, {**_raw(target), "quantity": "55"}
            )
    clock.set(now)
    out["typed offline"] = typed

    proxy = FaultProxy(int(hq.url.port or 5432))
    proxy.start()
    proxy.set_mode("throttle", bytes_per_second=kbits * 1000 // 8)
    proxy.reset_every(reset_every)
    via = hq.clerk_url.set(port=proxy.port)
    _point_at(store, via)
    rss_before = _rss_mib()
    attempts, seconds = _sync_until_done(store)
    proxy.reset_every(0)
    out.update(
        sync_attempts=attempts,
        sync_seconds=round(seconds, 1),
        bytes_up=proxy.stats.bytes_up,
        bytes_down=proxy.stats.bytes_down,
        connections=proxy.stats.connections,
        peak_rss_mib=round(max(_rss_mib(), rss_before), 1),
    )
    status = laptop.status()
    out.update(
        held=status.held,
        conflicts=status.conflicts,
        rejected=status.rejected,
        waiting=status.waiting,
        synced=status.synced,
    )
    check_invariants(hq, [laptop])
    late = 23 * per_day  # entries dated before the 7-day window
    if status.held < late * 0.9:
        raise SystemExit(f"only {status.held} late entries held (expected about {late})")

    # A supervisor applies every held entry; one more sync converges.
    started = time.monotonic()
    link = ServerLink(hq.clerk_url, "mod1", CLERK_PASSWORD, SLOW_LINK)
    decided = 0
    try:
        while True:
            with link.transaction() as conn, Session(bind=conn) as session:
                items = [i for i in list_items(session) if i.held][:500]
                for item in items:
                    resolve(session, item.id, KEEP_MINE)
            decided += len(items)
            if not items:
                break
    finally:
        link.dispose()
    out["supervisor applied held entries"] = decided
    out["supervisor seconds"] = round(time.monotonic() - started, 1)
    proxy.set_mode("pass")
    attempts, seconds = _sync_until_done(store)
    out["after decisions: sync seconds"] = round(seconds, 1)
    check_invariants(hq, [laptop])
    out["after decisions: laptop records"] = laptop.services.records.count(
        actor, Module.DISPATCH, hq.site_a.id, start - timedelta(days=1), today
    )
    proxy.stop()
    store.dispose()
    return out


def _raw(row: Any) -> dict[str, str]:
    return {k: "" if v is None else str(v) for k, v in row.values.items()}


def _point_at(store: Store, url: Any) -> None:
    from sqlalchemy import update

    from deskops_desktop.models.sync import SyncState

    with store.write() as session:
        session.execute(
            update(SyncState).values(server_url=url.render_as_string(hide_password=False))
        )


def scenario_11(hq: HQ, kbits: int) -> dict[str, Any]:
    out: dict[str, Any] = {"scenario": "11: first sync of a site-year, killed halfway"}
    hq.reset()
    services = build_services(hq.store)
    summary = generate_demo(services, sites=1, days=365, seed=11)
    site = services.master.site_by_code(SYSTEM, summary.sites[0])
    op1 = next(u for u in services.users.list(SYSTEM) if u.username == "op1")
    services.users.update(hq.boss, op1.id, role=Role.OPERATOR, site_codes=[site.code])
    out["records at head office"] = summary.total
    proxy = FaultProxy(int(hq.url.port or 5432))
    proxy.start()
    proxy.set_mode("throttle", bytes_per_second=kbits * 1000 // 8)
    via = hq.clerk_url.set(port=proxy.port).render_as_string(hide_password=False)
    db = FOLDER / "s11.sqlite3"
    log = FOLDER / "s11.progress"
    log.unlink(missing_ok=True)
    args = [
        sys.executable,
        "-m",
        "tests.sync.laptop_main",
        "--db",
        str(db),
        "--now",
        hq.server_now().isoformat(),
        "--join",
        via,
        "--site",
        site.code,
        "--page",
        "1000",
        "--progress-log",
        str(log),
    ]
    env = {**os.environ, "PYTHONPATH": str(REPO), "DESKOPS_SYNC_FAULT": "mid_download:15"}
    started = time.monotonic()
    killed = subprocess.run(args, env=env, cwd=REPO, capture_output=True, timeout=3600)
    out["killed run seconds"] = round(time.monotonic() - started, 1)
    out["killed run status"] = killed.returncode
    env.pop("DESKOPS_SYNC_FAULT")
    started = time.monotonic()
    resumed = subprocess.run(args, env=env, cwd=REPO, capture_output=True, timeout=3600)
    out["resumed run seconds"] = round(time.monotonic() - started, 1)
    if resumed.returncode != 0:
        raise SystemExit(resumed.stderr.decode()[-2000:])
    out["bytes"] = proxy.stats.bytes_up + proxy.stats.bytes_down
    out["peak rss of a laptop process MiB"] = round(_rss_mib(resource.RUSAGE_CHILDREN), 1)
    runs = _split_runs(log.read_text().split())
    out["progress reports"] = sum(len(run) for run in runs)
    out["progress per run"] = [f"{run[0]}..{run[-1]}" for run in runs if run]
    if any(b < a for run in runs for a, b in itertools.pairwise(run)):
        raise SystemExit(f"progress went down within a run: {runs}")
    proxy.stop()
    store = Store(f"sqlite:///{db}")
    laptop = Laptop("s11", store, build_services(store), hq, "op1")
    check_invariants(hq, [laptop])
    store.dispose()
    return out


def _split_runs(lines: list[str]) -> list[list[int]]:
    """Each process starts its own bar (a ``run`` line): a resumed download rightly starts at
    what was committed, which may be below what the killed process last showed."""
    runs: list[list[int]] = []
    for line in lines:
        if line == "run":
            runs.append([])
        elif runs:
            runs[-1].append(int(line))
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--kbits", type=int, default=256)
    parser.add_argument("--reset-every", type=float, default=30.0)
    parser.add_argument("--only", choices=["10", "11"])
    args = parser.parse_args(argv)
    passwords.COST_LOG_N = 12
    FOLDER.mkdir(exist_ok=True)
    for old in FOLDER.glob("*"):
        old.unlink()
    server = start_throwaway(PORT)
    results = []
    try:
        hq = make_hq(make_url(server.url), "deskops_scenarios")
        try:
            if args.only in (None, "10"):
                results.append(scenario_10(hq, args.records, args.kbits, args.reset_every))
                print(json.dumps(results[-1], indent=2), flush=True)
            if args.only in (None, "11"):
                results.append(scenario_11(hq, max(args.kbits, 1024)))
                print(json.dumps(results[-1], indent=2), flush=True)
        finally:
            hq.close()
    finally:
        server.remove()
    out = REPO / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "bench_sync_scenarios.json").write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
