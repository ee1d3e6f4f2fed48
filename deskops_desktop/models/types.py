"""Column types that keep quantities exact and timestamps in UTC.

Invariant: a quantity is a ``Decimal`` in Python and an integer count of thousandths in the
database (hours: hundredths). Integer sums are exact on SQLite and PostgreSQL alike and are far
faster than NUMERIC on SQLite, whose NUMERIC affinity silently degrades to binary floats.
A float must never reach these columns: ``process_bind_param`` refuses one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, DateTime, Integer
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

MILLI = Decimal("0.001")
CENTI = Decimal("0.01")


def to_milli(value: Decimal) -> int:
    """Exact Decimal -> integer thousandths; raises if precision would be lost."""
    scaled = value * 1000
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 3 decimals")
    return int(scaled)


def from_milli(value: int) -> Decimal:
    """Integer thousandths -> the exact Decimal with 3 places (``5000`` -> ``5.000``)."""
    return Decimal(value).scaleb(-3)


def to_centi(value: Decimal) -> int:
    scaled = value * 100
    if scaled != scaled.to_integral_value():
        raise ValueError(f"{value} has more than 2 decimals")
    return int(scaled)


def from_centi(value: int) -> Decimal:
    return (Decimal(value) / 100).quantize(CENTI)


class _Scaled(TypeDecorator[Decimal]):
    """Base of the scaled-integer types; each subclass names its own integer ``impl``."""

    cache_ok = True

    def _to_int(self, value: Decimal) -> int:  # pragma: no cover - abstract
        raise NotImplementedError

    def _from_int(self, value: int) -> Decimal:  # pragma: no cover - abstract
        raise NotImplementedError

    def process_bind_param(self, value: Any, dialect: Dialect) -> int | None:
        if value is None:
            return None
        if isinstance(value, float | bool):
            raise TypeError(f"refusing inexact {type(value).__name__} {value!r} for a quantity")
        return self._to_int(Decimal(value))

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return self._from_int(int(value))


class Milli(_Scaled):
    """Decimal with 3 places stored as integer thousandths (tons, loads)."""

    impl = BigInteger
    cache_ok = True

    def _to_int(self, value: Decimal) -> int:
        return to_milli(value)

    def _from_int(self, value: int) -> Decimal:
        return from_milli(value)


class Centi(_Scaled):
    """Decimal with 2 places stored as integer hundredths (hours)."""

    impl = Integer
    cache_ok = True

    def _to_int(self, value: Decimal) -> int:
        return to_centi(value)

    def _from_int(self, value: int) -> Decimal:
        return from_centi(value)


class UTCDateTime(TypeDecorator[datetime]):
    """Aware UTC datetimes in, aware UTC datetimes out, on every backend."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise TypeError("timestamps must be timezone-aware")
        stamp: datetime = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return stamp.replace(tzinfo=None)
        return stamp

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stamp: datetime = value
        if stamp.tzinfo is None:
            return stamp.replace(tzinfo=UTC)
        return stamp.astimezone(UTC)
