"""The command-line harness shared by the CLI tests (registered in ``conftest.pytest_plugins``).

``run("site", "list")`` runs ``deskops`` in-process on a store in ``tmp_path`` with the test's
clock and returns (exit status, stdout, stderr); ``admin`` makes the store's first user an
administrator and signs every later command in as that user.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import pytest

from deskops_desktop.cli import main
from deskops_desktop.models.clock import FixedClock

ADMIN_PASSWORD = "boss-pass-1"

Result = tuple[int, str, str]


class Run(Protocol):
    def __call__(self, *args: str) -> Result: ...


@pytest.fixture
def db(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'cli.sqlite3'}"


@pytest.fixture
def run(capsys: pytest.CaptureFixture[str], db: str, clock: FixedClock) -> Run:
    """``run("site", "list")`` -> (exit status, stdout, stderr) against the test store."""

    def invoke(*args: str) -> Result:
        code = main(["--db", db, *args], clock=clock)
        out, err = capsys.readouterr()
        assert "Traceback" not in err
        return code, out, err

    return invoke


@pytest.fixture
def admin(run: Run, monkeypatch: pytest.MonkeyPatch) -> None:
    """A store whose first user (an admin) exists; the CLI signs in as that admin."""
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", ADMIN_PASSWORD)
    assert run("user", "add", "boss", "--role", "admin")[0] == 0
    monkeypatch.delenv("DESKOPS_NEW_PASSWORD")
    monkeypatch.setenv("DESKOPS_USER", "boss")
    monkeypatch.setenv("DESKOPS_PASSWORD", ADMIN_PASSWORD)
