"""Swapping a run folder in, both ways (one exchange on Linux, two renames elsewhere), putting a
parked folder back after a run died between the renames, and when a scheduled pack is due."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, time
from pathlib import Path

import pytest

from deskops_desktop.export import folders
from deskops_desktop.models.enums import ExportFormat
from deskops_desktop.models.pack_rules import PeriodRule
from deskops_desktop.models.packs import RUN_COMPLETED, RUN_RUNNING
from deskops_desktop.services.packs import LastRun, PackInfo, PackSchedule


def _folder(path: Path, content: str) -> Path:
    path.mkdir(parents=True)
    (path / "report.csv").write_text(content)
    return path


@pytest.mark.parametrize("exchange", [True, False], ids=["exchange", "two-renames"])
def test_swap_in_replaces_the_folder_and_leaves_nothing_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, exchange: bool
) -> None:
    if exchange and sys.platform != "linux":
        pytest.skip("renameat2 is Linux's")
    if not exchange:
        monkeypatch.setattr(folders, "_exchange", lambda _a, _b: False)
    final = _folder(tmp_path / "pack" / "2026-10", "old")
    staged = folders.staging_folder(final)
    (staged / "report.csv").write_text("new")
    folders.swap_in(staged, final)
    assert (final / "report.csv").read_text() == "new"
    assert sorted(p.name for p in final.parent.iterdir()) == ["2026-10"]


def test_the_first_run_of_a_period_just_renames(tmp_path: Path) -> None:
    final = tmp_path / "pack" / "2026-10"
    staged = folders.staging_folder(final)
    (staged / "report.csv").write_text("first")
    folders.swap_in(staged, final)
    assert (final / "report.csv").read_text() == "first"


def test_recover_puts_a_parked_folder_back_and_clears_dead_staging(tmp_path: Path) -> None:
    final = tmp_path / "pack" / "2026-10"
    # A run died between its two renames: the old folder is parked, the final name is free,
    # and its staging folder (complete or not) is still there; another period is untouched.
    _folder(folders.backup_name(final), "old")
    dead = folders.staging_folder(final)
    other = _folder(tmp_path / "pack" / "2026-09", "september")
    folders.recover(final)
    assert (final / "report.csv").read_text() == "old"
    assert not dead.exists()
    assert sorted(p.name for p in final.parent.iterdir()) == ["2026-09", "2026-10"]
    assert (other / "report.csv").read_text() == "september"


def test_replace_file_overwrites_in_place(tmp_path: Path) -> None:
    target = tmp_path / "powerbi" / "dim_site" / "dim_site.csv"
    folders.replace_file(target, b"one")
    folders.replace_file(target, b"two")
    assert target.read_bytes() == b"two"
    assert [p.name for p in target.parent.iterdir()] == ["dim_site.csv"]


# --------------------------------------------------------------------------- due packs
def _pack(schedule: time | None, last: LastRun | None) -> PackInfo:
    return PackInfo(
        id="p",
        name="hq",
        all_sites=True,
        site_ids=(),
        site_codes=(),
        reports=(),
        formats=(ExportFormat.CSV,),
        period=PeriodRule.YESTERDAY,
        destination="/tmp",
        powerbi=False,
        timezone="Asia/Riyadh",
        fiscal_year_start=1,
        schedule=None if schedule is None else PackSchedule(schedule, "cron", "hq-pc", "boss"),
        last_run=last,
    )


def _run(status: str, started_local: datetime) -> LastRun:
    started = started_local.astimezone(UTC)  # stored in UTC, compared in local time
    return LastRun(status, started, None, "2026-11-26", "", None, None, "")


def test_a_scheduled_pack_is_due_once_its_time_passed_since_the_last_run() -> None:
    at = time(2, 30)
    before, after = datetime(2026, 11, 27, 2, 0), datetime(2026, 11, 27, 3, 0)
    assert not _pack(None, None).is_due(after)  # not scheduled
    assert _pack(at, None).is_due(before)  # never ran: yesterday's 02:30 is owed
    ran_last_night = _run(RUN_COMPLETED, datetime(2026, 11, 26, 2, 31))
    assert not _pack(at, ran_last_night).is_due(before)
    assert _pack(at, ran_last_night).is_due(after)
    ran_tonight = _run(RUN_COMPLETED, datetime(2026, 11, 27, 2, 31))
    assert not _pack(at, ran_tonight).is_due(after)
    # A run still "running" is left alone for a while, then considered dead.
    running = _run(RUN_RUNNING, datetime(2026, 11, 26, 23, 0))
    assert not _pack(at, running).is_due(after)
    assert _pack(at, running).is_due(datetime(2026, 11, 27, 9, 0))
    assert _pack(at, None).next_run(before) == datetime(2026, 11, 27, 2, 30)
    assert _pack(at, None).next_run(after) == datetime(2026, 11, 28, 2, 30)
