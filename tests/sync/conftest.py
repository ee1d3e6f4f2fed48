"""Fixtures of the sync tests: one secured head office per test session (reset per test)."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import pg_url_or_skip
from tests.sync.hq import HQ, drop_hq, make_hq


@pytest.fixture(scope="session")
def _hq_session() -> Iterator[HQ]:
    hq = make_hq(make_url(pg_url_or_skip()), f"deskops_sync_{os.getpid()}")
    yield hq
    drop_hq(hq)


@pytest.fixture
def hq(_hq_session: HQ) -> Iterator[HQ]:
    """The head office, reset to its baseline: two sites, boss, op1, op2, mod1, no records."""
    _hq_session.reset()
    return _hq_session
