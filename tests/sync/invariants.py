"""The invariants every sync test ends on (research §7): checked after quiescence.

- I1 no loss: every outbox operation ended applied (and confirmed), or in a visible state
  (conflict/held with an open item at head office, rejected with a reason, resolved).
- I2 no duplicate: every op id is applied at most once at head office (its primary key), and
  the server holds exactly the records expected (when a test knows them).
- I3 convergence: per kept site, the laptop's records equal head office's, field for field.
- I4 ledger: ``stock_days`` equals a recomputation from the records on both sides.
- I5 honesty: when the laptop's status says "synced", I1-I4 hold (checked by callers that
  assert ``status.synced`` after the other invariants passed, and never before).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import func, select

from deskops_desktop.models.sync import OpState, SyncAppliedOp, SyncAttention, SyncOutbox
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from tests.sync.hq import HQ
from tests.sync.laptops import Laptop, ledger_of, records_of

TERMINAL = {
    OpState.APPLIED,
    OpState.CONFLICT,
    OpState.HELD,
    OpState.REJECTED,
    OpState.RESOLVED,
    OpState.DISMISSED,
}


def check_invariants(hq: HQ, laptops: Iterable[Laptop], *, expect_synced: bool = True) -> None:
    server_services = build_services(hq.store)
    with hq.store.read() as session:
        applied_ops = {
            op_id: outcome
            for op_id, outcome in session.execute(
                select(SyncAppliedOp.op_id, SyncAppliedOp.outcome)
            )
        }
        open_items = set(
            session.execute(
                select(SyncAttention.op_id).where(SyncAttention.resolved_at.is_(None))
            ).scalars()
        )
    for site in (hq.site_a, hq.site_b):
        assert server_services.ledger.verify(SYSTEM, site.id) == [], f"server ledger {site.code}"
    for laptop in laptops:
        kept = laptop.status().site_ids
        with laptop.store.read() as session:
            rows = [
                (r.seq, r.op_id, r.state, r.confirmed, r.result)
                for r in session.execute(select(SyncOutbox)).scalars()
            ]
        for seq, op_id, state, confirmed, result in rows:
            assert state in TERMINAL, f"{laptop.name}: op {seq} is still {state}"
            if state == OpState.APPLIED:
                assert op_id in applied_ops, f"{laptop.name}: applied op unknown at server"
                assert confirmed, f"{laptop.name}: op {seq} applied but not confirmed"
            if state in (OpState.CONFLICT, OpState.HELD):
                assert op_id in open_items, f"{laptop.name}: op {seq} has no open item"
            if state == OpState.REJECTED:
                assert result, "a rejection without a reason"
                assert result.get("reason"), "a rejection without a reason"
        op_ids = [r[1] for r in rows]
        assert len(op_ids) == len(set(op_ids))
        for site_id in kept:
            ours, theirs = records_of(laptop.store, site_id), records_of(hq.store, site_id)
            assert ours == theirs, f"{laptop.name}: records of {site_id[:8]} differ: " + _diff(
                ours, theirs
            )
            assert ledger_of(laptop.store, site_id) == ledger_of(hq.store, site_id)
            assert laptop.services.ledger.verify(SYSTEM, site_id) == []
        if expect_synced:
            status = laptop.status()
            assert status.waiting == 0, status
            assert status.synced, status


def server_record_count(hq: HQ, table: str = "dispatches") -> int:
    with hq.store.read() as session:
        model = __import__("deskops_desktop.models.base", fromlist=["Base"]).Base.metadata.tables[
            table
        ]
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _diff(
    ours: dict[str, dict[str, dict[str, object]]], theirs: dict[str, dict[str, dict[str, object]]]
) -> str:
    lines = []
    for table in sorted(ours.keys() | theirs.keys()):
        a, b = ours.get(table, {}), theirs.get(table, {})
        for rid in sorted(a.keys() | b.keys()):
            if a.get(rid) != b.get(rid):
                lines.append(f"{table} {rid[-8:]}: laptop={a.get(rid)} server={b.get(rid)}")
    return "\n".join(lines[:10])
