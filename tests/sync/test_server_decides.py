"""Scenario 5: row-level security decides every pushed change, and every refusal is visible.

- an operator's record that reaches head office after the 7-day window is *held* for a
  moderator (never applied by the push, never dropped), who applies or rejects it;
- an operator's stock adjustment is *rejected* with the server's reason;
- a clerk removed from a site while offline: their pending changes are rejected and listed,
  and the site's rows leave the laptop after the pull;
- a deactivated clerk: head office refuses their sign-in; their changes wait, with the reason.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.sync import KEEP_MINE, KEEP_THEIRS, list_items, local_items, resolve
from deskops_desktop.sync.link import ServerLink
from tests.sync.hq import CLERK_PASSWORD, HQ
from tests.sync.laptops import ledger_of, make_laptop, production, records_of

pytestmark = pytest.mark.postgres
P = Module.PRODUCTION


def _moderator_decides(hq: HQ, keep: str) -> None:
    link = ServerLink(hq.clerk_url, "mod1", CLERK_PASSWORD)
    try:
        with link.transaction() as conn, Session(bind=conn) as session:
            (item,) = list_items(session)
            assert item.held
            resolve(session, item.id, keep)
    finally:
        link.dispose()


@pytest.mark.parametrize("keep", [KEEP_MINE, KEEP_THEIRS])
def test_a_late_operator_record_is_held_for_a_moderator(hq: HQ, tmp_path: Path, keep: str) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        server_now = hq.server_now()
        # Entered on the laptop ten days ago (its clock said so), offline ever since.
        laptop.clock.set(server_now - timedelta(days=10))
        day = hq.today(hq.site_a) - timedelta(days=10)
        laptop.services.records.create(laptop.actor(), P, hq.site_a.id, production(day))
        laptop.clock.set(server_now)
        report = laptop.sync()
        assert (report.push.held, report.push.applied) == (1, 0)
        assert records_of(hq.store, hq.site_a.id)["production"] == {}  # not applied
        (item,) = local_items(laptop.store)
        assert item.state == "held"
        assert "7-day" in item.reason
        status = laptop.status()
        assert (status.held, status.attention) == (1, 1)
        # The laptop shows what head office holds; the record is kept in the queue.
        assert records_of(laptop.store, hq.site_a.id)["production"] == {}

        _moderator_decides(hq, keep)
        assert laptop.sync().ok
        server = records_of(hq.store, hq.site_a.id)["production"]
        assert len(server) == (1 if keep == KEEP_MINE else 0)
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert ledger_of(laptop.store, hq.site_a.id) == ledger_of(hq.store, hq.site_a.id)
        assert laptop.status().held == 0
    finally:
        laptop.close()


def test_an_operators_adjustment_is_rejected_with_the_servers_reason(
    hq: HQ, tmp_path: Path
) -> None:
    """A moderator demoted to operator at head office while their laptop was offline."""
    laptop = make_laptop(hq, tmp_path, username="mod1", sites=("SITE-A",))
    try:
        today = hq.today(hq.site_a)
        laptop.services.records.create(
            laptop.actor("mod1"),
            Module.ADJUSTMENTS,
            hq.site_a.id,
            {"date": str(today), "material": "AGG-G1", "quantity": "-3", "reason": "LOSS"},
        )
        mod1 = next(u for u in hq.services.users.list(SYSTEM) if u.username == "mod1")
        hq.services.users.update(hq.boss, mod1.id, role=Role.OPERATOR, site_codes=["SITE-A"])
        report = laptop.sync("mod1")
        assert (report.push.rejected, report.push.applied) == (1, 0)
        (item,) = local_items(laptop.store)
        assert item.state == "rejected"
        assert "supervisor" in item.reason
        assert records_of(hq.store, hq.site_a.id)["inventory_adjustments"] == {}
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
        assert laptop.status().rejected == 1
    finally:
        laptop.close()


def test_a_site_unassigned_while_offline(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        today = hq.today(hq.site_a)
        actor = laptop.actor()
        laptop.services.records.create(actor, P, hq.site_a.id, production(today))
        assert laptop.sync().ok
        laptop.services.records.create(actor, P, hq.site_a.id, production(today, "AGG-3/4"))
        op1 = next(u for u in hq.services.users.list(SYSTEM) if u.username == "op1")
        hq.services.users.update(hq.boss, op1.id, site_codes=["SITE-B"])

        report = laptop.sync()
        assert report.ok, report.error
        assert report.push.rejected == 1
        (item,) = local_items(laptop.store)
        assert "not assigned" in item.reason
        assert report.purged_sites == [hq.site_a.id]
        assert records_of(laptop.store, hq.site_a.id)["production"] == {}
        assert ledger_of(laptop.store, hq.site_a.id) == {}
        assert laptop.status().site_ids == ()
        assert len(records_of(hq.store, hq.site_a.id)["production"]) == 1  # untouched
    finally:
        laptop.close()


def test_a_deactivated_clerks_changes_wait_with_the_reason(hq: HQ, tmp_path: Path) -> None:
    laptop = make_laptop(hq, tmp_path)
    try:
        assert laptop.sync("op2").ok  # op2 also works on this laptop (signed in online once)
        today = hq.today(hq.site_a)
        laptop.services.records.create(laptop.actor(), P, hq.site_a.id, production(today))
        op1 = next(u for u in hq.services.users.list(SYSTEM) if u.username == "op1")
        hq.services.users.update(hq.boss, op1.id, active=False)

        alone = laptop.sync("op1")
        assert not alone.ok
        assert "deactivated" in alone.error

        shared = laptop.sync("op2", "op1")
        assert shared.ok, shared.error
        assert "deactivated" in shared.push.waiting["op1"]
        status = laptop.status()
        assert (status.pending, status.blocked, status.synced) == (1, 1, False)
        assert records_of(hq.store, hq.site_a.id)["production"] == {}
        # The pull told the laptop: op1 can no longer sign in here either.
        with pytest.raises(Exception, match="wrong user name or password"):
            laptop.actor("op1")

        hq.services.users.update(hq.boss, op1.id, active=True)
        again = laptop.sync("op1")
        assert again.push.applied == 1
        assert records_of(laptop.store, hq.site_a.id) == records_of(hq.store, hq.site_a.id)
    finally:
        laptop.close()
