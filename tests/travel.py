"""Travelled test runs: the suite (or part of it) living on an awkward day.

``DESKOPS_TEST_NOW=2028-02-29T09:00:00+00:00 pytest …`` makes two things move together:

- the ``clock`` fixture (``tests/conftest.py``) starts at that instant instead of
  ``2026-11-27 09:00 UTC``, so every "today" a test derives lands on the awkward day;
- the *process* clock: each test runs inside ``time_machine.travel(that instant)``, so anything
  that still read the wall clock (``datetime.now()``, ``date.today()``, ``time.time()``) would
  see the same awkward moment and, if it disagreed with the app's clock, a test would notice.

The instant ticks from the start of each test (a test that takes a few seconds never crosses a
day boundary unless it starts within seconds of one — the moments in ``.ci/run`` leave a minute).
Time-machine moves Python's clock functions; Qt's C++ clock is not moved, which is why the AST
rule in ``tests/test_layering.py`` forbids ``QDate.currentDate()`` and friends outright.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

ENV = "DESKOPS_TEST_NOW"
DEFAULT_NOW = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)  # 12:00 in Asia/Riyadh


def travel_target() -> datetime | None:
    """The instant of a travelled run, or None for a normal run."""
    text = os.environ.get(ENV, "").strip()
    if not text:
        return None
    moment = datetime.fromisoformat(text)
    if moment.tzinfo is None:
        raise pytest.UsageError(f"{ENV} must carry its UTC offset, e.g. 2028-02-29T09:00:00+00:00")
    return moment.astimezone(UTC)


def run_now() -> datetime:
    """What the ``clock`` fixture starts at in this run."""
    return travel_target() or DEFAULT_NOW


@pytest.fixture(autouse=True)
def _travelled_process_clock() -> Iterator[None]:
    target = travel_target()
    if target is None:
        yield
        return
    import time_machine

    with time_machine.travel(target, tick=True):
        yield


def pytest_report_header() -> str | None:
    target = travel_target()
    return None if target is None else f"travelled run: the clock is at {target.isoformat()}"
