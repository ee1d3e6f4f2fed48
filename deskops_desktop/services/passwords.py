"""Password hashing with scrypt at OWASP's recommended cost (N=2^17, r=8, p=1).

The cost is stored inside each hash (``scrypt$17$8$1$salt$key``) so it can be raised later while
old hashes keep verifying. Tests lower ``COST_LOG_N`` through a fixture to stay fast; the
default here is what ships.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os

COST_LOG_N = 17
BLOCK_SIZE = 8
PARALLELISM = 1
KEY_LENGTH = 32
MIN_PASSWORD_LENGTH = 8


def _scrypt(password: str, salt: bytes, log_n: int, r: int, p: int) -> bytes:
    n = 1 << log_n
    return hashlib.scrypt(
        password.encode("utf-8"),
        salt=salt,
        n=n,
        r=r,
        p=p,
        dklen=KEY_LENGTH,
        maxmem=256 * n * r * p + (1 << 20),
    )


def hash_password(password: str) -> str:
    salt = os.urandom(16)
    key = _scrypt(password, salt, COST_LOG_N, BLOCK_SIZE, PARALLELISM)
    b64 = base64.b64encode
    return (
        f"scrypt${COST_LOG_N}${BLOCK_SIZE}${PARALLELISM}${b64(salt).decode()}${b64(key).decode()}"
    )


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, log_n, r, p, salt, key = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = base64.b64decode(key)
        actual = _scrypt(password, base64.b64decode(salt), int(log_n), int(r), int(p))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(expected, actual)


def password_problem(password: str) -> str | None:
    """Why a new password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"must be at least {MIN_PASSWORD_LENGTH} characters"
    if password.strip() != password:
        return "must not start or end with a space"
    return None
