"""Scenarios 6-8: clocks never order anything; restored backups and copied stores; versions.

- Clock skew: a laptop three days behind and one two hours ahead; the skew is measured against
  the server's clock and shown, the first push wins whatever the timestamps say, and the
  server's date decides the operator window.
- A backup restored in place is recognised (its push sequence is below what head office last
  acknowledged): its unanswered operations are sent once (the server knows their op ids) and
  its sites download again. A store copied to another folder or computer is refused.
- A laptop or server on another sync protocol or schema is refused before anything is sent.
"""

from __future__ import annotations

import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from deskops_desktop.models.enums import Module
from deskops_desktop.models.sync import SyncAppliedOp
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import Store
from deskops_desktop.sync import local_items
from deskops_desktop.sync.identity import ENV_MACHINE_ID
from deskops_desktop.sync.server_schema import install
from tests.sync.hq import HQ
from tests.sync.laptops import Laptop, ledger_of, make_laptop, production, records_of

pytestmark = pytest.mark.postgres
P = Module.PRODUCTION


def test_skewed_clocks_are_shown_and_never_order_anything(hq: HQ, tmp_path: Path) -> None:
    behind = make_laptop(hq, tmp_path, "behind", "op1")
    ahead = make_laptop(hq, tmp_path, "ahead", "op2")
    try:
        today = hq.today(hq.site_a) - timedelta(days=3)  # not in the future for either laptop
        row = behind.services.records.create(
            behind.actor(), P, hq.site_a.id, production(today)
        ).value
        assert behind.sync().ok
        assert ahead.sync().ok
        now = hq.server_now()
        behind.clock.set(now - timedelta(days=3))
        ahead.clock.set(now + timedelta(hours=2))
        # The laptop behind edits first by the server's order of arrival, though its
        # updated_at says three days ago; the one ahead stamps "later" and still loses.
        behind.services.records.update(behind.actor(), P, row.id, production(today, quantity="3"))
        ahead.services.records.update(ahead.actor(), P, row.id, production(today, quantity="4"))
        first = behind.sync()
        assert first.push.applied == 1
        second = ahead.sync()
        assert second.push.conflicts == 1
        server = records_of(hq.store, hq.site_a.id)["production"][row.id]
        assert server["quantity"] == "3.000"

        skew_behind = behind.status()
        assert skew_behind.skew_warning
        assert skew_behind.skew_seconds is not None
        assert abs(skew_behind.skew_seconds + 3 * 86400) < 120
        assert "clock is off by 3.0 days (behind)" in skew_behind.headline()
        skew_ahead = ahead.status()
        assert skew_ahead.skew_warning
        assert "(ahead)" in skew_ahead.headline()
        assert records_of(ahead.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
    finally:
        behind.close()
        ahead.close()


def test_a_small_skew_is_not_a_warning(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        laptop.clock.set(hq.server_now() + timedelta(minutes=2))
        assert laptop.sync().ok
        assert not laptop.status().skew_warning
    finally:
        laptop.close()


def _reopen(laptop: Laptop, path: Path) -> Laptop:
    store = Store(f"sqlite:///{path}", clock=laptop.store.clock)
    return Laptop(laptop.name, store, build_services(store), laptop.hq, laptop.username)


def test_a_restored_backup_sends_its_unanswered_work_once(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path, "restore")
    path = tmp_path / "restore.sqlite3"
    try:
        today = hq.today(hq.site_a)
        actor = laptop.actor()
        laptop.services.records.create(actor, P, hq.site_a.id, production(today, "AGG-G1"))
        backup = laptop.store.backup(tmp_path / "backup.sqlite3")  # one operation unanswered
        assert laptop.sync().push.applied == 1
        laptop.services.records.create(actor, P, hq.site_a.id, production(today, "AGG-3/4"))
        assert laptop.sync().push.applied == 1
        laptop.close()

        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        shutil.copyfile(backup, path)
        laptop = _reopen(laptop, path)
        assert laptop.status().pending == 1

        report = laptop.sync()
        assert report.ok, report.error
        assert report.restored
        assert (report.push.sent, report.push.replayed) == (1, 1)  # known op id: not again
        with hq.store.read() as session:
            assert session.scalar(select(func.count()).select_from(SyncAppliedOp)) == 2
        assert len(records_of(hq.store, hq.site_a.id)["production"]) == 2
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        # New work after the restore gets sequence numbers the server has not seen.
        laptop.services.records.create(actor, P, hq.site_a.id, production(today, "AGG-3/8"))
        assert laptop.sync().push.applied == 1
        assert laptop.status().synced
    finally:
        laptop.close()


def test_a_copied_store_is_refused(hq: HQ, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    laptop = make_laptop(hq, tmp_path, "original")
    copy_path = tmp_path / "copy.sqlite3"
    try:
        today = hq.today(hq.site_a)
        laptop.services.records.create(laptop.actor(), P, hq.site_a.id, production(today))
        shutil.copyfile(laptop.store.backup(tmp_path / "snap.sqlite3"), copy_path)
        copy = _reopen(laptop, copy_path)
        try:
            report = copy.sync()
            assert not report.ok
            assert "copied" in report.error
            assert copy.status().refused
            assert copy.status().headline().startswith("Sync refused")
        finally:
            copy.close()
        # The same file on "another computer" is refused too.
        monkeypatch.setenv(ENV_MACHINE_ID, "another-computer")
        assert "copied" in laptop.sync().error
        monkeypatch.delenv(ENV_MACHINE_ID)
        assert records_of(hq.store, hq.site_a.id)["production"] == {}  # nothing was pushed
        ok = laptop.sync()
        assert ok.push.applied == 1
        assert not laptop.status().refused
    finally:
        laptop.close()


def test_versions_are_checked_both_ways_before_anything_is_sent(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        today = hq.today(hq.site_a)
        laptop.services.records.create(laptop.actor(), P, hq.site_a.id, production(today))
        with hq.store.engine.begin() as conn:
            conn.exec_driver_sql(
                "CREATE OR REPLACE FUNCTION deskops_sync_meta() RETURNS jsonb LANGUAGE sql AS "
                "$$ SELECT jsonb_build_object('protocol', 9, 'min_client_protocol', 9, "
                "'schema', '0005', 'now', now(), 'horizon_xid', 0, 'horizon_seq', 0) $$"
            )
        old_laptop = laptop.sync()
        assert "update DeskOps on this laptop" in old_laptop.error
        with hq.store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0002'"))
        _reinstall(hq)
        old_server = laptop.sync()
        assert "head office must upgrade first" in old_server.error
        assert records_of(hq.store, hq.site_a.id)["production"] == {}
        assert laptop.status().pending == 1
    finally:
        with hq.store.engine.begin() as conn:
            conn.execute(text("UPDATE alembic_version SET version_num = '0005'"))
        _reinstall(hq)
        laptop.close()
    assert local_items(laptop.store) == []


def _reinstall(hq: HQ) -> None:
    with hq.store.engine.begin() as conn:
        install(conn, hq.roles)
