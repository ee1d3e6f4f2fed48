"""Pure ledger arithmetic: levels and period folding. Integers are thousandths (milli-units).

closing = opening + produced + received - dispatched - fed + adjustment, exactly, because every
term is an integer. Levels: closing < low is LOW, low <= closing <= high is WARNING, closing > high
is HEALTHY (DOMAIN.md); negative stock is LOW.
"""

from __future__ import annotations

from datetime import date, timedelta

from deskops_desktop.models.enums import Granularity, Level


def level_of(closing: int, low: int, high: int) -> Level:
    if closing < low:
        return Level.LOW
    if closing <= high:
        return Level.WARNING
    return Level.HEALTHY


def period_start(day: date, granularity: Granularity) -> date:
    """First day of the ISO week (Monday) or month containing ``day``."""
    if granularity is Granularity.WEEKLY:
        return day - timedelta(days=day.weekday())
    if granularity is Granularity.MONTHLY:
        return day.replace(day=1)
    return day


def net_flow(produced: int, received: int, dispatched: int, fed: int, adjustment: int) -> int:
    return produced + received - dispatched - fed + adjustment
