"""Shared fixtures: an isolated store per test on SQLite and on PostgreSQL.

- platformdirs folders and the keyring point into ``tmp_path`` / an in-memory fake, so no test
  touches the developer's real data or secrets.
- scrypt runs at a low cost in tests (the shipped cost is asserted in test_users).
- ``store`` is parametrised over both backends. PostgreSQL comes from ``DESKOPS_TEST_PG_URL``
  (``.ci/run`` starts a server and sets it). Without it the PostgreSQL half *fails* under CI
  (``CI`` set) and is skipped with a visible reason on a developer's laptop.
- SQLite stores are copies of one migrated template file (fast); PostgreSQL tests share one
  migrated database and every test starts from truncated tables with fresh reference data —
  services commit their own transactions, so a wrapping rollback would not isolate them.
- Time: the ``clock`` fixture is the one place a test learns "now" (a ``FixedClock``); the
  ``store`` fixtures carry it, so every service built over them reads it. A test that needs
  "today" asks ``clock`` (or ``today``); none hard-codes a date that must equal the real one.
  Travelled runs (``DESKOPS_TEST_NOW``): see ``tests/travel.py``.
"""

from __future__ import annotations

import gc
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.tables import Base
from deskops_desktop.services import passwords
from deskops_desktop.services.store import Store, open_store
from tests.travel import DEFAULT_NOW, _travelled_process_clock, pytest_report_header, run_now

pytest_plugins = ["tests.cli_harness"]

# "Now" for this run: 2026-11-27 09:00 UTC (12:00 in Asia/Riyadh), or the travelled instant.
FIXED_NOW = run_now()
PG_ENV = "DESKOPS_TEST_PG_URL"
__all__ = ["_travelled_process_clock", "pytest_report_header"]  # conftest registers both


class MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


@pytest.fixture(autouse=True)
def _collect_on_the_gui_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """A Qt test collects garbage only on this (the GUI) thread, as the app does
    (``views.main.collect_on_gui_thread``): the widgets earlier tests left behind are collected
    here first, and no collection can start on a worker thread while the test runs."""
    if not {"qtbot", "qapp"} & set(request.fixturenames):
        yield
        return
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
        gc.collect()


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[MemoryKeyring]:
    home = tmp_path / "home"
    for var, sub in (
        ("XDG_DATA_HOME", "data"),
        ("XDG_CONFIG_HOME", "config"),
        ("XDG_STATE_HOME", "state"),
        ("XDG_CACHE_HOME", "cache"),
    ):
        monkeypatch.setenv(var, str(home / sub))
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("DESKOPS_DB_URL", raising=False)
    monkeypatch.delenv("DESKOPS_USER", raising=False)
    monkeypatch.delenv("DESKOPS_PASSWORD", raising=False)
    monkeypatch.setattr(passwords, "COST_LOG_N", 4)
    fake = MemoryKeyring()
    previous = keyring.get_keyring()
    keyring.set_keyring(fake)
    yield fake
    keyring.set_keyring(previous)


@pytest.fixture
def clock() -> FixedClock:
    """The test's clock, at ``FIXED_NOW``; tests move it with ``set`` / ``advance``."""
    return FixedClock(FIXED_NOW)


# The day the hand-computed examples (dates written out in the test) were written for.
EXAMPLE_NOW = DEFAULT_NOW


@pytest.fixture
def example_day(clock: FixedClock) -> FixedClock:
    """Pins the clock to ``EXAMPLE_NOW`` for tests whose figures are written out for that day.

    Use it (``pytestmark = pytest.mark.usefixtures("example_day")``) where the dates are the
    point of the example; tests of the date logic itself derive their dates from ``clock``. In a
    travelled run the process clock stays travelled, so these tests then prove that their
    figures come from the app's clock alone.
    """
    clock.set(EXAMPLE_NOW)
    return clock


# ------------------------------------------------------------------ SQLite
@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.sqlite3"
    store = open_store(f"sqlite:///{path}")
    store.dispose()
    return path


@pytest.fixture
def sqlite_store(_sqlite_template: Path, tmp_path: Path, clock: FixedClock) -> Iterator[Store]:
    path = tmp_path / "store.sqlite3"
    shutil.copyfile(_sqlite_template, path)
    store = Store(f"sqlite:///{path}", clock=clock)
    yield store
    store.dispose()


# -------------------------------------------------------------- PostgreSQL
def pg_url_or_skip() -> str:
    url = os.environ.get(PG_ENV)
    if url:
        return url
    if os.environ.get("CI"):
        pytest.fail(f"{PG_ENV} is not set: CI must run the PostgreSQL half of the suite")
    pytest.skip(f"PostgreSQL tests need {PG_ENV} (e.g. run .ci/run, which starts a server)")


@pytest.fixture(scope="session")
def _pg_migrated() -> Iterator[str]:
    """A private database for this test session, migrated once and dropped at the end.

    Private (named after the process id) so two test runs against one server never truncate
    each other's tables.
    """
    server_url = make_url(pg_url_or_skip())
    name = f"deskops_test_{os.getpid()}"
    admin = Store(server_url.set(database="postgres"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server_url.set(database=name).render_as_string(hide_password=False)
    store = Store(url)
    store.upgrade()
    store.dispose()
    yield url
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def pg_store(_pg_migrated: str, clock: FixedClock) -> Iterator[Store]:
    store = Store(_pg_migrated, clock=clock)
    tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {tables} CASCADE"))
    store.seed_reference_data()
    yield store
    store.dispose()


@pytest.fixture
def empty_pg_url() -> Iterator[str]:
    """A URL of an empty PostgreSQL database of the test's own, dropped afterwards."""
    base = make_url(pg_url_or_skip())
    name = f"deskops_mig_{uuid.uuid4().hex[:10]}"
    server = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as conn:
            conn.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield base.set(database=name).render_as_string(hide_password=False)
        with server.connect() as conn:
            conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        server.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request: pytest.FixtureRequest) -> Store:
    """The same test on both backends."""
    name = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(name)
