"""``deskops --self-test``: does this installation work? One line per check, then a verdict.

Written for the frozen bundle first: the failures it looks for are the ones a PyInstaller build
hides until a clerk hits them — a Qt plugin or a resource not collected, migration scripts left
out, keyring silently falling back to its "fail" backend because its entry points were not
bundled, psycopg without its libpq, openpyxl without defusedxml, reportlab's font metrics
missing, a numpy library broken by the build (the chart check draws with pyqtgraph). It also
runs from a checkout (``python -m deskops_desktop.self_test``).

Verdicts: PASS, WARN, FAIL. The exit status is 0 only when no check FAILs. A WARN is a real
caveat about *this machine* that does not make the installation broken, and is reported as such:

- SQLite older than 3.51.3 (which fixes a WAL corruption bug) is a WARN: the library comes with
  Python, the app works, and the fix is a Python update, not a reinstall.
- The keyring backend is judged in two parts. The bundle must *contain* the platform's real
  backend and register it (keyring finds backends through entry points; a build that loses
  them silently uses ``keyring.backends.fail`` everywhere): otherwise FAIL. Which backend is
  *active* depends on the machine: on Windows and macOS the system keyring is always there for
  a signed-in user, so the fail/null backend is a FAIL. On Linux it needs a running Secret
  Service (GNOME Keyring, KWallet) on a D-Bus session; a headless container, such as CI, has
  none. There the fail backend is a WARN naming the reason: the SQLite store, the default,
  needs no keyring, and only a PostgreSQL password cannot be remembered. Failing CI for the
  container's missing desktop session would test the container, not the build.

Invariants a newcomer must not break:
- Nothing here touches the user's data: the store check uses a temporary folder. The export
  check creates the exports folder if missing (the app would do the same on first export) and
  writes and deletes one temporary file in it.
- The Qt checks run last: a platform plugin that is present but cannot load makes Qt abort the
  process, and every other line must already be printed by then.
"""

from __future__ import annotations

import importlib
import os
import platform
import sqlite3
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TextIO

from deskops_desktop import __version__

PASS = "PASS"
WARN = "WARN"
FAIL = "FAIL"
SQLITE_WANTED = (3, 51, 3)
# keyring's entry point name, backend module and the library that backend needs, per platform.
REAL_KEYRING = {
    "win32": ("Windows", "keyring.backends.Windows", "win32ctypes"),
    "darwin": ("macOS", "keyring.backends.macOS", None),
}
LINUX_KEYRING = ("SecretService", "keyring.backends.SecretService", "secretstorage")


@dataclass(frozen=True)
class CheckResult:
    """One line of the self-test: PASS, WARN or FAIL, what was checked, and why."""

    status: str
    name: str
    detail: str


def _version_tuple(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".") if part.isdigit())


# ----------------------------------------------------------------------------- the checks
def check_store() -> CheckResult:
    """A new SQLite store in a temporary folder opens, migrates to head and is seeded."""
    from deskops_desktop.services.migrate import current_revision, head_revision
    from deskops_desktop.services.store import open_store

    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="deskops-self-test-") as folder:
        store = open_store(f"sqlite:///{Path(folder) / 'self-test.sqlite3'}")
        try:
            current, head = current_revision(store.engine), head_revision(store.engine)
            with store.engine.connect() as conn:
                check = conn.exec_driver_sql("PRAGMA quick_check").scalar()
                materials = conn.exec_driver_sql("SELECT count(*) FROM materials").scalar()
        finally:
            store.dispose()
    seconds = time.perf_counter() - started
    if head is None or current != head:
        return CheckResult(FAIL, "store", f"migrated to {current!r}, expected head {head!r}")
    if check != "ok" or not materials:
        return CheckResult(FAIL, "store", f"quick_check {check!r}, {materials} materials seeded")
    return CheckResult(
        PASS,
        "store",
        f"new store migrated to schema {head} and seeded "
        f"({materials} materials) in {seconds:.2f} s",
    )


def check_sqlite() -> CheckResult:
    version = sqlite3.sqlite_version
    wanted = ".".join(map(str, SQLITE_WANTED))
    if _version_tuple(version) < SQLITE_WANTED:
        return CheckResult(
            WARN,
            "sqlite",
            f"SQLite {version} is older than {wanted}, which "
            "fixes a WAL database corruption bug; update Python "
            "(or the bundle) when one ships it",
        )
    return CheckResult(PASS, "sqlite", f"SQLite {version}")


def check_keyring(platform_name: str | None = None) -> CheckResult:
    """The real backend is bundled and registered; the active one is real (see module doc)."""
    from importlib.metadata import entry_points

    import keyring
    from keyring.backends import fail, null

    from deskops_desktop.services.secrets import keyring_backend_name

    platform_name = sys.platform if platform_name is None else platform_name
    entry_name, module_name, library = REAL_KEYRING.get(platform_name, LINUX_KEYRING)
    registered = {ep.name for ep in entry_points(group="keyring.backends")}
    if entry_name not in registered:
        return CheckResult(
            FAIL,
            "keyring",
            f"keyring's '{entry_name}' backend is not registered "
            "(entry points missing from this build): passwords "
            "would silently go to the fail backend",
        )
    try:
        module = importlib.import_module(module_name)
        if library is not None:
            importlib.import_module(library)
    except Exception as exc:
        return CheckResult(FAIL, "keyring", f"{module_name} cannot work in this build: {exc}")
    backend = keyring.get_keyring()
    name = keyring_backend_name()
    chained = getattr(backend, "backends", None)
    is_fake = isinstance(backend, fail.Keyring | null.Keyring) or chained == []
    if not is_fake:
        return CheckResult(PASS, "keyring", f"{name}")
    if platform_name in REAL_KEYRING:
        return CheckResult(
            FAIL,
            "keyring",
            f"{name} is active although {module_name} is "
            "present: database passwords cannot be stored",
        )
    reason = _why_not_viable(module)
    return CheckResult(
        WARN,
        "keyring",
        f"{name} is active: {module_name} is present but not "
        f"usable here ({reason}); fine for the SQLite store, "
        "but a PostgreSQL password cannot be remembered",
    )


def _why_not_viable(module: object) -> str:
    backend_class = getattr(module, "Keyring", None)
    if backend_class is None:
        return "no backend class"
    try:
        priority = backend_class.priority
    except Exception as exc:  # keyring raises to say "not viable here", with the reason
        return str(exc).strip() or type(exc).__name__
    return f"priority {priority}"


def check_postgres_driver() -> CheckResult:
    """psycopg loads with its bundled libpq (a clerk's laptop has no PostgreSQL client)."""
    import psycopg

    impl = psycopg.pq.__impl__
    libpq = psycopg.pq.version()
    detail = f"psycopg {psycopg.__version__} ({impl}, libpq {libpq // 10000}.{libpq % 10000})"
    if impl == "python":
        return CheckResult(
            WARN,
            "postgresql",
            f"{detail}: uses the system's libpq; the "
            "psycopg-binary wheel is missing from this build",
        )
    return CheckResult(PASS, "postgresql", detail)


def check_openpyxl() -> CheckResult:
    import openpyxl  # type: ignore[import-untyped]

    if getattr(openpyxl, "DEFUSEDXML", False):
        return CheckResult(PASS, "openpyxl", f"openpyxl {openpyxl.__version__} with defusedxml")
    return CheckResult(
        FAIL,
        "openpyxl",
        "openpyxl runs without defusedxml: xlsx imports would "
        "parse XML without protection against hostile files",
    )


def check_reportlab() -> CheckResult:
    """A one-row pdf export through the real writer, with Arabic joined right to left and a
    truck emoji: the bundled fonts load, shaping works and the file is written."""
    from datetime import UTC, date, datetime

    from deskops_desktop.export import pdf_text
    from deskops_desktop.export.pdf_writer import write_pdf
    from deskops_desktop.export.table import Column, ExportMeta, StaticSource
    from deskops_desktop.models.enums import Granularity, Module
    from deskops_desktop.models.progress import NullProgress

    sample = "تسليم الموقع 🚚 DR-1001"
    fonts = {run.font for run in pdf_text.layout(sample).runs}
    missing = [f for f in (pdf_text.SANS, pdf_text.ARABIC, pdf_text.EMOJI) if f not in fonts]
    day = date(2026, 1, 1)  # fixed: the check never depends on the clock
    meta = ExportMeta(
        module=Module.DISPATCH,
        granularity=Granularity.DAILY,
        site_code="SELF-TEST",
        site_name="Self-test",
        site_timezone="UTC",
        date_from=day,
        date_to=day,
        generated_at=datetime(2026, 1, 1, tzinfo=UTC),
        generated_by="self-test",
    )
    table = StaticSource(meta, [Column("Notes", "notes")], [(sample,)]).table()
    with tempfile.TemporaryDirectory(prefix="deskops-self-test-") as folder:
        written = write_pdf(table, Path(folder) / "self-test.pdf", NullProgress())
        data = written.path.read_bytes()
    if not data.startswith(b"%PDF") or len(data) < 500:
        return CheckResult(FAIL, "reportlab", f"the PDF came out wrong ({len(data)} bytes)")
    if missing:
        return CheckResult(
            WARN,
            "reportlab",
            f"PDF built, but {', '.join(missing)} did not load: Arabic or symbols in pdf"
            " exports show as boxes",
        )
    return CheckResult(
        PASS,
        "reportlab",
        f"pdf export with Arabic (joined, right to left) and emoji: {len(data):,} bytes",
    )


def check_calamine() -> CheckResult:
    """The fast xlsx reader of imports (openpyxl still reads when it is missing, 9x slower)."""
    try:
        import python_calamine
    except ImportError as exc:
        return CheckResult(
            WARN, "calamine", f"python-calamine missing ({exc}): xlsx imports slower"
        )
    version = getattr(python_calamine, "__version__", "?")
    return CheckResult(PASS, "calamine", f"python-calamine {version} reads xlsx imports")


def check_exports_folder() -> CheckResult:
    from deskops_desktop.export.jobs import default_destination

    folder = default_destination()
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".deskops-self-test-") as probe:
            probe.write(b"ok")
            probe.flush()
    except OSError as exc:
        return CheckResult(FAIL, "exports", f"{folder} is not writable: {exc}")
    return CheckResult(PASS, "exports", f"{folder} is writable")


def check_data_folder() -> CheckResult:
    """The default store's folder is on a local disk (else the app refuses to start)."""
    from deskops_desktop.services.paths import data_dir
    from deskops_desktop.services.store_location import location_problem

    folder = data_dir()
    problem = location_problem(folder / "deskops.sqlite3")
    if problem is not None:
        return CheckResult(
            FAIL, "data folder", f"{folder}: {problem.detail}; the store would be refused there"
        )
    return CheckResult(PASS, "data folder", f"{folder}")


def check_qt() -> CheckResult:
    """The platform plugin loads (a QApplication starts) and the SVG icons render."""
    from PySide6.QtCore import QLibraryInfo
    from PySide6.QtGui import QGuiApplication, QIcon
    from PySide6.QtWidgets import QApplication

    from deskops_desktop.views.theme import resources_dir

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    wanted = _requested_platform()
    if wanted and not any((plugins / "platforms").glob(f"*q{wanted}*")):
        present = sorted(p.name for p in (plugins / "platforms").glob("*")) or ["none"]
        return CheckResult(
            FAIL,
            "qt",
            f"platform plugin '{wanted}' is not in {plugins}/platforms "
            f"(found: {', '.join(present)})",
        )
    app = QApplication.instance() or QApplication(sys.argv[:1])
    assert isinstance(app, QGuiApplication)
    platform_name = app.platformName()
    svg = resources_dir() / "icons" / "app.svg"
    if not svg.is_file():
        return CheckResult(
            FAIL, "qt", f"'{platform_name}' platform loaded, but the resources are missing ({svg})"
        )
    pixmap = QIcon(str(svg)).pixmap(32, 32)
    if pixmap.isNull():
        return CheckResult(
            FAIL,
            "qt",
            f"'{platform_name}' platform loaded, but SVG icons do not "
            "render (the svg image/icon plugins are missing)",
        )
    from PySide6 import __version__ as pyside_version

    return CheckResult(
        PASS, "qt", f"Qt {pyside_version}, '{platform_name}' platform plugin, SVG icons render"
    )


def check_charts() -> CheckResult:
    """pyqtgraph (with numpy) draws a line and a bar chart offscreen, as the dashboard does."""
    from PySide6.QtWidgets import QApplication

    if QApplication.instance() is None:
        return CheckResult(FAIL, "charts", "no QApplication (the Qt check failed first)")
    import numpy as np
    import pyqtgraph as pg

    import deskops_desktop.views.charts
    import deskops_desktop.views.movement_chart  # noqa: F401 - the app's chart modules load

    plot = pg.PlotWidget()
    try:
        x = np.arange(10, dtype=float)
        plot.plot(x, x**2)  # PlotDataItem -> PlotCurveItem (imports pyqtgraph's OpenGL helpers)
        plot.addItem(pg.BarGraphItem(x=x, height=x, width=0.6))
        plot.resize(240, 160)
        image = plot.grab()
    finally:
        plot.deleteLater()
    if image.isNull():
        return CheckResult(FAIL, "charts", "pyqtgraph rendered nothing")
    return CheckResult(
        PASS, "charts", f"pyqtgraph {pg.__version__} with numpy {np.__version__} draws offscreen"
    )


def _requested_platform() -> str | None:
    name = os.environ.get("QT_QPA_PLATFORM", "").split(":")[0].strip()
    if name:
        return name
    return {"win32": "windows", "darwin": "cocoa"}.get(sys.platform, "xcb")


CHECKS: Sequence[tuple[str, Callable[[], CheckResult]]] = (
    ("store", check_store),
    ("sqlite", check_sqlite),
    ("keyring", check_keyring),
    ("postgresql", check_postgres_driver),
    ("openpyxl", check_openpyxl),
    ("reportlab", check_reportlab),
    ("calamine", check_calamine),
    ("exports", check_exports_folder),
    ("data folder", check_data_folder),
    ("qt", check_qt),  # near last: a broken platform plugin aborts the process
    ("charts", check_charts),  # needs the QApplication of the Qt check
)


# ----------------------------------------------------------------------------- the report
def _first_line(exc: BaseException) -> str:
    """The informative line of an exception (numpy's import error starts with a banner)."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    useful = [line for line in lines if not line.isupper() and "PLEASE READ" not in line]
    return (useful or lines or [""])[0][:300]


def run_self_test(
    out: TextIO, checks: Sequence[tuple[str, Callable[[], CheckResult]]] | None = None
) -> int:
    """Run every check (default ``CHECKS``), print one line each and a verdict.

    Returns 0 when none failed, else 1. A check that raises is a FAIL with the exception, so
    one broken part never hides the rest.
    """
    checks = CHECKS if checks is None else checks
    frozen = "frozen bundle" if getattr(sys, "frozen", False) else "from source"
    out.write(
        f"DeskOps {__version__} self-test ({frozen}; Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()})\n"
    )
    out.flush()
    results: list[CheckResult] = []
    for name, check in checks:
        try:
            result = check()
        except Exception as exc:
            first = _first_line(exc)
            result = CheckResult(FAIL, name, f"{type(exc).__name__}: {first}")
            if os.environ.get("DESKOPS_DEBUG"):
                traceback.print_exc(file=out)
        results.append(result)
        out.write(f"{result.status}  {result.name:<12} {result.detail}\n")
        out.flush()
    failed = sum(r.status == FAIL for r in results)
    warned = sum(r.status == WARN for r in results)
    if failed:
        out.write(f"Verdict: FAIL ({failed} of {len(results)} checks failed, {warned} warnings)\n")
    else:
        note = f", {warned} warning{'s' if warned != 1 else ''}" if warned else ""
        out.write(f"Verdict: PASS ({len(results)} checks{note})\n")
    out.flush()
    return 1 if failed else 0


def main(argv: Sequence[str] | None = None) -> int:
    """``deskops --self-test``: prints the report to stdout and returns the exit status."""
    del argv  # no options yet; accepted so callers can pass the rest of the command line
    return run_self_test(sys.stdout)


if __name__ == "__main__":
    raise SystemExit(main())
