"""The one place that talks to the OS keyring.

Database passwords never live in a plain file: a PostgreSQL URL is stored without its password and
the password is looked up here by the URL's ``user@host:port/db`` identity.

A scheduled report pack signs in the same way: ``deskops pack schedule`` keeps the scheduling
user's DeskOps password under ``sign-in:<store identity>:<username>`` and the task names only the
user (``pack run --keyring-user``). On a secured server store that password is the user's
PostgreSQL role password, so it is all the run needs.
"""

from __future__ import annotations

import contextlib

import keyring
import keyring.errors
from sqlalchemy.engine import URL, make_url

SERVICE = "DeskOps Desktop"


def _account(url: URL) -> str:
    # By backend, not driver: "postgresql://" and "postgresql+psycopg://" name the same server.
    user, host, port = url.username or "", url.host or "", url.port or ""
    return f"{url.get_backend_name()}://{user}@{host}:{port}/{url.database}"


def set_db_password(url: str, password: str) -> None:
    keyring.set_password(SERVICE, _account(make_url(url)), password)


def get_db_password(url: str) -> str | None:
    try:
        return keyring.get_password(SERVICE, _account(make_url(url)))
    except keyring.errors.KeyringError:
        return None


def with_keyring_password(url: str) -> URL:
    """The URL with its password filled in from the keyring when it has none of its own."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite" or parsed.password:
        return parsed
    password = get_db_password(url)
    return parsed.set(password=password) if password else parsed


def keyring_backend_name() -> str:
    backend = keyring.get_keyring()
    return f"{type(backend).__module__}.{type(backend).__name__}"


def _sign_in_account(store_url: str, username: str) -> str:
    return f"sign-in:{_account(make_url(store_url))}:{username.strip().lower()}"


def set_sign_in(store_url: str, username: str, password: str) -> None:
    """Keep ``username``'s DeskOps password for ``store_url`` (raises ``KeyringError``)."""
    keyring.set_password(SERVICE, _sign_in_account(store_url, username), password)


def get_sign_in(store_url: str, username: str) -> str | None:
    """The kept password, or None (none kept, or no usable keyring here)."""
    try:
        return keyring.get_password(SERVICE, _sign_in_account(store_url, username))
    except keyring.errors.KeyringError:
        return None


def delete_sign_in(store_url: str, username: str) -> None:
    """Forget the kept password (nothing kept is fine)."""
    with contextlib.suppress(keyring.errors.KeyringError):
        keyring.delete_password(SERVICE, _sign_in_account(store_url, username))
