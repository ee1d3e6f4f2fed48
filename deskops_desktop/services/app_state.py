"""App state that survives a restart (the desktop's persisted settings).

A typed, immutable model with a ``schema_version``, saved as JSON in the platformdirs config
folder. Rules: unknown keys are dropped, wrong types fall back to the default for that key, an
older schema is migrated forward, and an unreadable or foreign file is set aside (``.bad``) and
the defaults are used with a logged warning — never a crash. The date range is deliberately not
persisted: the app always starts at "Last 30 days".

``Settings`` holds the current ``AppState``: a change replaces the value as a whole
(``update(theme="dark")``) and is announced to every subscriber (the dashboard re-arms its
refresh timer, the export dialog proposes the preferred format). Nobody mutates a shared object.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import platformdirs

from deskops_desktop.models.enums import ExportFormat

SCHEMA_VERSION = 1
THEMES = ("system", "light", "dark")

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class AppState:
    """Everything the desktop remembers between starts (one immutable value)."""

    schema_version: int = SCHEMA_VERSION
    selected_site_id: str | None = None
    sidebar_collapsed: bool = False
    theme: str = "system"
    dashboard_refresh_minutes: int = 5
    export_format: str = "xlsx"
    animations: bool = True
    window_geometry: str = ""
    splitters: Mapping[str, str] = field(default_factory=dict)
    db_url: str | None = None
    last_username: str = ""


def state_path() -> Path:
    return platformdirs.user_config_path("DeskOps", "DeskOps") / "state.json"


def _valid(name: str, value: Any, default: Any) -> bool:
    if name == "theme":
        return value in THEMES
    if name == "export_format":
        return value in {f.value for f in ExportFormat}
    if name == "dashboard_refresh_minutes":
        return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 240
    if name == "splitters":
        return isinstance(value, dict) and all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        )
    if default is None:
        return value is None or isinstance(value, str)
    return isinstance(value, type(default)) and not (
        isinstance(value, bool) and not isinstance(default, bool)
    )


def _migrate(data: dict[str, Any]) -> dict[str, Any]:
    """Bring an older schema forward. Version 1 is the first; later versions add steps here."""
    data["schema_version"] = SCHEMA_VERSION
    return data


def load_state(path: Path | None = None) -> AppState:
    path = path or state_path()
    defaults = AppState()
    if not path.exists():
        return defaults
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or not isinstance(data.get("schema_version"), int):
            raise ValueError("not a DeskOps state file")
        if data["schema_version"] > SCHEMA_VERSION:
            raise ValueError(f"written by a newer DeskOps (schema {data['schema_version']})")
    except (OSError, ValueError) as exc:
        log.warning("settings file %s is unreadable (%s); using defaults", path, exc)
        _set_aside(path)
        return defaults
    data = _migrate(data)
    values: dict[str, Any] = {}
    for f in fields(AppState):
        default = getattr(defaults, f.name)
        if f.name in data and _valid(f.name, data[f.name], default):
            values[f.name] = data[f.name]
        elif f.name in data:
            log.warning(
                "setting %s has an invalid value %r; using the default", f.name, data[f.name]
            )
    return AppState(**values)


def save_state(state: AppState, path: Path | None = None) -> None:
    """Write atomically so a crash mid-save never leaves a half-written file."""
    path = path or state_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    data = asdict(state)
    data["splitters"] = dict(state.splitters)
    tmp.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


def _set_aside(path: Path) -> None:
    with contextlib.suppress(OSError):  # best effort only
        os.replace(path, path.with_name(path.name + ".bad"))


Listener = Callable[[AppState], None]


class Settings:
    """The current ``AppState``, replaced as a whole and announced (Qt-free).

    Args:
        state: the value to start from (``load_state()`` at start-up, defaults in tests).
        path: where ``save`` writes (the platformdirs file by default).
    """

    def __init__(self, state: AppState | None = None, path: Path | None = None) -> None:
        self._state = state or AppState()
        self._path = path
        self._listeners: list[Listener] = []

    @property
    def current(self) -> AppState:
        return self._state

    def subscribe(self, listener: Listener) -> None:
        """``listener(new_state)`` after every change."""
        self._listeners.append(listener)

    def update(self, **changes: Any) -> AppState:
        """Replace the value with ``changes`` applied; announce it when it differs."""
        new = replace(self._state, **changes)
        if new == self._state:
            return new
        self._state = new
        for listener in list(self._listeners):
            listener(new)
        return new

    def save(self) -> None:
        save_state(self._state, self._path)
