"""``deskops sync …`` end to end, and ``deskops db init-server`` installing sync (twice)."""

from __future__ import annotations

import json
import os
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from deskops_desktop.cli import main
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.models.sync import PULLED_TABLES
from deskops_desktop.services import pg_security
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import Store
from deskops_desktop.sync.server_schema import installed
from tests.conftest import pg_url_or_skip
from tests.sync.hq import CLERK_PASSWORD, HQ
from tests.sync.laptops import production

pytestmark = pytest.mark.postgres


def _as(monkeypatch: pytest.MonkeyPatch, user: str) -> None:
    monkeypatch.setenv("DESKOPS_USER", user)
    monkeypatch.setenv("DESKOPS_PASSWORD", CLERK_PASSWORD)


def test_join_work_sync_status_and_decide_from_the_command_line(
    hq: HQ, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    clock = FixedClock(hq.server_now())
    db = f"sqlite:///{tmp_path / 'cli.sqlite3'}"
    server = hq.clerk_url.render_as_string(hide_password=False)
    _as(monkeypatch, "op1")
    assert main(["--db", db, "sync", "join", server, "--site", "SITE-A"], clock) == 0
    out = capsys.readouterr()
    assert "a remote-site laptop of SITE-A" in out.out
    assert "First download" in out.err

    # An offline clerk's late record (the laptop's clock said it was recent) is held.
    store = Store(db, clock=clock)
    services = build_services(store)
    clock.set(hq.server_now() - timedelta(days=9))
    actor = services.users.authenticate("op1", CLERK_PASSWORD)
    late = hq.today(hq.site_a) - timedelta(days=9)
    services.records.create(actor, Module.PRODUCTION, hq.site_a.id, production(late))
    clock.set(hq.server_now())
    store.dispose()

    assert main(["--db", db, "sync", "status", "--format", "json"], clock) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["waiting"], status["synced"]) == (1, False)

    assert main(["--db", db, "sync", "now"], clock) == 0
    out = capsys.readouterr().out
    assert "held 1" in out
    assert "1 needs attention" in out

    assert main(["--db", db, "sync", "conflicts"], clock) == 0
    listing = capsys.readouterr().out
    assert "held" in listing
    item_id = listing.splitlines()[2].split()[0]

    assert main(["--db", db, "sync", "resolve", item_id, "--keep", "mine"], clock) == 1
    assert "supervisor" in capsys.readouterr().err  # an operator cannot decide

    _as(monkeypatch, "mod1")
    assert main(["--db", db, "sync", "resolve", item_id, "--keep", "mine"], clock) == 0
    assert "applied" in capsys.readouterr().out
    _as(monkeypatch, "op1")
    assert main(["--db", db, "sync", "now"], clock) == 0
    capsys.readouterr()
    assert main(["--db", db, "sync", "status"], clock) == 0
    assert capsys.readouterr().out.startswith("0 waiting · 0 need attention")
    assert main(["--db", db, "sync", "log", "--lines", "5"], clock) == 0
    assert "sync" in capsys.readouterr().out

    # Head office sees the decision too, from its own store.
    head_office = hq.clerk_url.render_as_string(hide_password=False)
    _as(monkeypatch, "mod1")
    assert main(["--db", head_office, "sync", "conflicts", "--all"], clock) == 0
    assert "applied" in capsys.readouterr().out


def test_conflicts_offline_show_the_laptops_own_list(
    hq: HQ, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from sqlalchemy import update

    from deskops_desktop.models.sync import SyncState

    clock = FixedClock(hq.server_now())
    db = f"sqlite:///{tmp_path / 'off.sqlite3'}"
    _as(monkeypatch, "mod1")
    server = hq.clerk_url.render_as_string(hide_password=False)
    assert main(["--db", db, "sync", "join", server, "--site", "SITE-A"], clock) == 0
    store = Store(db, clock=clock)
    with store.write() as session:
        session.execute(
            update(SyncState).values(
                server_url=hq.clerk_url.set(port=1).render_as_string(hide_password=False)
            )
        )
    store.dispose()
    capsys.readouterr()
    assert main(["--db", db, "sync", "conflicts"], clock) == 0
    out = capsys.readouterr()
    assert "showing this laptop's own list" in out.err
    assert "Seq" in out.out
    assert main(["--db", db, "sync", "now"], clock) == 1
    assert "cannot be reached" in capsys.readouterr().out


def test_sync_commands_on_a_lone_store_say_what_to_do(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'lone.sqlite3'}"
    assert main(["--db", db, "sync", "status"]) == 1
    assert "not a remote-site laptop" in capsys.readouterr().err
    _as(monkeypatch, "op1")
    assert main(["--db", db, "sync", "now"]) == 1
    assert "join one first" in capsys.readouterr().err


def test_init_server_installs_sync_and_again_changes_nothing(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    base = make_url(pg_url_or_skip())
    name = f"deskops_synccli_{os.getpid()}"
    admin = Store(base.set(database="postgres"))
    with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    monkeypatch.setenv("DESKOPS_NEW_PASSWORD", "boss-pass-123")
    try:
        for _ in range(2):
            assert main(["db", "init-server", url, "--admin", "boss"]) == 0
            assert "deskops sync join" in capsys.readouterr().out
            store = Store(url)
            try:
                with store.engine.connect() as conn:
                    assert installed(conn)
                    triggers = conn.execute(
                        text("SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'deskops_feed_%'")
                    ).scalar()
                    assert triggers == 3 * len(PULLED_TABLES)  # insert, update, delete on each
            finally:
                store.dispose()
    finally:
        with admin.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            pg_security.drop_server_roles(conn, pg_security.role_prefix(name))
        admin.dispose()
