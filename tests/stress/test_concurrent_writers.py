"""Ten client processes write production, dispatch and adjustments for one site and the same
materials at once; afterwards the maintained ledger equals a recomputation from the records.

Real processes (not threads): ten engines, ten connection pools, what ten laptops do. Every
worker must exit cleanly (a deadlock is retried by ``with_retries``; none may escape), racing
inserts of one unique key are refused by the constraint, and no duplicate key is stored.

Duration: ``DESKOPS_STRESS_SECONDS`` (default 60; 10 under CI, to stay inside its time budget).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from deskops_desktop.models.modules import SPECS
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import Store, open_store
from tests.conftest import pg_url_or_skip

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

WORKERS = 10
ROOT = Path(__file__).resolve().parents[2]


def _seconds() -> float:
    default = "10" if os.environ.get("CI") else "60"
    return float(os.environ.get("DESKOPS_STRESS_SECONDS", default))


@pytest.fixture
def stress_url() -> Iterator[str]:
    server = make_url(pg_url_or_skip())
    name = f"deskops_stress_{os.getpid()}"
    maintenance = Store(server.set(database="postgres"))
    with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = server.set(database=name).render_as_string(hide_password=False)
    open_store(url).dispose()
    yield url
    with maintenance.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    maintenance.dispose()


def test_ten_writers_keep_the_ledger_exact(stress_url: str) -> None:
    seconds = _seconds()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    workers = [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "tests.stress.writer",
                "mixed",
                stress_url,
                str(seconds),
                str(seed),
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in range(WORKERS)
    ]
    totals: dict[str, int] = {}
    failures = []
    for worker in workers:
        out, err = worker.communicate(timeout=seconds + 120)
        if worker.returncode != 0:
            failures.append(err[-3000:])
            continue
        for key, value in json.loads(out.strip().splitlines()[-1]).items():
            totals[key] = totals.get(key, 0) + value
    assert not failures, "a writer died:\n" + "\n---\n".join(failures)
    assert totals["created"] > WORKERS * 5, totals
    print(f"\n{WORKERS} writers for {seconds:.0f} s: {totals}")

    store = Store(stress_url)
    try:
        services = build_services(store)
        site = services.master.site_by_code(SYSTEM, "ALASLA-29")
        assert services.ledger.verify(SYSTEM, site.id) == []
        with store.read() as session:
            for spec in SPECS.values():
                if not spec.unique_key:
                    continue
                cols = ", ".join(spec.unique_key)
                dupes = session.execute(
                    text(
                        f"SELECT {cols}, count(*) FROM {spec.table.__tablename__} "
                        f"GROUP BY {cols} HAVING count(*) > 1"
                    )
                ).all()
                assert dupes == [], spec.module
    finally:
        store.dispose()
