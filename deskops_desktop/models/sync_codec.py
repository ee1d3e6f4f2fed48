"""Rows as JSON for sync: exact on both backends, typed by the table's own columns.

A pushed payload, a conflict's "mine" and "theirs", and the laptop's sanity digests all use this
one encoding, so a row read from SQLite and the same row read from PostgreSQL encode to the same
JSON. Invariants: a quantity is a decimal *string* (``"12.500"``), never a float; timestamps are
ISO 8601 with their UTC offset; dates are ``YYYY-MM-DD``. ``decode_row`` turns the JSON back into
the Python values the ORM would hold (``Decimal``, ``date``, aware ``datetime``), by column type.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date, Integer, Table

from deskops_desktop.models.types import Centi, Milli, UTCDateTime


def encode_value(value: Any) -> object:
    """One Python value as a JSON-safe scalar (decimals as strings)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def encode_row(table: Table, row: Mapping[str, Any]) -> dict[str, object]:
    """The columns of ``table`` present in ``row``, JSON-safe, in the table's column order."""
    return {c.name: encode_value(row[c.name]) for c in table.columns if c.name in row}


def decode_value(table: Table, column: str, value: object) -> Any:
    """A JSON scalar back to the Python value the column holds."""
    if value is None:
        return None
    kind = table.c[column].type
    if isinstance(kind, Milli | Centi):
        if isinstance(value, float):
            raise TypeError(f"refusing inexact float {value!r} for {table.name}.{column}")
        return Decimal(str(value))
    if isinstance(kind, UTCDateTime):
        stamp = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
        if stamp.tzinfo is None:
            raise ValueError(f"{table.name}.{column}: a timestamp without its UTC offset")
        return stamp
    if isinstance(kind, Date):
        return value if isinstance(value, date) else date.fromisoformat(str(value))
    if isinstance(kind, Boolean):
        return bool(value)
    if isinstance(kind, Integer):
        return int(str(value))
    return value


def decode_row(table: Table, data: Mapping[str, object]) -> dict[str, Any]:
    """``encode_row`` reversed; keys that are not columns of ``table`` are refused."""
    unknown = set(data) - set(table.c.keys())
    if unknown:
        raise ValueError(f"{table.name} has no column(s) {', '.join(sorted(unknown))}")
    return {name: decode_value(table, name, value) for name, value in data.items()}


def row_digest(rows: Iterable[Mapping[str, object]]) -> str:
    """A stable hash of encoded rows (order-independent): tests and the sanity check compare it."""
    lines = sorted(json.dumps(dict(r), sort_keys=True, separators=(",", ":")) for r in rows)
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
