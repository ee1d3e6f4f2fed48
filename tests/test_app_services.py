"""Qt-free desktop services: the cached data service, date presets, app state, logging."""

from __future__ import annotations

import json
import logging
from datetime import date

import pytest

from deskops_desktop.logs import log_path, setup_logging
from deskops_desktop.services.app_state import AppState, load_state, save_state, state_path
from deskops_desktop.services.date_ranges import preset_range
from deskops_desktop.services.store import Store


def test_presets() -> None:
    today = date(2026, 3, 15)
    assert preset_range("Today", today) == (today, today)
    assert preset_range("Last 7 days", today) == (date(2026, 3, 9), today)
    assert preset_range("Last 30 days", today) == (date(2026, 2, 14), today)
    assert preset_range("This month", today) == (date(2026, 3, 1), today)
    assert preset_range("Last month", today) == (date(2026, 2, 1), date(2026, 2, 28))
    assert preset_range("Last month", date(2026, 1, 5)) == (date(2025, 12, 1), date(2025, 12, 31))
    with pytest.raises(ValueError, match="Custom"):
        preset_range("Custom", today)


def test_app_state_round_trip_and_bad_values(caplog: pytest.LogCaptureFixture) -> None:
    state = AppState(
        selected_site_id="abc",
        sidebar_collapsed=True,
        theme="dark",
        dashboard_refresh_minutes=9,
        export_format="pdf",
        splitters={"a": "b"},
    )
    save_state(state)
    assert load_state() == state
    data = json.loads(state_path().read_text())
    data.update(theme="purple", dashboard_refresh_minutes=0, unknown_key=1, sidebar_collapsed="yes")
    state_path().write_text(json.dumps(data))
    loaded = load_state()
    assert loaded.theme == "system"
    assert loaded.dashboard_refresh_minutes == 5
    assert loaded.sidebar_collapsed is False
    assert loaded.selected_site_id == "abc"
    assert "invalid value" in caplog.text


def test_app_state_from_a_newer_version_is_set_aside() -> None:
    state_path().parent.mkdir(parents=True, exist_ok=True)
    state_path().write_text(json.dumps({"schema_version": 99, "theme": "dark"}))
    assert load_state() == AppState()
    state_path().write_text(json.dumps([1, 2]))
    assert load_state() == AppState()


def test_logging_goes_to_a_rotating_file() -> None:
    path = setup_logging()
    assert setup_logging() == path == log_path()
    logging.getLogger("deskops.test").warning("hello log")
    for handler in logging.getLogger().handlers:
        handler.flush()
    assert "hello log" in path.read_text()
    for handler in list(logging.getLogger().handlers):
        if getattr(handler, "baseFilename", None) == str(path):
            logging.getLogger().removeHandler(handler)
            handler.close()


def test_head_revision_constant_matches_the_migration_scripts(sqlite_store: Store) -> None:
    from deskops_desktop.services.migrate import HEAD_REVISION, current_revision, head_revision

    assert head_revision(sqlite_store.engine) == HEAD_REVISION
    assert current_revision(sqlite_store.engine) == HEAD_REVISION
