"""A PostgreSQL server of a test's own, to stop and start under a running app session.

Never the shared test server (others' tests use it): a fresh data folder in /tmp and its own
port, through ``scripts/pg-test-server`` (which runs the server as the ``postgres`` user when the
tests run as root, as in CI). Without PostgreSQL binaries the tests that need it are skipped with
a reason — nothing is installed from a test.

These servers are *durable* (``--durable``: fsync, synchronous_commit and full_page_writes on):
a test that stops or kills one and then counts what survived must be able to trust that every
acknowledged commit is on disk. ``show("fsync")`` lets a test check which settings it runs on.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "pg-test-server"


def have_postgres_binaries() -> bool:
    return bool(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl")) or shutil.which("pg_ctl") is not None


@dataclass
class ThrowawayServer:
    port: int
    folder: Path
    url: str = ""
    durable: bool = True

    @property
    def data_dir(self) -> Path:
        return self.folder / "data"

    def _run(self, action: str) -> str:
        env = {**os.environ, "DESKOPS_PG_DIR": str(self.data_dir)}
        extra = ["--durable"] if action == "start" and self.durable else []
        done = subprocess.run(
            ["bash", str(SCRIPT), action, str(self.port), *extra],
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        if done.returncode != 0:
            log = self.data_dir / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"pg-test-server {action} failed: {done.stderr}\n{tail}")
        return done.stdout.strip()

    def start(self) -> str:
        self.url = self._run("start").splitlines()[-1]
        return self.url

    def stop(self) -> None:
        """A fast shutdown (clients are disconnected, commits are kept)."""
        self._run("stop")

    def kill(self) -> None:
        """An immediate shutdown: what a crash or a pulled plug does; the next start replays WAL."""
        self._run("kill")

    def show(self, setting: str) -> str:
        """A server setting as the running server reports it (``SHOW``)."""
        import psycopg
        from sqlalchemy.engine import make_url

        url = make_url(self.url)
        with psycopg.connect(
            host=url.host, port=url.port, dbname=url.database, user=url.username, autocommit=True
        ) as conn:
            row = conn.execute(f"SHOW {setting}").fetchone()
        assert row is not None
        return str(row[0])

    def require_passwords(self) -> None:
        """Password (SCRAM) sign-in for every role but the superuser ``deskops``."""
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(
            "local all all trust\n"
            "host all deskops 127.0.0.1/32 trust\n"
            "host all all 127.0.0.1/32 scram-sha-256\n"
        )

    def remove(self) -> None:
        self.stop()
        shutil.rmtree(self.folder, ignore_errors=True)


PORT_OFFSET_ENV = "DESKOPS_TEST_PORT_OFFSET"


def start_throwaway(port: int, *, durable: bool = True) -> ThrowawayServer:
    """A server of the caller's own on ``port`` — moved by ``$DESKOPS_TEST_PORT_OFFSET`` (e.g.
    100), so two suites can run side by side on one machine without meeting on a port."""
    port += int(os.environ.get(PORT_OFFSET_ENV, "0") or 0)
    if not have_postgres_binaries():
        pytest.skip("no PostgreSQL binaries (initdb/pg_ctl) on this machine")
    folder = Path(tempfile.mkdtemp(prefix=f"deskops-own-pg-{port}-"))
    folder.chmod(0o755)  # the 'postgres' user must reach the data folder when we are root
    server = ThrowawayServer(port, folder, durable=durable)
    server.start()
    return server
