"""STYLE.md's dependency rule: ``models`` <- ``services`` <- ``export``, ``sync``, ``views``.

- Every module of ``models``, ``services``, ``export`` and ``sync`` imports in a fresh
  interpreter in which PySide6, shiboken6 and pyqtgraph cannot be imported at all (a meta path
  finder refuses them), so the Qt-free core stays usable by the CLI, the exports, the sync
  worker and the tests.
- Statically (AST): nothing under ``models/`` imports ``services``; nothing under ``models/`` or
  ``services/`` imports ``export``, ``sync``, ``views``, ``cli`` or ``app``; ``export`` never
  imports ``sync``; ``sync`` never imports ``views`` or ``app`` and reaches the services only
  through ``sync/adapter.py``.
"""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import deskops_desktop

PACKAGE = Path(deskops_desktop.__file__).resolve().parent
ROOT = PACKAGE.parent
BLOCKED = ("PySide6", "shiboken6", "pyqtgraph")

_PROBE = """
import importlib, json, pkgutil, sys

BLOCKED = {blocked!r}

class QtBlocker:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in BLOCKED:
            raise ImportError(f"{{name}} is blocked: this layer must not import Qt")
        return None

sys.meta_path.insert(0, QtBlocker())
imported = []
for package_name in {packages!r}:
    package = importlib.import_module(package_name)
    imported.append(package_name)
    for info in pkgutil.walk_packages(getattr(package, "__path__", []), package_name + "."):
        importlib.import_module(info.name)
        imported.append(info.name)
leaked = sorted(m for m in sys.modules if m.split(".")[0] in BLOCKED)
print(json.dumps({{"imported": imported, "leaked": leaked}}))
"""


def _probe(packages: list[str]) -> dict[str, list[str]]:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    env.pop("QT_QPA_PLATFORM", None)
    result = subprocess.run(
        [sys.executable, "-c", _PROBE.format(blocked=BLOCKED, packages=packages)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, f"import failed with Qt blocked:\n{result.stderr[-3000:]}"
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_core_imports_without_qt() -> None:
    # export/ and sync/ join the check as soon as they exist (written alongside).
    layers = [
        name for name in ("models", "services", "export", "sync") if (PACKAGE / name).is_dir()
    ]
    assert layers[:2] == ["models", "services"]
    report = _probe([f"deskops_desktop.{name}" for name in layers])
    assert report["leaked"] == []
    imported = set(report["imported"])
    expected = {
        f"deskops_desktop.{path.parent.name}.{path.stem}"
        for folder in layers
        for path in (PACKAGE / folder).glob("*.py")
        if path.stem != "__init__"
    }
    assert expected <= imported  # every module was really imported, none skipped
    assert "deskops_desktop.services.records" in imported
    assert "deskops_desktop.models.validation" in imported


def test_cli_imports_without_qt() -> None:
    """The command line's subcommands run on a headless machine; only the GUI entry needs Qt."""
    if not (PACKAGE / "cli.py").exists():
        pytest.skip("deskops_desktop/cli.py does not exist yet")
    report = _probe(["deskops_desktop.cli"])
    assert report["imported"] == ["deskops_desktop.cli"]
    assert report["leaked"] == []


def test_the_blocker_really_blocks() -> None:
    """Guard against a probe that passes because it blocks nothing."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    code = _PROBE.format(blocked=BLOCKED, packages=[]) + "\nimport PySide6\n"
    result = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "PySide6 is blocked" in result.stderr


def _imports(path: Path, root: Path = ROOT) -> list[tuple[int, str]]:
    """(line, absolute module name) of every import in ``path``, relative ones resolved."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    package = ".".join(path.relative_to(root).with_suffix("").parts[:-1])
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                module = ".".join([*base, node.module] if node.module else base)
            else:
                module = node.module or ""
            found.append((node.lineno, module))
            # "from deskops_desktop import services" imports a layer too.
            found.extend((node.lineno, f"{module}.{alias.name}") for alias in node.names)
    return found


FORBIDDEN = {
    "models": (
        "deskops_desktop.services",
        "deskops_desktop.export",
        "deskops_desktop.sync",
        "deskops_desktop.views",
        "deskops_desktop.cli",
        "deskops_desktop.app",
    ),
    "services": (
        "deskops_desktop.export",
        "deskops_desktop.sync",
        "deskops_desktop.views",
        "deskops_desktop.cli",
        "deskops_desktop.app",
    ),
    # Remote-site sync sits above the services; the export layer never needs it.
    "export": (
        "deskops_desktop.sync",
        "deskops_desktop.views",
        "deskops_desktop.app",
    ),
    # Sync is Qt-free (the GUI runs it on a worker thread) and reaches the services through
    # sync/adapter.py only (checked separately below).
    "sync": (
        "deskops_desktop.views",
        "deskops_desktop.app",
    ),
}


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layers_import_only_downwards(layer: str) -> None:
    offenders = []
    for path in sorted((PACKAGE / layer).rglob("*.py")):
        for line, module in _imports(path):
            if module.startswith(FORBIDDEN[layer]) or module.split(".")[0] in BLOCKED:
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_sync_reaches_the_services_through_its_adapter_only() -> None:
    """One door into the services (sync/adapter.py), so a reshaped service API (issue 11's
    gateway and ``Changed[T]``) is one module to update, not the whole package."""
    offenders = []
    for path in sorted((PACKAGE / "sync").rglob("*.py")):
        if path.name == "adapter.py":
            continue
        for line, module in _imports(path):
            if module.startswith("deskops_desktop.services"):
                offenders.append(f"{path.relative_to(ROOT)}:{line} imports {module}")
    assert offenders == []


def test_ast_check_sees_relative_and_aliased_imports(tmp_path: Path) -> None:
    """The static check resolves ``from ..services import x`` (guards the guard)."""
    fake = tmp_path / "deskops_desktop" / "models" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "from ..services import records\n"
        "from deskops_desktop import views\n"
        "import PySide6.QtCore\n",
        encoding="utf-8",
    )
    modules = {m for _, m in _imports(fake, tmp_path)}
    assert "deskops_desktop.services.records" in modules
    assert "deskops_desktop.views" in modules
    assert "PySide6.QtCore" in modules


# ------------------------------------------------------------------------------ one clock
# (receiver, method) pairs that read the wall clock. The receiver is matched by its last dotted
# part, so ``datetime.datetime.now()`` and ``dt.date.today()`` are caught as well.
WALL_CLOCK_CALLS = {
    ("date", "today"),
    ("datetime", "today"),
    ("datetime", "now"),
    ("datetime", "utcnow"),
    ("time", "time"),
    ("time", "time_ns"),
    ("time", "localtime"),
    ("QDate", "currentDate"),
    ("QDateTime", "currentDateTime"),
    ("QDateTime", "currentDateTimeUtc"),
    ("QDateTime", "currentMSecsSinceEpoch"),
    ("QDateTime", "currentSecsSinceEpoch"),
    ("QTime", "currentTime"),
}
CLOCK_MODULE = PACKAGE / "models" / "clock.py"
# Reads that are not "now" or "today": UUIDv7's time field only keeps ids unique and roughly
# ordered for B-tree inserts; nothing ever reads it back as a time (models/ids.py).
NOT_A_CLOCK_READ = {"deskops_desktop/models/ids.py:time.time_ns()"}


def _dotted(node: ast.expr) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def _wall_clock_calls(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line call`` of every wall-clock read in ``path`` (aliases of imports resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom | ast.Import):
            for alias in node.names:
                if alias.asname:
                    aliases[alias.asname] = alias.name.split(".")[-1]
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Name) and func.id in {"utcnow", "localtime"}:
            found.append(f"{path.relative_to(root)}:{node.lineno} {func.id}()")
        if isinstance(func, ast.Attribute):
            receiver = _dotted(func.value).split(".")[-1]
            receiver = aliases.get(receiver, receiver)
            if (receiver, func.attr) in WALL_CLOCK_CALLS:
                found.append(f"{path.relative_to(root)}:{node.lineno} {receiver}.{func.attr}()")
    return found


def test_only_the_clock_reads_the_wall_clock() -> None:
    """One clock (STYLE.md): "now" and "today" come from ``models.clock`` alone."""
    offenders = [
        call
        for path in sorted(PACKAGE.rglob("*.py"))
        if path != CLOCK_MODULE and "migrations" not in path.parts
        for call in _wall_clock_calls(path)
        if _without_line(call) not in NOT_A_CLOCK_READ
    ]
    assert offenders == []
    # The clock itself does read it (guards a rule that matches nothing).
    assert any("datetime.now()" in call for call in _wall_clock_calls(CLOCK_MODULE))


def test_wall_clock_rule_sees_aliases_and_qt(tmp_path: Path) -> None:
    fake = tmp_path / "deskops_desktop" / "views" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "import datetime as dt\n"
        "from datetime import date as D\n"
        "from PySide6.QtCore import QDate\n"
        "a = dt.datetime.now()\n"
        "b = D.today()\n"
        "c = QDate.currentDate()\n"
        "d = dt.timedelta(days=1)\n",
        encoding="utf-8",
    )
    calls = sorted(_wall_clock_calls(fake, tmp_path), key=lambda c: int(c.split(":")[1][:1]))
    assert [c.split(" ", 1)[1] for c in calls] == [
        "datetime.now()",
        "date.today()",
        "QDate.currentDate()",
    ]


def _without_line(call: str) -> str:
    """``path:12 f()`` -> ``path:f()`` (the allow-list does not move with the line)."""
    location, what = call.split(" ", 1)
    return f"{location.rsplit(':', 1)[0]}:{what}"


# ------------------------------------------------------------------------------ one door
def _services_reached(path: Path, root: Path = ROOT) -> list[str]:
    """``file:line`` of every ``<anything>.services`` attribute in ``path``."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = sorted(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Attribute) and node.attr in {"services", "_services"}
    )
    return [f"{path.relative_to(root)}:{line}" for line in lines]


def test_views_reach_data_only_through_the_gateway() -> None:
    """One door (STYLE.md): pages read and write through ``DataGateway.read`` / ``write``,
    never by reaching into a services bundle (which would skip the cache, the deadlock retry,
    the offline path and the change announcement)."""
    offenders = [
        where
        for path in sorted((PACKAGE / "views").rglob("*.py"))
        for where in _services_reached(path)
    ]
    assert offenders == []


def test_one_door_rule_sees_attribute_chains(tmp_path: Path) -> None:
    fake = tmp_path / "deskops_desktop" / "views" / "probe.py"
    fake.parent.mkdir(parents=True)
    fake.write_text(
        "x = self._data.services.master.sites(actor)\ny = data._services.records\n",
        encoding="utf-8",
    )
    assert [w.split(":")[1] for w in _services_reached(fake, tmp_path)] == ["1", "2"]


def test_the_main_window_does_not_probe_its_pages() -> None:
    """The page contract (views/page.py) replaces ``getattr`` probes and ``type: ignore``."""
    source = (PACKAGE / "views" / "main_window.py").read_text(encoding="utf-8")
    assert "getattr(" not in source
    assert "type: ignore" not in source


def test_the_qt_free_core_has_no_import_cycles() -> None:
    """No module of ``models``/``services``/``export`` imports back into one that imports it,
    directly or lazily (``store`` <-> ``store_location`` was one; ``services.paths`` broke it)."""
    layers = ("models", "services", "export")
    graph: dict[str, set[str]] = {}
    modules = {
        ".".join(path.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__"): path
        for layer in layers
        for path in (PACKAGE / layer).rglob("*.py")
    }
    for name, path in modules.items():
        targets = set()
        for _line, imported in _imports(path):
            while imported and imported not in modules:
                imported = imported.rpartition(".")[0]
            if imported and imported != name and not name.startswith(imported + "."):
                targets.add(imported)
        graph[name] = targets
    cycles = []
    for start in graph:
        stack = [(start, [start])]
        while stack:
            node, trail = stack.pop()
            for nxt in graph.get(node, ()):
                if nxt == start:
                    cycles.append(" -> ".join([*trail, nxt]))
                elif nxt not in trail and len(trail) < 8:
                    stack.append((nxt, [*trail, nxt]))
    assert cycles == []
