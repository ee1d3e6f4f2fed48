"""Operating-system tasks that run a report pack every day, when nobody has DeskOps open.

``deskops pack schedule NAME --daily HH:MM`` registers one task per pack with the scheduler the
computer has; ``deskops pack unschedule NAME`` removes it:

- **Linux**: a systemd *user* timer (``~/.config/systemd/user/deskops-pack-NAME.{service,timer}``,
  ``Persistent=true`` so a night the computer was off runs at the next start), or, where no
  systemd user manager answers (containers, some servers), a line in the user's crontab marked
  ``# deskops-pack:NAME``;
- **Windows**: Task Scheduler, registered with ``schtasks /Create /XML`` from a generated task
  definition (a ``/TR`` command line is limited to 261 characters; the XML is not);
- **macOS**: a launchd agent, ``~/Library/LaunchAgents/com.deskops.pack.NAME.plist``.

Every file and command line is made by a pure function here (``systemd_units``, ``cron_line``,
``schtasks_xml``, ``launchd_plist``…), so the tests read the exact text for all three systems on
any machine; ``install`` / ``remove`` only write those files and run those commands, through a
``Runner`` the tests replace.

The task runs ``deskops pack run NAME --db URL --keyring-user USER``: the store's URL without a
password (a PostgreSQL password lives in the keyring, ``deskops db set-password``) and the user
whose DeskOps sign-in ``schedule`` kept in the keyring (``services.secrets``). No password is
ever written into a task file or onto a command line.

Qt-free; beside ``cli_pack`` because it is about this computer, not about the store.
"""

from __future__ import annotations

import os
import plistlib
import shlex
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import time
from pathlib import Path
from xml.sax.saxutils import escape

from deskops_desktop.models.errors import DeskOpsError

SYSTEMD = "systemd"
CRON = "cron"
SCHTASKS = "schtasks"
LAUNCHD = "launchd"

Runner = Callable[[Sequence[str], str | None], "subprocess.CompletedProcess[str]"]
"""Runs argv (with optional stdin text) and returns the completed process (never raises for a
non-zero exit; the caller decides)."""


def run_command(args: Sequence[str], stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    """The real ``Runner``."""
    return subprocess.run(
        list(args), input=stdin, capture_output=True, text=True, check=False, timeout=60
    )


def _uid() -> int:
    getuid = getattr(os, "getuid", None)
    return int(getuid()) if getuid is not None else 0


class ScheduleError(DeskOpsError):
    """The operating system refused to register or remove the task (its message says why)."""


@dataclass(frozen=True)
class ScheduledTask:
    """One pack's daily task: when, and the argv it runs."""

    pack: str
    daily_at: time
    command: tuple[str, ...]
    log_file: Path | None = None

    @property
    def slug(self) -> str:
        """``deskops-pack-<name>``: unit, cron marker and task names (names are already
        restricted to letters, digits, ``.``, ``_`` and ``-``)."""
        return f"deskops-pack-{self.pack.lower()}"

    @property
    def description(self) -> str:
        return f"DeskOps report pack {self.pack}"


def task_command(
    pack: str,
    db_url: str,
    username: str,
    *,
    executable: str | None = None,
    frozen: bool | None = None,
) -> tuple[str, ...]:
    """The argv of a scheduled run: the frozen ``deskops`` executable, or this Python with
    ``-m deskops_desktop`` in a development install."""
    exe = executable or sys.executable
    is_frozen = getattr(sys, "frozen", False) if frozen is None else frozen
    head: tuple[str, ...] = (exe,) if is_frozen else (exe, "-m", "deskops_desktop")
    return (*head, "pack", "run", pack, "--db", db_url, "--keyring-user", username)


# ----------------------------------------------------------------------------- Linux
def systemd_quote(arg: str) -> str:
    """One ``ExecStart=`` word: double-quoted, with systemd's specifier (``%``) and variable
    (``$``) characters doubled and backslashes and quotes escaped."""
    text = arg.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%").replace("$", "$$")
    return f'"{text}"'


def systemd_units(task: ScheduledTask) -> dict[str, str]:
    """The service and timer unit files, by file name."""
    exec_start = " ".join(systemd_quote(a) for a in task.command)
    service = (
        "[Unit]\n"
        f"Description={task.description}\n"
        "After=network-online.target\n"
        "Wants=network-online.target\n"
        "\n"
        "[Service]\n"
        "Type=oneshot\n"
        f"ExecStart={exec_start}\n"
    )
    timer = (
        "[Unit]\n"
        f"Description=Run {task.description} daily at {task.daily_at:%H:%M}\n"
        "\n"
        "[Timer]\n"
        f"OnCalendar=*-*-* {task.daily_at:%H:%M}:00\n"
        "Persistent=true\n"
        f"Unit={task.slug}.service\n"
        "\n"
        "[Install]\n"
        "WantedBy=timers.target\n"
    )
    return {f"{task.slug}.service": service, f"{task.slug}.timer": timer}


def cron_marker(slug: str) -> str:
    return f"# {slug.replace('deskops-pack-', 'deskops-pack:', 1)}"


def cron_line(task: ScheduledTask, *, uid: int | None = None) -> str:
    """The crontab line: minute hour every day, the quoted command (cron turns a bare ``%``
    into a newline, so each is escaped), its output appended to the log, and the marker.

    The session bus address lets the keyring reach the desktop's Secret Service, which cron's
    bare environment would not find.
    """
    words = " ".join(shlex.quote(a) for a in task.command).replace("%", "\\%")
    user = uid if uid is not None else _uid()
    env = f"DBUS_SESSION_BUS_ADDRESS=unix:path=/run/user/{user}/bus"
    log = f" >> {shlex.quote(str(task.log_file))} 2>&1".replace("%", "\\%") if task.log_file else ""
    hour, minute = task.daily_at.hour, task.daily_at.minute
    return f"{minute} {hour} * * * {env} {words}{log} {cron_marker(task.slug)}"


def merge_crontab(existing: str, slug: str, line: str | None) -> str:
    """``existing`` without this pack's line, plus ``line`` (None: just remove it)."""
    marker = cron_marker(slug)
    kept = [row for row in existing.splitlines() if not row.rstrip().endswith(marker)]
    if line is not None:
        kept.append(line)
    return "\n".join(kept) + "\n" if kept else ""


# --------------------------------------------------------------------------- Windows
def schtasks_name(task_or_pack: ScheduledTask | str) -> str:
    pack = task_or_pack.pack if isinstance(task_or_pack, ScheduledTask) else task_or_pack
    return f"\\DeskOps\\Pack {pack}"


def schtasks_xml(task: ScheduledTask) -> str:
    """A Task Scheduler definition: daily at the time, as the signed-in user, started late if
    the computer was off, never twice at once, stopped after 4 hours."""
    command, *arguments = task.command
    args = subprocess.list2cmdline(arguments)
    return (
        '<?xml version="1.0" encoding="UTF-16"?>\n'
        '<Task version="1.2" xmlns="http://schemas.microsoft.com/windows/2004/02/mit/task">\n'
        "  <RegistrationInfo>\n"
        f"    <Description>{escape(task.description)}</Description>\n"
        f"    <URI>{escape(schtasks_name(task))}</URI>\n"
        "  </RegistrationInfo>\n"
        "  <Triggers>\n"
        "    <CalendarTrigger>\n"
        f"      <StartBoundary>2000-01-01T{task.daily_at:%H:%M}:00</StartBoundary>\n"
        "      <Enabled>true</Enabled>\n"
        "      <ScheduleByDay><DaysInterval>1</DaysInterval></ScheduleByDay>\n"
        "    </CalendarTrigger>\n"
        "  </Triggers>\n"
        "  <Principals>\n"
        '    <Principal id="Author">\n'
        "      <LogonType>InteractiveToken</LogonType>\n"
        "      <RunLevel>LeastPrivilege</RunLevel>\n"
        "    </Principal>\n"
        "  </Principals>\n"
        "  <Settings>\n"
        "    <StartWhenAvailable>true</StartWhenAvailable>\n"
        "    <MultipleInstancesPolicy>IgnoreNew</MultipleInstancesPolicy>\n"
        "    <DisallowStartIfOnBatteries>false</DisallowStartIfOnBatteries>\n"
        "    <StopIfGoingOnBatteries>false</StopIfGoingOnBatteries>\n"
        "    <ExecutionTimeLimit>PT4H</ExecutionTimeLimit>\n"
        "    <Enabled>true</Enabled>\n"
        "  </Settings>\n"
        '  <Actions Context="Author">\n'
        "    <Exec>\n"
        f"      <Command>{escape(command)}</Command>\n"
        f"      <Arguments>{escape(args)}</Arguments>\n"
        "    </Exec>\n"
        "  </Actions>\n"
        "</Task>\n"
    )


def schtasks_create(task: ScheduledTask, xml_path: Path) -> list[str]:
    return ["schtasks", "/Create", "/TN", schtasks_name(task), "/XML", str(xml_path), "/F"]


def schtasks_delete(pack: str) -> list[str]:
    return ["schtasks", "/Delete", "/TN", schtasks_name(pack), "/F"]


# ----------------------------------------------------------------------------- macOS
def launchd_label(pack: str) -> str:
    return f"com.deskops.pack.{pack.lower()}"


def launchd_plist(task: ScheduledTask) -> str:
    """The launch agent: the argv as given (no shell), daily at the time, output to the log."""
    body: dict[str, object] = {
        "Label": launchd_label(task.pack),
        "ProgramArguments": list(task.command),
        "StartCalendarInterval": {"Hour": task.daily_at.hour, "Minute": task.daily_at.minute},
        "RunAtLoad": False,
        "ProcessType": "Background",
    }
    if task.log_file is not None:
        body["StandardOutPath"] = str(task.log_file)
        body["StandardErrorPath"] = str(task.log_file)
    return plistlib.dumps(body, sort_keys=True).decode("utf-8")


# --------------------------------------------------------------------- the installers
@dataclass(frozen=True)
class Plan:
    """What ``install``/``remove`` does (or, dry, would do): files written or deleted, and
    commands run, in order."""

    kind: str
    files: tuple[tuple[Path, str], ...] = ()
    deleted: tuple[Path, ...] = ()
    optional: tuple[tuple[str, ...], ...] = ()  # run first; a failure is fine (not loaded yet)
    commands: tuple[tuple[str, ...], ...] = ()
    note: str = ""

    def describe(self) -> list[str]:
        lines = [f"write {path}" for path, _text in self.files]
        lines += [" ".join(shlex.quote(a) for a in cmd) for cmd in (*self.optional, *self.commands)]
        lines += [f"delete {path}" for path in self.deleted]
        return lines


class Scheduler:
    """Registers and removes pack tasks on one operating system (see the module docstring).

    Args:
        platform: ``sys.platform`` of the target ("linux", "win32", "darwin").
        runner: how commands run (tests pass a recording fake).
        home: the user's home folder (unit and agent files live under it).
        temp_dir: where the Windows task XML is written for ``schtasks`` to read.
    """

    def __init__(
        self,
        platform: str = sys.platform,
        runner: Runner = run_command,
        *,
        home: Path | None = None,
        temp_dir: Path | None = None,
        config_home: Path | None = None,
    ) -> None:
        self.platform = platform
        self._run = runner
        self.home = home or Path.home()
        self.temp_dir = temp_dir or self.home
        xdg = os.environ.get("XDG_CONFIG_HOME")
        self.config_home = config_home or (Path(xdg) if xdg else self.home / ".config")

    # ------------------------------------------------------------------ choosing
    def kind(self) -> str:
        """The mechanism this computer offers (on Linux: systemd when a user manager answers)."""
        if self.platform == "win32":
            return SCHTASKS
        if self.platform == "darwin":
            return LAUNCHD
        probe = self._try(["systemctl", "--user", "show-environment"])
        if probe is not None and probe.returncode == 0:
            return SYSTEMD
        return CRON

    def _try(self, args: Sequence[str]) -> subprocess.CompletedProcess[str] | None:
        try:
            return self._run(args, None)
        except (OSError, subprocess.SubprocessError):
            return None

    # ------------------------------------------------------------------- plans
    def install_plan(self, task: ScheduledTask, kind: str | None = None) -> Plan:
        kind = kind or self.kind()
        if kind == SYSTEMD:
            folder = self.config_home / "systemd" / "user"
            units = systemd_units(task)
            return Plan(
                SYSTEMD,
                files=tuple((folder / name, text) for name, text in units.items()),
                commands=(
                    ("systemctl", "--user", "daemon-reload"),
                    ("systemctl", "--user", "enable", "--now", f"{task.slug}.timer"),
                ),
                note="a user timer runs while you are logged in; for nights you are not,"
                " run 'loginctl enable-linger' once",
            )
        if kind == CRON:
            return Plan(CRON, commands=(("crontab", "-l"), ("crontab", "-")))
        if kind == SCHTASKS:
            xml = self.temp_dir / f"{task.slug}.xml"
            return Plan(
                SCHTASKS,
                files=((xml, schtasks_xml(task)),),
                deleted=(xml,),
                commands=(tuple(schtasks_create(task, xml)),),
            )
        plist = self.home / "Library" / "LaunchAgents" / f"{launchd_label(task.pack)}.plist"
        domain = f"gui/{_uid()}"
        return Plan(
            LAUNCHD,
            files=((plist, launchd_plist(task)),),
            optional=(("launchctl", "bootout", f"{domain}/{launchd_label(task.pack)}"),),
            commands=(("launchctl", "bootstrap", domain, str(plist)),),
        )

    def remove_plan(self, pack: str, kind: str) -> Plan:
        slug = f"deskops-pack-{pack.lower()}"
        if kind == SYSTEMD:
            folder = self.config_home / "systemd" / "user"
            return Plan(
                SYSTEMD,
                deleted=(folder / f"{slug}.service", folder / f"{slug}.timer"),
                optional=(
                    ("systemctl", "--user", "disable", "--now", f"{slug}.timer"),
                    ("systemctl", "--user", "daemon-reload"),
                ),
            )
        if kind == CRON:
            return Plan(CRON, commands=(("crontab", "-l"), ("crontab", "-")))
        if kind == SCHTASKS:
            return Plan(SCHTASKS, optional=(tuple(schtasks_delete(pack)),))
        plist = self.home / "Library" / "LaunchAgents" / f"{launchd_label(pack)}.plist"
        return Plan(
            LAUNCHD,
            deleted=(plist,),
            optional=(("launchctl", "bootout", f"gui/{_uid()}/{launchd_label(pack)}"),),
        )

    # --------------------------------------------------------------- doing it
    def install(self, task: ScheduledTask, kind: str | None = None) -> Plan:
        """Register ``task`` (replacing an earlier one of the same pack); returns what it did."""
        plan = self.install_plan(task, kind)
        if plan.kind == CRON:
            self._set_crontab(task.slug, cron_line(task))
            return plan
        for path, text in plan.files:
            path.parent.mkdir(parents=True, exist_ok=True)
            encoding = "utf-16" if plan.kind == SCHTASKS else "utf-8"
            path.write_text(text, encoding=encoding)
        try:
            for command in plan.optional:
                self._try(command)
            for command in plan.commands:
                self._check(command)
        finally:
            for path in plan.deleted:
                path.unlink(missing_ok=True)
        return plan

    def remove(self, pack: str, kind: str) -> Plan:
        """Remove the pack's task registered as ``kind``; a task already gone is not an error."""
        plan = self.remove_plan(pack, kind)
        if plan.kind == CRON:
            self._set_crontab(f"deskops-pack-{pack.lower()}", None)
            return plan
        for command in plan.optional:
            self._try(command)
        for path in plan.deleted:
            path.unlink(missing_ok=True)
        return plan

    def _set_crontab(self, slug: str, line: str | None) -> None:
        listed = self._try(["crontab", "-l"])
        if listed is None:
            raise ScheduleError(
                "neither a systemd user manager nor crontab is available on this computer;"
                " schedule 'deskops pack run' with its own scheduler"
            )
        # "no crontab for USER" exits 1 with nothing on stdout: an empty table.
        current = listed.stdout if listed.returncode == 0 else ""
        self._check(["crontab", "-"], merge_crontab(current, slug, line))

    def _check(self, command: Sequence[str], stdin: str | None = None) -> None:
        try:
            done = self._run(command, stdin)
        except (OSError, subprocess.SubprocessError) as exc:
            raise ScheduleError(f"{command[0]} could not run: {exc}") from None
        if done.returncode != 0:
            detail = (done.stderr or done.stdout or "").strip().splitlines()
            raise ScheduleError(
                f"'{' '.join(command[:3])}' failed"
                + (f": {detail[-1]}" if detail else f" (exit {done.returncode})")
            )
