"""Signing clerks in on a remote-site laptop: at head office when it answers, offline otherwise.

On a secured server a clerk's password lives in PostgreSQL only (their login role); the users
table there holds a placeholder. So the laptop keeps a *verifier* of its own: at every online
sign-in (or sync) that head office accepted, the local ``users.password_hash`` of that user is
set to a fresh scrypt hash of the password (``services.passwords``, the same hashing a lone
store uses). Offline, the ordinary local sign-in (``UserService.authenticate``, with its lockout
after repeated failures) checks it. Pulls never overwrite it (``sync.apply``).

When head office *refuses* a password this laptop still accepts, the password was changed (or
the account locked) there: the local verifier is cleared, so the old password stops working
offline too. A deactivated user arrives as ``active = false`` with the next pull and can no
longer sign in here either.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text, update

from deskops_desktop.models.accounts import User
from deskops_desktop.models.errors import AuthenticationError
from deskops_desktop.sync.adapter import (
    PLACEHOLDER_HASH,
    Actor,
    Store,
    hash_password,
    local_authenticate,
    verify_password,
)
from deskops_desktop.sync.link import AuthorRefused, LinkOptions, ServerLink
from deskops_desktop.sync.protocol import SyncOffline
from deskops_desktop.sync.state import require_replica


@dataclass(frozen=True)
class SignIn:
    actor: Actor
    online: bool
    """True when head office itself accepted the password just now."""
    note: str = ""


def cache_verifier(store: Store, username: str, password: str) -> bool:
    """Remember ``password`` for offline sign-in (True when the user exists locally)."""
    name = username.strip().lower()
    with store.write() as session:
        result = session.execute(
            update(User)
            .where(User.username == name)
            .values(password_hash=hash_password(password), failed_logins=0, locked_until=None)
        )
        return bool(getattr(result, "rowcount", 0))


def forget_verifier(store: Store, username: str) -> None:
    with store.write() as session:
        session.execute(
            update(User)
            .where(User.username == username.strip().lower())
            .values(password_hash=PLACEHOLDER_HASH)
        )


def _accepted_locally(store: Store, username: str, password: str) -> bool:
    with store.read() as session:
        stored = session.execute(
            text("SELECT password_hash FROM users WHERE username = :u"),
            {"u": username.strip().lower()},
        ).scalar()
    return isinstance(stored, str) and verify_password(password, stored)


def check_online(
    store: Store, username: str, password: str, options: LinkOptions | None = None
) -> bool:
    """Ask head office whether this password opens the clerk's role; cache it if so.

    Returns False when head office cannot be reached. Raises ``AuthenticationError`` when it
    refuses the password (and clears a local verifier that still accepted it).
    """
    replica = _replica(store)
    link = ServerLink(replica.url, username.strip().lower(), password, options)
    try:
        with link.connect() as conn:
            user_id = conn.execute(text("SELECT deskops_user_id()")).scalar()
        if user_id is None:
            raise AuthenticationError("wrong user name or password")
    except SyncOffline:
        return False
    except AuthorRefused as exc:
        if _accepted_locally(store, username, password):
            forget_verifier(store, username)
            raise AuthenticationError(
                f"head office no longer accepts this password ({exc}); sign in with your "
                "current password"
            ) from None
        raise AuthenticationError("wrong user name or password") from None
    finally:
        link.dispose()
    cache_verifier(store, username, password)
    return True


def _replica(store: Store):  # type: ignore[no-untyped-def]
    with store.read() as session:
        return require_replica(session)


def sign_in(
    store: Store,
    username: str,
    password: str,
    *,
    try_online: bool = True,
    options: LinkOptions | None = None,
) -> SignIn:
    """Sign a clerk in on a replica: online when possible (refreshing the verifier), else local.

    The GUI's sign-in dialog calls this on a remote-site laptop instead of
    ``UserService.authenticate``; it never blocks longer than the link's connect timeout.
    """
    online = False
    note = ""
    if try_online:
        online = check_online(store, username, password, options)
        if not online:
            note = "head office cannot be reached: signed in with this laptop's saved check"
    actor = local_authenticate(store, username, password)
    return SignIn(actor, online, note)
