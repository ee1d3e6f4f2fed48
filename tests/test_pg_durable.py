"""The server that fault tests kill is durable: what it acknowledged survives an immediate stop.

``scripts/pg-test-server`` runs the shared suite server with fsync and synchronous_commit off
(fast, and nothing kills it). A test that kills a server and then counts what survived needs the
opposite, so ``tests.pg_throwaway`` starts its own with ``--durable``. This test proves the
settings and the guarantee: every commit the client saw acknowledged is there after a crash.
"""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from tests.pg_throwaway import ThrowawayServer, start_throwaway

OWN_PORT = 54351


@pytest.fixture(scope="module")
def durable() -> Iterator[ThrowawayServer]:
    server = start_throwaway(OWN_PORT)
    yield server
    server.remove()


def _connect(server: ThrowawayServer) -> psycopg.Connection[tuple[object, ...]]:
    url = make_url(server.url)
    return psycopg.connect(
        host=url.host, port=url.port, dbname=url.database, user=url.username, autocommit=True
    )


@pytest.mark.postgres
def test_fault_servers_run_with_durable_settings(durable: ThrowawayServer) -> None:
    assert durable.durable
    assert [durable.show(s) for s in ("fsync", "synchronous_commit", "full_page_writes")] == [
        "on",
        "on",
        "on",
    ]


@pytest.mark.postgres
def test_acknowledged_commits_survive_an_immediate_stop(durable: ThrowawayServer) -> None:
    with _connect(durable) as conn:
        conn.execute("DROP TABLE IF EXISTS acked")
        conn.execute("CREATE TABLE acked (n integer PRIMARY KEY)")
        acknowledged = 0
        for n in range(200):
            conn.execute("INSERT INTO acked VALUES (%s)", (n,))  # autocommit: one commit each
            acknowledged += 1
    durable.kill()  # pg_ctl -m immediate: no checkpoint, WAL replay on the next start
    durable.start()
    with _connect(durable) as conn:
        row = conn.execute("SELECT count(*), max(n) FROM acked").fetchone()
    assert row == (acknowledged, acknowledged - 1)
