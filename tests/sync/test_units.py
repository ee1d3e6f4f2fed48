"""Unit tests without a server: the schedule, the status line, the protocol's version check,
the codec, batch planning and the fault points."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from deskops_desktop.models.base import Base
from deskops_desktop.models.sync import MASTER_TABLES, NEVER_SYNCED, PULLED_TABLES, PUSHED_TABLES
from deskops_desktop.models.sync_codec import decode_row, encode_row, row_digest
from deskops_desktop.sync import SyncStatus
from deskops_desktop.sync.attention import short_ids
from deskops_desktop.sync.faults import on_fault
from deskops_desktop.sync.protocol import PROTOCOL, VersionMismatch, check_versions
from deskops_desktop.sync.push import plan_batches
from deskops_desktop.sync.runner import RisingProgress
from deskops_desktop.sync.schedule import SyncSchedule
from deskops_desktop.sync.state import OutboxOp
from deskops_desktop.sync.tables import scope_tables, synced, synced_tables


def test_the_schedule_backs_off_and_comes_back_at_once() -> None:
    schedule = SyncSchedule(rng=random.Random(1), jitter=0.0)
    assert schedule.after_success() == 300
    assert schedule.after_success(waiting=3) == 30
    assert [schedule.after_offline(n) for n in (1, 2, 3, 10)] == [10, 20, 40, 600]
    assert schedule.after_local_change(300) == 30
    assert schedule.server_back() == 0
    assert schedule.needs_a_person("this store was copied from another computer")
    assert not schedule.needs_a_person("head office cannot be reached")
    jittered = SyncSchedule(rng=random.Random(2)).after_offline(1)
    assert 8 <= jittered <= 12


def test_the_status_line_says_what_is_true() -> None:
    assert SyncStatus(False).headline() == ""
    at = datetime(2026, 12, 1, 9, 12, tzinfo=UTC)
    fine = SyncStatus(True, phase="ready", last_confirmed_at=at, sanity_ok=True)
    assert fine.synced
    assert fine.headline() == (
        "0 waiting · 0 need attention · last confirmed with head office at 2026-12-01 09:12 UTC"
    )
    busy = SyncStatus(
        True,
        phase="ready",
        pending=2,
        sent=1,
        conflicts=1,
        last_confirmed_at=at,
        sanity_ok=True,
        skew_seconds=-7200,
    )
    assert not busy.synced
    assert busy.headline().startswith("3 waiting · 1 needs attention")
    assert "clock is off by 2.0 hours (behind)" in busy.headline()
    held_back = SyncStatus(True, phase="ready", last_confirmed_at=at, sanity_ok=True, held_back=2)
    assert not held_back.synced
    assert "still in progress" in held_back.headline()
    assert SyncStatus(True, refused="copied").headline() == "Sync refused: copied"
    assert "first download" in SyncStatus(True, phase="download").headline()
    data = busy.to_json()
    assert (data["waiting"], data["attention"], data["synced"]) == (3, 1, False)


def test_versions_are_checked_both_ways() -> None:
    check_versions(PROTOCOL, PROTOCOL, "0005", "0005")
    with pytest.raises(VersionMismatch, match="update DeskOps on this laptop"):
        check_versions(PROTOCOL + 1, PROTOCOL + 1, "0005", "0005")
    with pytest.raises(VersionMismatch, match="head office must upgrade first"):
        check_versions(0, 0, "0005", "0005")
    with pytest.raises(VersionMismatch, match="head office must upgrade first"):
        check_versions(PROTOCOL, PROTOCOL, "0002", "0005")
    with pytest.raises(VersionMismatch, match="update DeskOps on this laptop"):
        check_versions(PROTOCOL, PROTOCOL, "0006", "0005")


def test_the_codec_is_exact_and_refuses_floats() -> None:
    table = Base.metadata.tables["production"]
    row = {
        "id": "x",
        "quantity": Decimal("12.500"),
        "date": date(2026, 1, 2),
        "created_at": datetime(2026, 1, 2, 3, 4, tzinfo=UTC),
        "version": 3,
    }
    encoded = encode_row(table, row)
    assert encoded["quantity"] == "12.500"
    assert decode_row(table, encoded) == row
    with pytest.raises(TypeError, match="inexact"):
        decode_row(table, {"quantity": 12.5})
    with pytest.raises(ValueError, match="no column"):
        decode_row(table, {"nope": 1})
    assert row_digest([encoded]) == row_digest([dict(reversed(list(encoded.items())))])


def _op(seq: int, author: str, record: str) -> OutboxOp:
    return OutboxOp(
        seq, f"op{seq}", author, "production", record, "s", "insert", 0, None, {}, "pending"
    )


def test_batches_keep_each_records_order_and_one_author_each() -> None:
    ops = [
        _op(1, "a", "r1"),
        _op(2, "a", "r2"),
        _op(3, "b", "r3"),
        _op(4, "a", "r1"),
        _op(5, "c", "r4"),
        _op(6, "a", "r4"),
    ]
    batches, waiting = plan_batches(ops, lambda author: author != "c", limit=10)
    assert [[o.seq for o in b] for b in batches] == [[1, 2], [3], [4]]
    assert [o.seq for o in waiting] == [5, 6]  # r4 waits behind c's operation


def test_fault_hooks_are_called_and_removed() -> None:
    seen: list[str] = []
    with on_fault(seen.append):
        from deskops_desktop.sync.faults import fault

        fault("between_batches")
    fault("between_batches")
    assert seen == ["between_batches"]


def test_the_synced_tables_follow_the_models() -> None:
    names = [t.name for t in synced_tables()]
    assert names[:2] == ["sites", "materials"]
    assert "stock_days" not in names
    assert synced("user_sites").key == ("user_id", "site_id")
    assert [t.name for t in scope_tables("u:x")] == ["user_sites"]
    assert "production" in [t.name for t in scope_tables("s:x")]
    assert "production" not in [t.name for t in scope_tables("m")]
    assert "password_hash" not in synced("users").columns
    with pytest.raises(KeyError):
        synced("stock_days")


def test_every_table_is_classified_once() -> None:
    """A new table must be put in exactly one list: pulled (and maybe pushed), never synced, or
    sync's own bookkeeping; otherwise a release could add a table that silently never travels."""
    names = set(Base.metadata.tables)
    own = {n for n in names if n.startswith("sync_")}
    pulled, never = set(PULLED_TABLES), set(NEVER_SYNCED)
    assert names == pulled | never | own
    assert not pulled & never
    assert not (pulled | never) & own
    assert set(PUSHED_TABLES) <= pulled
    assert "feed" in PUSHED_TABLES
    assert "conversion_factors" in MASTER_TABLES


def test_short_ids_tell_items_made_in_one_moment_apart() -> None:
    same_moment = ["01a2318e-7efd-73cb-8000-000000000001", "01a2318e-7efd-73cc-8000-000000000002"]
    assert short_ids(same_moment) == {
        same_moment[0]: "01a2318e-7efd-73cb",
        same_moment[1]: "01a2318e-7efd-73cc",
    }
    apart = ["01a2318e-0000", "01b00000-0000"]
    assert short_ids(apart) == {apart[0]: "01a2318e", apart[1]: "01b00000"}
    assert short_ids([]) == {}


def test_progress_never_slides_back_within_a_run() -> None:
    """Estimates taken at different moments may disagree: the bar holds its highest value."""
    seen: list[int] = []

    class Recorder:
        def set_progress(self, percent: int) -> None:
            seen.append(percent)

        def set_status(self, text: str) -> None:
            del text

        def is_cancelled(self) -> bool:
            return False

    rising = RisingProgress(Recorder())
    for percent in (0, 5, 11, 10, 10, 12, 60, 59, 100):
        rising.set_progress(percent)
    assert seen == [0, 5, 11, 12, 60, 100]
    assert rising.is_cancelled() is False
