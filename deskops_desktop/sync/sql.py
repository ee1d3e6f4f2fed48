"""Small SQL helpers the sync modules share (no service imports here)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Connection


def run_ddl(conn: Connection, sql: str) -> None:
    """SQL with literal ``%`` (PL/pgSQL ``format``, LIKE patterns), sent exactly as written."""
    conn.execution_options(no_parameters=True).exec_driver_sql(sql)


def sqlstate(exc: BaseException) -> str | None:
    """The SQLSTATE of a driver error wrapped by SQLAlchemy (None when there is none)."""
    orig: Any = getattr(exc, "orig", None)
    return getattr(orig, "sqlstate", None) if orig is not None else None


def server_message(exc: BaseException) -> str:
    """The server's own first line for a database error, without SQLAlchemy's decorations."""
    orig: Any = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0][:300] if text else type(exc).__name__
