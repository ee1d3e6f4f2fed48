"""Fixtures of the sync tests: one secured head office per test session (reset per test).

The head office lives on a PostgreSQL server of the session's own (``tests.pg_throwaway``),
not on the shared test server: the change feed's fence is cluster-wide, so an open write
transaction of any other test run on a shared server would (correctly) hold every pull back
while it runs, and the tests that check convergence would wait for strangers.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
from sqlalchemy.engine import make_url

from tests.conftest import pg_url_or_skip
from tests.pg_throwaway import start_throwaway
from tests.sync.hq import HQ, drop_hq, make_hq

OWN_PORT = 54360


@pytest.fixture(scope="session")
def _hq_session() -> Iterator[HQ]:
    pg_url_or_skip()  # the PostgreSQL half of the suite runs (or is skipped) as one
    server = start_throwaway(OWN_PORT, durable=False)
    hq = make_hq(make_url(server.url), f"deskops_sync_{os.getpid()}")
    yield hq
    drop_hq(hq)
    server.remove()


@pytest.fixture
def hq(_hq_session: HQ) -> HQ:
    """The head office, reset to its baseline: two sites, boss, op1, op2, mod1, no records."""
    _hq_session.reset()
    return _hq_session
