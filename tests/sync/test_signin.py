"""Signing in on a remote-site laptop: online when head office answers, offline with the cached
verifier otherwise; a password changed at head office stops the old one offline too.

A server of its own with password (SCRAM) sign-in for clerk roles — the shared test server
trusts every local connection, which would accept any password.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import update
from sqlalchemy.engine import make_url

from deskops_desktop.models.errors import AuthenticationError
from deskops_desktop.models.sync import SyncState
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.sync import sign_in
from tests.pg_throwaway import ThrowawayServer, start_throwaway
from tests.sync.hq import CLERK_PASSWORD, HQ, make_hq
from tests.sync.laptops import FAST_LINK, Laptop, make_laptop

pytestmark = pytest.mark.postgres
PORT = 54363


@pytest.fixture(scope="module")
def scram() -> Iterator[tuple[ThrowawayServer, HQ]]:
    server = start_throwaway(PORT, durable=False)
    server.require_passwords()
    server.stop()
    server.start()
    hq = make_hq(make_url(server.url), "deskops_signin")
    yield server, hq
    hq.close()
    server.remove()


@pytest.fixture
def laptop(scram: tuple[ThrowawayServer, HQ], tmp_path: Path) -> Iterator[Laptop]:
    _, hq = scram
    hq.reset()
    made = make_laptop(hq, tmp_path)
    yield made
    made.close()


def _go_offline(laptop: Laptop) -> None:
    """Point the replica at a port nobody listens on (the network is gone)."""
    with laptop.store.write() as session:
        state = session.get(SyncState, 1)
        assert state is not None
        url = make_url(state.server_url).set(port=1)
        session.execute(
            update(SyncState).values(server_url=url.render_as_string(hide_password=False))
        )


def test_online_then_offline_sign_in(laptop: Laptop) -> None:
    online = sign_in(laptop.store, "op1", CLERK_PASSWORD, options=FAST_LINK)
    assert online.online
    assert online.actor.username == "op1"
    with pytest.raises(AuthenticationError):
        sign_in(laptop.store, "op1", "wrong-pass-123", options=FAST_LINK)
    _go_offline(laptop)
    offline = sign_in(laptop.store, "op1", CLERK_PASSWORD, options=FAST_LINK)
    assert not offline.online
    assert "cannot be reached" in offline.note
    with pytest.raises(AuthenticationError):
        sign_in(laptop.store, "op1", "wrong-pass-123", options=FAST_LINK)


def test_a_clerk_who_never_signed_in_here_cannot_sign_in_offline(laptop: Laptop) -> None:
    _go_offline(laptop)
    with pytest.raises(AuthenticationError):
        sign_in(laptop.store, "op2", CLERK_PASSWORD, options=FAST_LINK)


def test_a_password_changed_at_head_office_stops_the_old_one(
    laptop: Laptop, scram: tuple[ThrowawayServer, HQ]
) -> None:
    _, hq = scram
    op1 = next(u for u in hq.services.users.list(SYSTEM) if u.username == "op1")
    hq.services.users.set_password(hq.boss, op1.id, "fresh-pass-456")
    with pytest.raises(AuthenticationError, match="no longer accepts"):
        sign_in(laptop.store, "op1", CLERK_PASSWORD, options=FAST_LINK)
    _go_offline(laptop)
    with pytest.raises(AuthenticationError):  # the old check was forgotten
        sign_in(laptop.store, "op1", CLERK_PASSWORD, options=FAST_LINK)
    with pytest.raises(AuthenticationError):  # and the new one needs head office once
        sign_in(laptop.store, "op1", "fresh-pass-456", options=FAST_LINK)
    hq.services.users.set_password(hq.boss, op1.id, CLERK_PASSWORD)


def test_sync_with_a_wrong_password_is_refused_plainly(laptop: Laptop) -> None:
    from deskops_desktop.sync import Credentials, run_sync

    report = run_sync(
        laptop.store, Credentials({"op1": "wrong-pass-123"}, "op1", False), options=FAST_LINK
    )
    assert not report.ok
    assert "wrong or changed password" in report.error
    assert laptop.status().last_error
