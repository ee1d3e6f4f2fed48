"""Operating-system tasks for report packs.

The files and command lines of all three systems are generated and read back here on any
machine (systemd units, the crontab line, the Task Scheduler XML, the launchd plist). On Linux
the installer really runs: against stand-in ``crontab`` and ``systemctl`` executables (a test
must not touch the developer's own scheduler), and then the registered command line is run the
way cron (``/bin/sh -c``) and systemd (the unquoted argv) would run it, signing in from a
keyring another process can read — no password anywhere in the task.
"""

from __future__ import annotations

import os
import plistlib
import re
import shlex
import stat
import subprocess
import sys
from collections.abc import Sequence
from datetime import time
from pathlib import Path
from xml.etree import ElementTree

import keyring
import pytest

from deskops_desktop import pack_schedule as ps
from deskops_desktop.models.enums import Role
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.secrets import set_sign_in
from deskops_desktop.services.store import open_store
from tests.file_keyring import ENV as KEYRING_ENV
from tests.file_keyring import FileKeyring

ROOT = Path(__file__).resolve().parent.parent
URL = "postgresql+psycopg://@hq-server.example:5432/deskops?sslmode=verify-full"
AWKWARD = "sqlite:////srv/DeskOps data/100% sure/$HOME/deskops.sqlite3"


def task(db_url: str = URL, pack: str = "hq-nightly", log: Path | None = None) -> ps.ScheduledTask:
    command = ps.task_command(pack, db_url, "boss", executable="/opt/deskops/bin/python3")
    return ps.ScheduledTask(pack, time(2, 30), command, log_file=log)


# --------------------------------------------------------------------- generated text
def test_the_task_runs_the_pack_as_a_user_whose_password_is_in_the_keyring() -> None:
    command = ps.task_command("hq", URL, "boss", executable="/usr/bin/python3", frozen=False)
    assert command == (
        "/usr/bin/python3",
        "-m",
        "deskops_desktop",
        "pack",
        "run",
        "hq",
        "--db",
        URL,
        "--keyring-user",
        "boss",
    )
    frozen = ps.task_command("hq", URL, "boss", executable=r"C:\DeskOps\deskops.exe", frozen=True)
    assert frozen[:3] == (r"C:\DeskOps\deskops.exe", "pack", "run")
    assert not any("pass" in word.lower() for word in command if word != "--keyring-user")


def systemd_words(line: str) -> list[str]:
    """``ExecStart=`` words as systemd reads them: double-quoted, ``\\`` escapes, ``%%`` and
    ``$$`` for literal ``%`` and ``$`` (enough of systemd.service(5) for what we write)."""
    words = re.findall(r'"((?:[^"\\]|\\.)*)"', line)
    out = []
    for word in words:
        text = re.sub(r"\\(.)", r"\1", word)
        out.append(text.replace("%%", "%").replace("$$", "$"))
    return out


def test_systemd_units_start_the_exact_command_daily() -> None:
    awkward = task(AWKWARD)
    units = ps.systemd_units(awkward)
    assert sorted(units) == ["deskops-pack-hq-nightly.service", "deskops-pack-hq-nightly.timer"]
    service = units["deskops-pack-hq-nightly.service"]
    assert "Type=oneshot\n" in service
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    assert systemd_words(exec_start) == list(awkward.command)
    assert "%%" in exec_start  # a bare % would be a systemd specifier
    assert "$$HOME" in exec_start  # and $HOME a variable
    timer = units["deskops-pack-hq-nightly.timer"]
    assert "OnCalendar=*-*-* 02:30:00\n" in timer
    assert "Persistent=true\n" in timer
    assert "Unit=deskops-pack-hq-nightly.service\n" in timer
    assert "WantedBy=timers.target" in timer


def test_the_crontab_line_and_merging_it_into_a_table(tmp_path: Path) -> None:
    line = ps.cron_line(task(AWKWARD, log=tmp_path / "pack.log"), uid=1000)
    assert line.startswith("30 2 * * * DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/1000/bus ")
    assert line.endswith(" # deskops-pack:hq-nightly")
    assert "100\\% sure" in line  # cron turns a bare % into a newline
    assert f">> {tmp_path / 'pack.log'} 2>&1" in line
    mine = ps.merge_crontab("0 5 * * * /usr/local/bin/backup\n", "deskops-pack-hq-nightly", line)
    assert mine.splitlines() == ["0 5 * * * /usr/local/bin/backup", line]
    # Scheduling again replaces the line; unscheduling removes only ours.
    again = ps.merge_crontab(mine, "deskops-pack-hq-nightly", line.replace("30 2", "0 3", 1))
    assert len(again.splitlines()) == 2
    assert again.splitlines()[1].startswith("0 3 ")
    gone = ps.merge_crontab(again, "deskops-pack-hq-nightly", None)
    assert gone == "0 5 * * * /usr/local/bin/backup\n"
    assert ps.merge_crontab(line + "\n", "deskops-pack-hq-nightly", None) == ""


def test_the_windows_task_definition() -> None:
    windows = ps.ScheduledTask(
        "hq-nightly",
        time(2, 30),
        ps.task_command(
            "hq-nightly",
            "sqlite:///C:/Users/Head Office/AppData/Local/DeskOps/DeskOps/deskops.sqlite3",
            "boss",
            executable=r"C:\Users\Head Office\AppData\Local\Programs\DeskOps\deskops.exe",
            frozen=True,
        ),
    )
    text = ps.schtasks_xml(windows)
    assert text.startswith('<?xml version="1.0" encoding="UTF-16"?>')
    spaced = ElementTree.fromstring(text.split("\n", 1)[1])
    ns = {"t": "http://schemas.microsoft.com/windows/2004/02/mit/task"}
    assert spaced.findtext("t:RegistrationInfo/t:URI", namespaces=ns) == r"\DeskOps\Pack hq-nightly"
    trigger = spaced.find("t:Triggers/t:CalendarTrigger", ns)
    assert trigger is not None
    assert trigger.findtext("t:StartBoundary", namespaces=ns) == "2000-01-01T02:30:00"
    assert trigger.findtext("t:ScheduleByDay/t:DaysInterval", namespaces=ns) == "1"
    settings = spaced.find("t:Settings", ns)
    assert settings is not None
    assert settings.findtext("t:StartWhenAvailable", namespaces=ns) == "true"
    assert settings.findtext("t:MultipleInstancesPolicy", namespaces=ns) == "IgnoreNew"
    exec_ = spaced.find("t:Actions/t:Exec", ns)
    assert exec_ is not None
    assert exec_.findtext("t:Command", namespaces=ns) == windows.command[0]
    arguments = exec_.findtext("t:Arguments", namespaces=ns)
    # CommandLineToArgvW's quoting (what the program receives): the spaced URL is one word.
    assert arguments == subprocess.list2cmdline(windows.command[1:])
    assert '"sqlite:///C:/Users/Head Office/AppData' in (arguments or "")
    create = ps.schtasks_create(windows, Path(r"C:\Temp\t.xml"))
    assert create == [
        "schtasks",
        "/Create",
        "/TN",
        r"\DeskOps\Pack hq-nightly",
        "/XML",
        r"C:\Temp\t.xml",
        "/F",
    ]
    assert ps.schtasks_delete("hq-nightly") == [
        "schtasks",
        "/Delete",
        "/TN",
        r"\DeskOps\Pack hq-nightly",
        "/F",
    ]


def test_the_macos_launch_agent(tmp_path: Path) -> None:
    mac = task(AWKWARD, log=tmp_path / "pack.log")
    body = plistlib.loads(ps.launchd_plist(mac).encode())
    assert body["Label"] == "com.deskops.pack.hq-nightly"
    assert body["ProgramArguments"] == list(mac.command)  # no shell: nothing to quote
    assert body["StartCalendarInterval"] == {"Hour": 2, "Minute": 30}
    assert body["StandardErrorPath"] == str(tmp_path / "pack.log")


# ------------------------------------------------------------------ the installers
class Recorder:
    """A ``Runner`` that records commands and answers like a working scheduler."""

    def __init__(self, systemd: bool = True) -> None:
        self.calls: list[tuple[tuple[str, ...], str | None]] = []
        self.systemd = systemd

    def __call__(self, args: Sequence[str], stdin: str | None) -> subprocess.CompletedProcess[str]:
        self.calls.append((tuple(args), stdin))
        failing = (
            tuple(args[:3]) == ("systemctl", "--user", "show-environment") and not self.systemd
        )
        return subprocess.CompletedProcess(list(args), 1 if failing else 0, "", "")

    @property
    def commands(self) -> list[tuple[str, ...]]:
        return [c for c, _ in self.calls]


def test_windows_and_macos_installers_run_the_generated_commands(tmp_path: Path) -> None:
    windows = Recorder()
    scheduler = ps.Scheduler("win32", windows, home=tmp_path, temp_dir=tmp_path)
    plan = scheduler.install(task())
    assert plan.kind == ps.SCHTASKS
    xml = tmp_path / "deskops-pack-hq-nightly.xml"
    assert windows.commands == [tuple(ps.schtasks_create(task(), xml))]
    assert not xml.exists()  # read by schtasks, then deleted
    scheduler.remove("hq-nightly", ps.SCHTASKS)
    assert windows.commands[-1] == tuple(ps.schtasks_delete("hq-nightly"))

    mac = Recorder()
    scheduler = ps.Scheduler("darwin", mac, home=tmp_path)
    plan = scheduler.install(task())
    plist = tmp_path / "Library" / "LaunchAgents" / "com.deskops.pack.hq-nightly.plist"
    assert plist.read_text() == ps.launchd_plist(task())
    assert [c[:2] for c in mac.commands] == [("launchctl", "bootout"), ("launchctl", "bootstrap")]
    assert mac.commands[-1][-1] == str(plist)
    scheduler.remove("hq-nightly", ps.LAUNCHD)
    assert not plist.exists()


def test_linux_prefers_a_systemd_user_timer_and_falls_back_to_cron(tmp_path: Path) -> None:
    systemd = Recorder(systemd=True)
    scheduler = ps.Scheduler("linux", systemd, home=tmp_path, config_home=tmp_path / "config")
    assert scheduler.kind() == ps.SYSTEMD
    no_bus = Recorder(systemd=False)
    assert ps.Scheduler("linux", no_bus, home=tmp_path).kind() == ps.CRON
    dry = scheduler.install_plan(task())
    assert [line.split()[0] for line in dry.describe()] == [
        "write",
        "write",
        "systemctl",
        "systemctl",
    ]


# ------------------------------------------------------------- for real, on Linux
def _stand_in(folder: Path, name: str, script: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


@pytest.fixture
def bin_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Stand-in ``crontab`` and ``systemctl`` first on PATH, keeping their state in files."""
    folder = tmp_path / "bin"
    folder.mkdir()
    _stand_in(
        folder,
        "crontab",
        'case "$1" in\n'
        '  -l) if [ -f "$FAKE_CRONTAB" ]; then cat "$FAKE_CRONTAB"; else'
        ' echo "no crontab for you" >&2; exit 1; fi ;;\n'
        '  -) cat > "$FAKE_CRONTAB" ;;\n'
        "esac\n",
    )
    _stand_in(folder, "systemctl", 'echo "$@" >> "$FAKE_SYSTEMCTL_LOG"\n')
    monkeypatch.setenv("PATH", f"{folder}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.setenv("FAKE_CRONTAB", str(tmp_path / "crontab.txt"))
    monkeypatch.setenv("FAKE_SYSTEMCTL_LOG", str(tmp_path / "systemctl.log"))
    return folder


@pytest.fixture
def store_with_boss(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, Path]:
    """A SQLite store with an admin and a pack, and a keyring file both processes share."""
    url = f"sqlite:///{tmp_path / 'store.sqlite3'}"
    store = open_store(url)
    try:
        services = build_services(store)
        services.users.create(None, "boss", "boss-pass-123", Role.ADMIN)
        boss = services.users.authenticate("boss", "boss-pass-123")
        services.packs.define(
            boss,
            "hq-nightly",
            sites=None,
            reports=["inventory"],
            formats=["csv"],
            period="yesterday",
            destination=str(tmp_path / "share"),
        )
        assert services.master.sites(SYSTEM)
    finally:
        store.dispose()
    secrets = tmp_path / "keyring.json"
    keyring.set_keyring(FileKeyring(secrets))
    set_sign_in(url, "boss", "boss-pass-123")
    monkeypatch.setenv(KEYRING_ENV, str(secrets))
    return url, tmp_path / "share" / "hq-nightly"


def _child_env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHON_KEYRING_BACKEND"] = "tests.file_keyring.FileKeyring"
    env["PYTHONPATH"] = str(ROOT)
    for name in ("DESKOPS_USER", "DESKOPS_PASSWORD", "DESKOPS_DB_URL"):
        env.pop(name, None)
    return env


@pytest.mark.skipif(sys.platform != "linux", reason="cron and systemd are Linux's")
def test_a_cron_task_installs_and_its_line_runs_the_pack(
    bin_dir: Path, store_with_boss: tuple[str, Path], tmp_path: Path
) -> None:
    url, pack_folder = store_with_boss
    table = tmp_path / "crontab.txt"
    table.write_text("0 5 * * * /usr/local/bin/backup\n")
    log = tmp_path / "logs" / "pack.log"
    log.parent.mkdir()
    command = ps.task_command("hq-nightly", url, "boss")
    scheduler = ps.Scheduler("linux", home=tmp_path)
    scheduler.install(ps.ScheduledTask("hq-nightly", time(2, 30), command, log), ps.CRON)
    lines = table.read_text().splitlines()
    assert lines[0] == "0 5 * * * /usr/local/bin/backup"
    ours = lines[1]
    assert ours.startswith("30 2 * * * ")
    assert "boss-pass" not in table.read_text()
    # Run it as cron does: the part after the five time fields, % unescaped, through /bin/sh.
    shell_command = ours.split(" ", 5)[5].replace("\\%", "%")
    done = subprocess.run(
        ["/bin/sh", "-c", shell_command], env=_child_env(), cwd=ROOT, timeout=120, check=False
    )
    assert done.returncode == 0, log.read_text()
    assert "folder:" in log.read_text()
    runs = [p for p in pack_folder.iterdir() if not p.name.startswith(".")]
    assert len(runs) == 1
    assert (runs[0] / "manifest.json").is_file()
    scheduler.remove("hq-nightly", ps.CRON)
    assert table.read_text() == "0 5 * * * /usr/local/bin/backup\n"


@pytest.mark.skipif(sys.platform != "linux", reason="cron and systemd are Linux's")
def test_a_systemd_timer_installs_and_its_exec_start_runs_the_pack(
    bin_dir: Path, store_with_boss: tuple[str, Path], tmp_path: Path
) -> None:
    url, pack_folder = store_with_boss
    command = ps.task_command("hq-nightly", url, "boss")
    config = tmp_path / "config"
    scheduler = ps.Scheduler("linux", home=tmp_path, config_home=config)
    assert scheduler.kind() == ps.SYSTEMD  # the stand-in systemctl answers
    scheduler.install(ps.ScheduledTask("hq-nightly", time(2, 30), command))
    units = config / "systemd" / "user"
    assert sorted(p.name for p in units.iterdir()) == [
        "deskops-pack-hq-nightly.service",
        "deskops-pack-hq-nightly.timer",
    ]
    calls = (tmp_path / "systemctl.log").read_text().splitlines()
    assert calls[-2:] == [
        "--user daemon-reload",
        "--user enable --now deskops-pack-hq-nightly.timer",
    ]
    service = (units / "deskops-pack-hq-nightly.service").read_text()
    exec_start = next(line for line in service.splitlines() if line.startswith("ExecStart="))
    argv = systemd_words(exec_start)
    assert argv == list(command)
    done = subprocess.run(
        argv, env=_child_env(), cwd=ROOT, timeout=120, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "folder:" in done.stdout
    assert any((p / "manifest.json").is_file() for p in pack_folder.iterdir())
    scheduler.remove("hq-nightly", ps.SYSTEMD)
    assert list(units.iterdir()) == []
    assert (tmp_path / "systemctl.log").read_text().splitlines()[-2:] == [
        "--user disable --now deskops-pack-hq-nightly.timer",
        "--user daemon-reload",
    ]


def test_shell_quoting_survives_the_round_trip() -> None:
    awkward = task(AWKWARD)
    line = ps.cron_line(awkward, uid=0)
    words = shlex.split(line.split(" ", 5)[5].replace("\\%", "%").split(" >> ")[0].split(" # ")[0])
    assert words[1:] == list(awkward.command)  # after the DBUS_... assignment
