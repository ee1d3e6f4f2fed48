"""The "needs attention" list: negative and LOW stock, breakdowns, days without entries.

Each item names the page that fixes it (``AttentionTarget``): a clerk clicks and lands on the
inventory filtered to the material, the equipment log of the unit, or the production page.
"""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import Date, bindparam, text

from deskops_desktop.models.display import summary
from deskops_desktop.models.enums import EquipmentStatus, Module
from deskops_desktop.models.types import from_milli, to_milli
from deskops_desktop.services.dashboard.maths import as_date, days_between, sql_text
from deskops_desktop.services.dashboard.queries import SnapshotQuery
from deskops_desktop.services.dashboard.stock_window import RECORD_TABLES, StockWindow
from deskops_desktop.services.dashboard.values import (
    SHIFT_RANK,
    STATUS_LOOKBACK_DAYS,
    AttentionItem,
    AttentionKind,
    AttentionTarget,
)


def attention_items(q: SnapshotQuery, stock: StockWindow) -> tuple[AttentionItem, ...]:
    """Everything that needs a clerk's attention for the period, most urgent kind first."""
    negative: list[AttentionItem] = []
    low: list[AttentionItem] = []
    first, last = stock.offset(q.date_from), stock.offset(q.date_to)
    for m in stock.materials:
        series = stock.closing[m.id]
        latest = series[last]
        shown = from_milli(latest)
        where = AttentionTarget(Module.INVENTORY, material_code=m.code, day=q.date_to)
        if latest < 0:
            negative.append(
                AttentionItem(
                    AttentionKind.NEGATIVE_STOCK,
                    f"{m.code} {m.name}: stock is negative ({summary(shown, m.uom, unit=True)}"
                    f" on {q.date_to.isoformat()}) — an entry is missing or was late",
                    where,
                )
            )
            continue
        dipped = next((i for i in range(first, last + 1) if series[i] < 0), None)
        if dipped is not None:
            day = stock.days[dipped]
            negative.append(
                AttentionItem(
                    AttentionKind.NEGATIVE_STOCK,
                    f"{m.code} {m.name}: stock was negative on {day.isoformat()}"
                    f" ({summary(from_milli(series[dipped]), m.uom, unit=True)})",
                    AttentionTarget(Module.INVENTORY, material_code=m.code, day=day),
                )
            )
        if latest < to_milli(m.low_threshold):
            low.append(
                AttentionItem(
                    AttentionKind.LOW_STOCK,
                    f"{m.code} {m.name} is LOW: {summary(shown, m.uom, unit=True)}"
                    f" (below {summary(m.low_threshold, m.uom, unit=True)})",
                    where,
                )
            )
    return (*negative, *low, *_breakdowns(q), *_missing_days(q, stock))


def _breakdowns(q: SnapshotQuery) -> list[AttentionItem]:
    """Equipment whose latest status (blank statuses skipped) is BREAKDOWN, with the day the
    current streak began. SQL finds each unit's latest status day; the full history is
    read only for the (rare) broken-down units."""
    params = {
        "s": q.site_id,
        "a": q.date_to - timedelta(days=STATUS_LOOKBACK_DAYS),
        "b": q.date_to,
    }
    where = "site_id = :s AND status <> '' AND date >= :a AND date <= :b"
    latest = q.session.execute(
        sql_text(
            f"SELECT MIN(d) FROM (SELECT MAX(date) AS d FROM equipment_logs WHERE {where}"
            " GROUP BY equipment_id) latest",
            "a",
            "b",
        ),
        params,
    ).scalar()
    if latest is None:
        return []
    recent = q.session.execute(
        sql_text(
            f"SELECT equipment_id, date, shift, status FROM equipment_logs WHERE {where}",
            "a",
            "b",
        ),
        {**params, "a": as_date(latest)},
    ).all()
    newest: dict[str, tuple[date, int, str]] = {}
    for equipment_id, day, shift, status in recent:
        key = (as_date(day), SHIFT_RANK.get(shift or "", 0), status)
        if equipment_id not in newest or key > newest[equipment_id]:
            newest[equipment_id] = key
    items = []
    for item in q.refs.equipment:
        last = newest.get(item.id)
        if last is None or last[2] != EquipmentStatus.BREAKDOWN:
            continue
        history = sorted(
            (
                (as_date(day), SHIFT_RANK.get(shift or "", 0), status)
                for day, shift, status in q.session.execute(
                    sql_text(
                        f"SELECT date, shift, status FROM equipment_logs WHERE {where}"
                        " AND equipment_id = :e",
                        "a",
                        "b",
                    ),
                    {**params, "e": item.id},
                ).all()
            ),
            reverse=True,
        )
        since = last[0]
        for day, _rank, status in history:
            if status != EquipmentStatus.BREAKDOWN:
                break
            since = day
        items.append(
            AttentionItem(
                AttentionKind.BREAKDOWN,
                f"{item.code} {item.name} is in BREAKDOWN (since {since.isoformat()})",
                AttentionTarget(Module.EQUIPMENT, equipment_code=item.code, day=last[0]),
            )
        )
    return items


def _missing_days(q: SnapshotQuery, stock: StockWindow) -> list[AttentionItem]:
    """Runs of days up to today with no record of any module at the site.

    Days with a stock row have entries; only the rest are looked up in the six record
    tables (equipment and manpower have no maintained rows, and a day whose adjustments
    cancel out has records but no stock row) — usually a handful of days, not the range.
    """
    last = min(q.date_to, q.today)
    if last < q.date_from:
        return []
    candidates = [d for d in days_between(q.date_from, last) if d not in stock.moved_days]
    seen: set[date] = set()
    if candidates:
        # Index seeks on (site_id, date) for exactly the candidate days, not a range scan.
        branches = " UNION ".join(
            f"SELECT date FROM {table} WHERE site_id = :s AND date IN :days"
            for table in RECORD_TABLES
        )
        statement = text(branches).bindparams(bindparam("days", type_=Date, expanding=True))
        seen = {
            as_date(d)
            for (d,) in q.session.execute(statement, {"s": q.site_id, "days": candidates}).all()
        }
    runs: list[tuple[date, date]] = []
    for day in candidates:
        if day in seen:
            continue
        if runs and runs[-1][1] == day - timedelta(days=1):
            runs[-1] = (runs[-1][0], day)
        else:
            runs.append((day, day))
    items = []
    for start, end in reversed(runs):  # most recent first: that is what a clerk fixes now
        if start == end:
            message = f"No entries for {start.isoformat()}"
        else:
            count = (end - start).days + 1
            message = f"No entries from {start.isoformat()} to {end.isoformat()} ({count} days)"
        items.append(
            AttentionItem(
                AttentionKind.MISSING_ENTRIES,
                message,
                AttentionTarget(Module.PRODUCTION, day=start),
            )
        )
    return items
