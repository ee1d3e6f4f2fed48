"""Pure arithmetic of the dashboard (no session): percentages, targets, day ranges, figures."""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Sequence
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import Date, bindparam, text
from sqlalchemy.sql.elements import TextClause

from deskops_desktop.models.copying import from_attributes
from deskops_desktop.models.ledger_math import level_of
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.types import from_milli, to_milli
from deskops_desktop.services.dashboard.values import HUNDRED, PERCENT, MaterialLevel, UnitFigure


def percent_change(current: Decimal, previous: Decimal) -> Decimal | None:
    """Signed change in percent, 1 dp half-up; ``None`` when there is nothing to compare to."""
    if previous == 0:
        return None
    return ((current - previous) * HUNDRED / abs(previous)).quantize(PERCENT, ROUND_HALF_UP)


def share(part: int, whole: int) -> Decimal:
    """``part`` as percent of ``whole`` (> 0), 1 dp half-up."""
    return (Decimal(part) * HUNDRED / Decimal(whole)).quantize(PERCENT, ROUND_HALF_UP)


def target_on(targets: Sequence[tuple[date, Decimal]], day: date) -> Decimal | None:
    """The target valid on ``day``: latest ``from_date`` ≤ day. ``targets`` sorted by date."""
    index = bisect.bisect_right([t[0] for t in targets], day)
    return targets[index - 1][1] if index else None


def days_between(first: date, last: date) -> tuple[date, ...]:
    return tuple(first + timedelta(days=i) for i in range((last - first).days + 1))


def as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def sql_text(statement: str, *date_params: str) -> TextClause:
    """SQL text whose named date parameters bind as dates (ISO text on SQLite, so the
    ``(site_id, date)`` index is used and no deprecated sqlite3 adapter is involved)."""
    return text(statement).bindparams(*(bindparam(p, type_=Date) for p in date_params))


def unit_figure(uom: str, current: int, previous: int, line: Iterable[int]) -> UnitFigure:
    cur, prev = from_milli(current), from_milli(previous)
    return UnitFigure(uom, cur, prev, percent_change(cur, prev), decimals(line))


def decimals(values: Iterable[int]) -> tuple[Decimal, ...]:
    return tuple(from_milli(v) for v in values)


def average(total: int, days: int) -> Decimal:
    if days <= 0:
        return Decimal("0.0")
    return (Decimal(total) / Decimal(days)).quantize(PERCENT, ROUND_HALF_UP)


def material_level(m: RefItem, closing: int) -> MaterialLevel:
    """The material's level at ``closing`` (thousandths); its code, name, category and unit as
    the reference item has them."""
    return from_attributes(
        MaterialLevel,
        m,
        closing=from_milli(closing),
        low=m.low_threshold,
        high=m.high_threshold,
        level=level_of(closing, to_milli(m.low_threshold), to_milli(m.high_threshold)),
    )
