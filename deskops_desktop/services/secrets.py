"""The one place that talks to the OS keyring.

Database passwords never live in a plain file: a PostgreSQL URL is stored without its password and
the password is looked up here by the URL's ``user@host:port/db`` identity.
"""

from __future__ import annotations

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
