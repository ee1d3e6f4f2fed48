"""``deskops pack …`` end to end on a store in ``tmp_path``: define, list, run (and run again,
identically), schedule with the sign-in kept in the keyring, run as the task would, unschedule
and remove. The operating system's scheduler is a recording stand-in here
(``tests/test_pack_schedule.py`` runs the real installers against stand-in executables)."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Sequence
from pathlib import Path

import keyring
import pytest

from deskops_desktop import cli_pack, pack_schedule
from tests.cli_harness import ADMIN_PASSWORD, Run
from tests.conftest import MemoryKeyring

pytestmark = pytest.mark.usefixtures("admin")


class Recorder:
    def __init__(self) -> None:
        self.commands: list[tuple[str, ...]] = []
        self.stdin: list[str | None] = []

    def __call__(self, args: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        self.commands.append(tuple(args))
        self.stdin.append(stdin)
        return subprocess.CompletedProcess(list(args), 0, "", "")


@pytest.fixture
def os_tasks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Recorder:
    """This computer's scheduler: a Linux with a systemd user manager, recorded."""
    recorder = Recorder()

    def scheduler() -> pack_schedule.Scheduler:
        return pack_schedule.Scheduler(
            "linux", recorder, home=tmp_path, config_home=tmp_path / "config"
        )

    monkeypatch.setattr(cli_pack, "make_scheduler", scheduler)
    return recorder


def test_define_run_schedule_and_remove_a_pack(
    run: Run,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    os_tasks: Recorder,
) -> None:
    secrets = keyring.get_keyring()
    assert isinstance(secrets, MemoryKeyring)
    assert run("demo", "--sites", "1", "--days", "40")[0] == 0
    share = tmp_path / "share"
    words = "--sites ALASLA-29 --reports inventory,mass-balance --formats csv,xlsx"
    code, out, err = run(
        "pack",
        "add",
        "hq",
        *words.split(),
        "--period",
        "last-month",
        "--to",
        str(share),
        "--powerbi",
    )
    assert (code, err) == (0, "")
    assert "added pack hq: ALASLA-29; inventory, mass-balance; csv, xlsx + Power BI" in out
    words = "--sites all --reports stock --formats csv --period yesterday --to relative"
    code, _out, err = run("pack", "add", "bad", *words.split())
    assert code == 1
    assert "unknown report 'stock'" in err
    assert "destination: must be a full folder path" in err

    code, out, _err = run("pack", "list")
    assert code == 0
    assert "hq" in out
    assert "last-month" in out

    code, out, err = run("pack", "run", "hq")
    assert (code, err) == (0, "")
    folder = Path(next(line for line in out.splitlines() if line.startswith("folder:")).split()[1])
    assert "files:   4," in out
    assert "power bi:" in out
    manifest = (folder / "manifest.json").read_text()
    assert [f["format"] for f in json.loads(manifest)["files"]] == ["csv", "xlsx", "csv", "xlsx"]
    assert run("pack", "run", "hq")[0] == 0
    assert (folder / "manifest.json").read_text() == manifest  # the same run, the same files

    # Schedule: a dry run prints the units, the real one registers the timer and keeps the
    # sign-in in the keyring; no password is in any file or command.
    code, out, _err = run("pack", "schedule", "hq", "--daily", "02:30", "--dry-run")
    assert code == 0
    assert "would register a systemd task" in out
    assert "OnCalendar=*-*-* 02:30:00" in out
    assert os_tasks.commands == [("systemctl", "--user", "show-environment")]
    code, out, err = run("pack", "schedule", "hq", "--daily", "02:30")
    assert (code, err) == (0, "")
    assert "scheduled pack hq: daily at 02:30" in out
    assert ("systemctl", "--user", "enable", "--now", "deskops-pack-hq.timer") in os_tasks.commands
    units = tmp_path / "config" / "systemd" / "user"
    service = (units / "deskops-pack-hq.service").read_text()
    assert '"--keyring-user" "boss"' in service
    assert ADMIN_PASSWORD not in service
    assert all(ADMIN_PASSWORD not in word for cmd in os_tasks.commands for word in cmd)
    kept = [v for k, v in secrets.secrets.items() if k[1].startswith("sign-in:")]
    assert kept == [ADMIN_PASSWORD]
    assert "daily at 02:30" in run("pack", "list")[1]

    # What the task runs: nobody signed in, the sign-in comes from the keyring.
    monkeypatch.delenv("DESKOPS_USER")
    monkeypatch.delenv("DESKOPS_PASSWORD")
    code, out, err = run("pack", "run", "hq", "--keyring-user", "boss")
    assert (code, err) == (0, "")
    code, _out, err = run("pack", "run", "hq", "--keyring-user", "somebody")
    assert code == 1
    assert "no sign-in for somebody is kept" in err
    monkeypatch.setenv("DESKOPS_USER", "boss")
    monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)

    code, out, _err = run("pack", "unschedule", "hq")
    assert code == 0
    assert "no longer scheduled" in out
    assert not units.joinpath("deskops-pack-hq.timer").exists()
    assert not [k for k in secrets.secrets if k[1].startswith("sign-in:")]
    assert "not scheduled" in run("pack", "unschedule", "hq")[1]
    code, out, _err = run("pack", "remove", "hq")
    assert code == 0
    assert "its files in" in out
    assert folder.is_dir()
    assert "no report packs yet" in run("pack", "list")[1]


def test_schedule_refuses_a_time_that_is_not_one(
    run: Run, os_tasks: Recorder, tmp_path: Path
) -> None:
    words = "--sites all --reports inventory --formats csv --period yesterday"
    code, _out, _err = run("pack", "add", "hq", *words.split(), "--to", str(tmp_path / "share"))
    assert code == 0
    code, _out, err = run("pack", "schedule", "hq", "--daily", "25:00")
    assert code == 1
    assert "--daily: '25:00' is not a time of day" in err
    assert os_tasks.commands == []


def test_a_task_the_system_refuses_leaves_no_sign_in_and_no_schedule(
    run: Run, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refusing(args: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        failed = "enable" in args
        return subprocess.CompletedProcess(list(args), 1 if failed else 0, "", "Access denied")

    monkeypatch.setattr(
        cli_pack,
        "make_scheduler",
        lambda: pack_schedule.Scheduler("linux", refusing, home=tmp_path, config_home=tmp_path),
    )
    words = "--sites all --reports inventory --formats csv --period yesterday"
    assert run("pack", "add", "hq", *words.split(), "--to", str(tmp_path / "share"))[0] == 0
    code, _out, err = run("pack", "schedule", "hq", "--daily", "02:30")
    assert code == 1
    assert "'systemctl --user enable' failed: Access denied" in err
    secrets = keyring.get_keyring()
    assert isinstance(secrets, MemoryKeyring)
    assert not [k for k in secrets.secrets if k[1].startswith("sign-in:")]
    assert "daily at" not in run("pack", "list")[1]
