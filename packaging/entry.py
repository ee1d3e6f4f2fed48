"""Entry point of the frozen DeskOps bundle (``deskops.spec`` builds it into ``deskops[.exe]``).

Two options are handled here, before the command line is imported, so the bundle can always be
checked whatever state ``deskops_desktop.cli`` is in:

- ``--self-test`` (first argument): ``deskops_desktop.self_test.main()``; exit status 0 only
  when every check passes.
- ``--measure-startup [--db URL]`` (hidden, for release notes and CI): the desktop start
  sequence without the sign-in dialog (a person types there), as ``bench/bench_startup.py``
  measures it from source; prints the time from process start to the main window's first paint
  and exits at once. Without ``--db`` it uses a new store in a temporary folder.

Everything else goes to ``deskops_desktop.cli.main()``.
"""

from __future__ import annotations

import time

_T0 = time.perf_counter()  # first thing: the interpreter is up, our code starts here

import os  # noqa: E402
import sys  # noqa: E402


def _process_age() -> float | None:
    """Seconds since the OS started this process (bootloader included), where the OS says."""
    try:
        if sys.platform.startswith("linux"):
            with open("/proc/self/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
            start_ticks = int(fields[19])  # field 22 of stat(5); fields[0] is field 3
            with open("/proc/uptime", encoding="ascii") as uptime:
                up = float(uptime.read().split()[0])
            return up - start_ticks / os.sysconf("SC_CLK_TCK")
        if sys.platform == "win32":
            import ctypes
            from ctypes import wintypes

            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            times = [wintypes.FILETIME() for _ in range(4)]
            kernel32.GetProcessTimes(
                kernel32.GetCurrentProcess(), *(ctypes.byref(t) for t in times)
            )
            now = wintypes.FILETIME()
            kernel32.GetSystemTimePreciseAsFileTime(ctypes.byref(now))

            def ticks(ft: wintypes.FILETIME) -> int:
                return (ft.dwHighDateTime << 32) | ft.dwLowDateTime

            return (ticks(now) - ticks(times[0])) / 1e7
    except (OSError, ValueError, IndexError, AttributeError):
        return None
    return None


def _ensure_streams() -> None:
    """A windowed Windows build has no stdout/stderr (None); give writes somewhere to go."""
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115


def _self_test() -> int:
    from deskops_desktop import self_test

    if sys.stdout is None or not getattr(sys.stdout, "writable", lambda: False)():
        # Windowed build started without a console: keep the report next to the logs.
        from deskops_desktop.logs import log_path

        report = log_path().with_name("self-test.txt")
        report.parent.mkdir(parents=True, exist_ok=True)
        with open(report, "w", encoding="utf-8") as out:
            return self_test.run_self_test(out)
    return self_test.main()


def _measure_startup(argv: list[str]) -> int:
    """Start like ``views.main.run`` (minus the dialogs) and print the time of the first paint."""
    import tempfile

    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    db_url = argv[argv.index("--db") + 1] if "--db" in argv[:-1] else None
    temp = None
    if db_url is None:
        temp = tempfile.mkdtemp(prefix="deskops-startup-")
        db_url = f"sqlite:///{os.path.join(temp, 'deskops.sqlite3')}"

    from PySide6.QtCore import QEvent, QObject, QTimer

    from deskops_desktop.logs import setup_logging
    from deskops_desktop.models.clock import SYSTEM_CLOCK
    from deskops_desktop.services.access import SYSTEM
    from deskops_desktop.services.app_state import AppState, Settings
    from deskops_desktop.services.bundle import build_services
    from deskops_desktop.views.main import (
        application,
        build_window,
        open_checked_store,
        start_daily_backup,
    )
    from deskops_desktop.views.theme import apply_theme

    setup_logging()
    app = application()
    apply_theme(app, "light")
    check_started = time.perf_counter()
    store = open_checked_store(db_url, SYSTEM_CLOCK)
    opened = time.perf_counter() - check_started
    if store is None:
        print("startup: the store needs recovery; nothing measured", file=sys.stderr)
        return 1
    start_daily_backup(store)  # as run() does: the first start of a day copies the store
    window = build_window(build_services(store), SYSTEM, Settings(AppState(animations=False)))

    class FirstPaint(QObject):
        def eventFilter(self, obj: QObject, event: QEvent) -> bool:
            if event.type() == QEvent.Type.Paint and obj is window:
                painted = time.perf_counter() - _T0
                age = _process_age()
                since_start = f"{age:.3f} s after process start, " if age is not None else ""
                print(
                    f"startup: main window first paint {since_start}{painted:.3f} s after "
                    f"the interpreter started (store check+open {opened:.3f} s)",
                    flush=True,
                )
                sys.stdout.flush()
                if temp is not None:  # os._exit skips every clean-up: remove the new store
                    import shutil

                    shutil.rmtree(temp, ignore_errors=True)
                os._exit(0)
            return False

    spy = FirstPaint()
    window.installEventFilter(spy)
    window.show()
    QTimer.singleShot(30_000, lambda: os._exit(1))
    app.exec()
    return 1


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["--self-test"]:
        return _self_test()
    _ensure_streams()
    if args[:1] == ["--measure-startup"]:
        return _measure_startup(args[1:])
    from deskops_desktop.cli import main as cli_main

    return cli_main(args)


if __name__ == "__main__":
    raise SystemExit(main())
