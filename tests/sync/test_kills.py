"""Scenario 2: the laptop SIGKILLed at every named point of a sync, and at random moments.

Each run is a real process (``tests/sync/laptop_main.py``) that dies with ``os._exit(137)``
at a fault point — no ``finally``, no flush, nothing but SQLite's own journal — or is killed by
the test with SIGKILL at a random moment. The next run must recover: no operation lost or
applied twice, the laptop equal to head office, both ledgers equal to a recomputation.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from deskops_desktop.models.enums import Module
from deskops_desktop.services.store import Store
from deskops_desktop.sync.faults import KILLED_STATUS
from tests.sync.hq import HQ
from tests.sync.invariants import check_invariants, server_record_count
from tests.sync.laptops import ROOT, Laptop, make_laptop, production

pytestmark = pytest.mark.postgres


def _run(args: list[str], fault: str | None = None, timeout: float = 60) -> tuple[int, dict]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DESKOPS_SYNC_FAULT", None)
    if fault:
        env["DESKOPS_SYNC_FAULT"] = fault
    done = subprocess.run(
        [sys.executable, "-m", "tests.sync.laptop_main", *args],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    data = json.loads(lines[-1]) if lines and lines[-1].startswith("{") else {}
    if done.returncode not in (0, 2, KILLED_STATUS):
        raise AssertionError(f"laptop died oddly ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.returncode, data


def _reopen(laptop: Laptop) -> Laptop:
    from deskops_desktop.services.bundle import build_services

    laptop.store.dispose()
    store = Store(str(laptop.store.url), clock=laptop.store.clock)
    return Laptop(laptop.name, store, build_services(store), laptop.hq, laptop.username)


PUSH_POINTS = ["after_outbox_staged", "mid_batch", "after_server_commit", "between_batches"]
PULL_POINTS = ["mid_pull_integrate", "after_integrate"]


@pytest.mark.parametrize("point", PUSH_POINTS + PULL_POINTS)
def test_killed_at_a_named_point_the_next_run_recovers(hq: HQ, tmp_path: Path, point: str) -> None:
    laptop = make_laptop(hq, tmp_path)
    laptop.store.dispose()
    services, mod = hq.online("mod1")
    today = hq.today(hq.site_a)
    for material in ("AGG-G1", "AGG-3/4", "AGG-3/8", "AGG-S1", "AGG-APBC", "FINE-WASHED"):
        services.records.create(mod, Module.PRODUCTION, hq.site_a.id, production(today, material))
    db = str(laptop.store.url.database)
    common = ["--db", db, "--now", hq.server_now().isoformat(), "--batch", "7", "--page", "2"]
    create = ["--create", "20", "--site-id", hq.site_a.id, "--day", str(today)]
    nth = ":2" if point in ("between_batches", "after_integrate") else ""
    status, _ = _run([*common, *create, "--sync"], fault=point + nth)
    assert status == KILLED_STATUS, f"{point} was not reached"

    status, data = _run([*common, "--sync"])
    assert status == 0, data
    if point == "after_server_commit":
        assert data["replayed"] == 7  # the batch whose answer was lost: known op ids
    laptop = _reopen(laptop)
    try:
        assert server_record_count(hq) == 20
        try:
            check_invariants(hq, [laptop])
        except AssertionError:
            with laptop.store.read() as session:
                lines = session.execute(text("SELECT step, message FROM sync_log")).all()
            raise AssertionError(f"{data}\n{lines}") from None
    finally:
        laptop.close()


def test_killed_during_the_first_download_resumes(hq: HQ, tmp_path: Path) -> None:
    services, mod = hq.online("mod1")
    today = hq.today(hq.site_a)
    for n in range(30):
        services.records.create(
            mod,
            Module.DISPATCH,
            hq.site_a.id,
            {"date": str(today), "material": "AGG-G1", "quantity": str(n + 1)},
        )
    db = str(tmp_path / "fresh.sqlite3")
    common = ["--db", db, "--now", hq.server_now().isoformat(), "--page", "4"]
    join = ["--join", hq.clerk_url.render_as_string(False), "--site", "SITE-A"]
    status, _ = _run([*common, *join], fault="mid_download:5")
    assert status == KILLED_STATUS
    status, data = _run([*common, *join])
    assert status == 0, data
    store = Store(f"sqlite:///{db}")
    from deskops_desktop.services.bundle import build_services

    laptop = Laptop("fresh", store, build_services(store), hq, "op1")
    try:
        check_invariants(hq, [laptop])
    finally:
        laptop.close()


def test_killed_at_random_moments(hq: HQ, tmp_path: Path) -> None:
    """Jepsen's kill nemesis: SIGKILL after a random delay, five times, then a clean run.

    Each run types 60 records and syncs them in batches of 5 (about two seconds of work), so
    the kill lands while writing, pushing or pulling.
    """
    laptop = make_laptop(hq, tmp_path)
    laptop.store.dispose()
    today = hq.today(hq.site_a)
    db = str(laptop.store.url.database)
    common = ["--db", db, "--now", hq.server_now().isoformat(), "--batch", "5", "--page", "3"]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("DESKOPS_SYNC_FAULT", None)
    chance = random.Random(13)
    created = 0
    killed = 0
    for _ in range(5):
        args = [*common, "--create", "60", "--site-id", hq.site_a.id, "--day", str(today), "--sync"]
        proc = subprocess.Popen(
            [sys.executable, "-m", "tests.sync.laptop_main", *args],
            env=env,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        time.sleep(chance.uniform(0.4, 1.4))
        proc.send_signal(signal.SIGKILL)
        killed += proc.wait(timeout=30) == -signal.SIGKILL
        created += 60
    assert killed >= 3  # most runs really died mid-way (not after finishing)
    status, data = _run([*common, "--sync"])
    assert status == 0, data
    laptop = _reopen(laptop)
    try:
        local = laptop.services.records.count(
            laptop.actor(), Module.DISPATCH, hq.site_a.id, today, today
        )
        assert local <= created  # a kill may land before all 15 were written
        assert server_record_count(hq) == local  # every one that was written arrived, once
        check_invariants(hq, [laptop])
    finally:
        laptop.close()
