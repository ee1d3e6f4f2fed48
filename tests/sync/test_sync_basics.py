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
            laptop.services.records.create(actor, Module.PRODUCTION, hq.site_a.id, r).record
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
        services.records.delete(mod, Module.PRODUCTION, made.record.id)
        laptop.sync()
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        assert laptop.services.ledger.verify(laptop.actor(), hq.site_a.id) == []
    finally:
        laptop.close()
