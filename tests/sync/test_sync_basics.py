"""The core loop on real PostgreSQL: join, work offline, push, pull, confirm, both ways."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM
from tests.sync.hq import HQ
from tests.sync.laptops import ledger_of, make_laptop, production, records_of

pytestmark = pytest.mark.postgres


def test_join_downloads_its_sites_and_master_data(hq: HQ, tmp_path: Path) -> None:
    today = hq.today(hq.site_a)
    boss = hq.boss
    hq.services.records.create(boss, Module.PRODUCTION, hq.site_a.id, production(today))
    hq.services.records.create(boss, Module.PRODUCTION, hq.site_b.id, production(today))
    laptop = make_laptop(hq, tmp_path)
    try:
        assert len(records_of(laptop.store, hq.site_a.id)["production"]) == 1
        assert records_of(laptop.store, hq.site_b.id)["production"] == {}
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        actor = laptop.actor()
        assert laptop.services.ledger.verify(actor, hq.site_a.id) == []
        status = laptop.status()
        assert status.synced, status
        assert status.headline().startswith("0 waiting · 0 need attention")
    finally:
        laptop.close()


def test_offline_work_is_pushed_once_and_confirmed(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        actor = laptop.actor()
        today = hq.today(hq.site_a)
        rows = [production(today, m) for m in ("AGG-G1", "AGG-3/4", "AGG-3/8")]
        created = [
            laptop.services.records.create(actor, Module.PRODUCTION, hq.site_a.id, r).value
            for r in rows
        ]
        laptop.services.records.update(
            actor, Module.PRODUCTION, created[0].id, production(today, quantity="12.5")
        )
        laptop.services.records.delete(actor, Module.PRODUCTION, created[2].id)
        status = laptop.status()
        assert (status.waiting, status.synced) == (2, False)  # coalesced: 2 inserts left

        report = laptop.sync()
        assert report.ok, report.error
        assert (report.push.sent, report.push.applied) == (2, 2)
        assert records_of(hq.store, hq.site_a.id) == records_of(laptop.store, hq.site_a.id)
        assert ledger_of(hq.store, hq.site_a.id) == ledger_of(laptop.store, hq.site_a.id)
        assert hq.services.ledger.verify(SYSTEM, hq.site_a.id) == []
        assert laptop.status().synced

        again = laptop.sync()
        assert (again.push.sent, again.pull.changes) == (0, 0) or again.push.sent == 0
    finally:
        laptop.close()


def test_head_office_changes_arrive_with_the_ledger(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        services, mod = hq.online("mod1")
        today = hq.today(hq.site_a)
        made = services.records.create(mod, Module.PRODUCTION, hq.site_a.id, production(today))
        services.records.create(
            mod,
            Module.DISPATCH,
            hq.site_a.id,
            {"date": str(today), "material": "AGG-G1", "quantity": "4"},
        )
        report = laptop.sync()
        assert report.ok, report.error
        assert report.changes.touches(
            __import__("deskops_desktop.services.changes", fromlist=["Area"]).Area.PRODUCTION,
            hq.site_a.id,
        )
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        services.records.delete(mod, Module.PRODUCTION, made.value.id)
        laptop.sync()
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        assert laptop.services.ledger.verify(laptop.actor(), hq.site_a.id) == []
    finally:
        laptop.close()


def test_a_site_added_later_downloads_in_full(hq: HQ, tmp_path: Path) -> None:
    today = hq.today(hq.site_b)
    services, mod = hq.online("mod1")
    services.records.create(mod, Module.PRODUCTION, hq.site_b.id, production(today))
    laptop = make_laptop(hq, tmp_path, username="mod1", sites=("SITE-A",))
    try:
        assert records_of(laptop.store, hq.site_b.id)["production"] == {}
        from deskops_desktop.sync import join
        from tests.sync.hq import CLERK_PASSWORD

        report = join(laptop.store, hq.clerk_url, "mod1", CLERK_PASSWORD, ["SITE-B"])
        assert report.ok, report.error
        assert report.downloaded >= 1
        assert records_of(laptop.store, hq.site_b.id) == records_of(hq.store, hq.site_b.id)
        assert ledger_of(laptop.store, hq.site_b.id) == ledger_of(hq.store, hq.site_b.id)
        assert set(laptop.status().site_ids) == {hq.site_a.id, hq.site_b.id}
        assert laptop.status().synced
    finally:
        laptop.close()


def test_a_laptop_behind_the_pruned_feed_downloads_again(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        services, mod = hq.online("mod1")
        today = hq.today(hq.site_a)
        made = services.records.create(mod, Module.PRODUCTION, hq.site_a.id, production(today))
        services.records.delete(mod, Module.PRODUCTION, made.value.id)
        services.records.create(mod, Module.PRODUCTION, hq.site_a.id, production(today, "AGG-S1"))
        with hq.store.engine.begin() as conn:  # the feed rows age past the retention
            conn.exec_driver_sql("UPDATE sync_changes SET at = at - interval '200 days'")
        from sqlalchemy import text

        with hq.store.engine.begin() as conn:
            gone = conn.execute(text("SELECT deskops_sync_prune(120)")).scalar()
        assert (gone or 0) >= 3
        report = laptop.sync()
        assert report.ok, report.error
        assert any(scope.startswith("s:") for scope in report.repaired)
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        assert laptop.status().synced
    finally:
        laptop.close()


class _CancelAfter:
    """A progress object that asks to stop after ``n`` progress reports."""

    def __init__(self, n: int) -> None:
        self.n = n
        self.percents: list[int] = []

    def set_progress(self, percent: int) -> None:
        self.percents.append(percent)

    def set_status(self, text: str) -> None:
        del text

    def is_cancelled(self) -> bool:
        return len(self.percents) >= self.n


def test_a_cancelled_first_download_resumes_with_rising_progress(hq: HQ, tmp_path: Path) -> None:
    from datetime import timedelta

    from deskops_desktop.models.clock import FixedClock
    from deskops_desktop.services.store import open_store
    from deskops_desktop.sync import Credentials, SyncTuning, join, run_sync
    from tests.sync.hq import CLERK_PASSWORD

    services, mod = hq.online("mod1")
    today = hq.today(hq.site_a)
    services.records.create_many(
        mod,
        Module.DISPATCH,
        hq.site_a.id,
        [
            {"date": str(today - timedelta(days=n % 5)), "material": "AGG-G1", "quantity": "2"}
            for n in range(40)
        ],
    )
    store = open_store(f"sqlite:///{tmp_path / 'c.sqlite3'}", clock=FixedClock(hq.server_now()))
    try:
        small = SyncTuning(download_page=5)
        first = _CancelAfter(3)
        report = join(store, hq.clerk_url, "op1", CLERK_PASSWORD, ["SITE-A"], first, tuning=small)
        assert not report.ok
        assert "cancelled" in report.error
        assert report.status is not None
        assert report.status.phase == "download"
        assert first.percents == sorted(first.percents)
        again = _CancelAfter(10**6)
        done = run_sync(store, Credentials.single("op1", CLERK_PASSWORD), again, tuning=small)
        assert done.ok, done.error
        assert again.percents == sorted(again.percents)
        assert again.percents[-1] == 100
        assert records_of(store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
    finally:
        store.dispose()
