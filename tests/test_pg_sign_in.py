"""Sign-in on a secured store is connecting as the user's own role, with a real password check.

The shared test server trusts every loopback connection, so these tests run a server of their
own (``tests.pg_throwaway``) whose pg_hba.conf asks every role but the superuser for a SCRAM
password: a wrong password is refused by the server, a changed one works at once.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url

from deskops_desktop.models.enums import Role
from deskops_desktop.models.errors import AuthenticationError, ValidationError
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.pg_security import clerk_url, init_server
from deskops_desktop.services.store import Store
from tests.pg_throwaway import ThrowawayServer, start_throwaway

OWN_PORT = 54359


@pytest.fixture(scope="module")
def secured() -> Iterator[tuple[ThrowawayServer, str]]:
    server = start_throwaway(OWN_PORT)
    try:
        server.require_passwords()
        superuser = Store(server.url)
        with superuser.engine.connect() as conn:
            conn.execute(text("SELECT pg_reload_conf()"))
        superuser.dispose()
        init_server(server.url, admin=("boss", "boss-pass-123"))
        yield server, clerk_url(make_url(server.url)).render_as_string(hide_password=False)
    finally:
        server.remove()


def test_wrong_password_is_refused_by_the_server(secured: tuple[ThrowawayServer, str]) -> None:
    _server, url = secured
    store = Store(url)
    try:
        users = build_services(store).users
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            users.authenticate("boss", "not-the-password")
        with pytest.raises(AuthenticationError, match="wrong user name or password"):
            users.authenticate("nobody", "boss-pass-123")
        boss = users.authenticate("boss", "boss-pass-123")
        assert boss.is_admin
    finally:
        store.dispose()


def test_new_user_signs_in_and_changes_own_password(secured: tuple[ThrowawayServer, str]) -> None:
    _server, url = secured
    admin_store, clerk_store = Store(url), Store(url)
    try:
        admin_services = build_services(admin_store)
        boss = admin_services.users.authenticate("boss", "boss-pass-123")
        admin_services.users.create(boss, "clerk7", "first-pass-1", Role.OPERATOR, ["ALASLA-29"])
        clerk = build_services(clerk_store)
        actor = clerk.users.authenticate("clerk7", "first-pass-1")
        with pytest.raises(ValidationError, match="current password"):
            clerk.users.change_password(actor, "wrong-pass-1", "second-pass-2")
        clerk.users.change_password(actor, "first-pass-1", "second-pass-2")
        assert clerk.master.sites(actor)  # still connected, with the new password
        fresh = Store(url)
        try:
            users = build_services(fresh).users
            with pytest.raises(AuthenticationError):
                users.authenticate("clerk7", "first-pass-1")
            assert users.authenticate("clerk7", "second-pass-2").username == "clerk7"
        finally:
            fresh.dispose()
        admin_services.users.update(boss, actor.user_id or "", active=False)
        gone = Store(url)
        try:
            with pytest.raises(AuthenticationError):
                build_services(gone).users.authenticate("clerk7", "second-pass-2")
        finally:
            gone.dispose()
    finally:
        admin_store.dispose()
        clerk_store.dispose()
