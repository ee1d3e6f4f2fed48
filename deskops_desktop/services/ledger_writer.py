"""Keeps ``stock_days`` equal to the records, inside the record write's own transaction.

A movement of ``delta`` thousandths on (site, material, day) changes that day's flow column and
shifts the closing of that day and of every later row of the *same* site and material by the net
delta — one UPDATE, so a back-dated entry costs one indexed range update, not a rebuild.

Concurrency: on PostgreSQL a transaction-scoped advisory lock per (site, material) serialises
writers of the same material (otherwise a concurrent insert of a new day row could miss another
writer's roll-forward); locks are taken in sorted order so two writers cannot deadlock. SQLite
serialises writers already (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import Date, bindparam
from sqlalchemy import text as _text
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import TextClause

FLOW_COLUMNS = ("produced", "received", "dispatched", "fed", "adjustment")
_SIGN = {"produced": 1, "received": 1, "dispatched": -1, "fed": -1, "adjustment": 1}
_NO_FLOWS = (0,) * len(FLOW_COLUMNS)
# SQL fragments spelled once from FLOW_COLUMNS: "produced, received, …", ":produced, …" and
# "produced = :produced, …".
_FLOWS = ", ".join(FLOW_COLUMNS)
_FLOW_PARAMS = ", ".join(f":{c}" for c in FLOW_COLUMNS)
_FLOW_SETS = ", ".join(f"{c} = :{c}" for c in FLOW_COLUMNS)
_INSERT = (
    f"INSERT INTO stock_days (site_id, material_id, day, {_FLOWS}, closing)"
    f" VALUES (:s, :m, :d, {_FLOW_PARAMS}, :c)"
)

# Above this many distinct days for one material, merge in Python instead of one UPDATE per day.
_BULK_DAYS = 8


@dataclass(frozen=True)
class Movement:
    """A change of one flow column; ``delta`` in thousandths (negative when a record goes away)."""

    site_id: str
    material_id: str
    day: date
    flow: str
    delta: int


def apply_movements(session: Session, movements: Iterable[Movement]) -> None:
    """Apply any number of movements; each (site, material) is locked and updated once."""
    grouped: dict[tuple[str, str], dict[date, list[int]]] = defaultdict(dict)
    for m in movements:
        if m.delta == 0:
            continue
        flows = grouped[(m.site_id, m.material_id)].setdefault(m.day, list(_NO_FLOWS))
        flows[FLOW_COLUMNS.index(m.flow)] += m.delta
    is_pg = session.get_bind().dialect.name == "postgresql"
    for site_id, material_id in sorted(grouped):
        by_day = {d: f for d, f in grouped[(site_id, material_id)].items() if any(f)}
        if not by_day:
            continue
        if is_pg:
            session.execute(
                _text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                {"k": f"stock:{site_id}:{material_id}"},
            )
        if len(by_day) > _BULK_DAYS:
            _merge_many(session, site_id, material_id, by_day)
        else:
            for day in sorted(by_day):
                _apply_day(session, site_id, material_id, day, by_day[day])


def _net(flows: list[int] | tuple[int, ...]) -> int:
    return sum(_SIGN[c] * v for c, v in zip(FLOW_COLUMNS, flows, strict=True))


_KEY = "site_id = :s AND material_id = :m"


def text(sql: str) -> TextClause:
    """SQL text whose ``:d`` parameter is a date (stored as ISO text on SQLite)."""
    clause = _text(sql)
    if ":d" in sql:
        clause = clause.bindparams(bindparam("d", type_=Date))
    return clause


def _apply_day(
    session: Session, site_id: str, material_id: str, day: date, delta: list[int]
) -> None:
    params = {"s": site_id, "m": material_id, "d": day}
    row = session.execute(
        text(f"SELECT {_FLOWS} FROM stock_days WHERE {_KEY} AND day = :d"),
        params,
    ).first()
    net = _net(delta)
    if row is None:
        before = session.execute(
            text(
                f"SELECT closing FROM stock_days WHERE {_KEY} AND day < :d"
                " ORDER BY day DESC LIMIT 1"
            ),
            params,
        ).scalar()
        session.execute(text(_INSERT), {**params, **_named(delta), "c": (before or 0) + net})
    else:
        new = [a + b for a, b in zip(row, delta, strict=True)]
        if not any(new):
            # No movement left that day: the row carries no information (closing = previous).
            session.execute(text(f"DELETE FROM stock_days WHERE {_KEY} AND day = :d"), params)
        else:
            session.execute(
                text(
                    f"UPDATE stock_days SET {_FLOW_SETS}, closing = closing + :n"
                    f" WHERE {_KEY} AND day = :d"
                ),
                {**params, **_named(new), "n": net},
            )
    if net:
        session.execute(
            text(f"UPDATE stock_days SET closing = closing + :n WHERE {_KEY} AND day > :d"),
            {**params, "n": net},
        )


def _merge_many(
    session: Session, site_id: str, material_id: str, by_day: dict[date, list[int]]
) -> None:
    """Many days at once (imports): read the tail from the first day, merge, write back changes."""
    first = min(by_day)
    params = {"s": site_id, "m": material_id, "d": first}
    before = (
        session.execute(
            text(
                f"SELECT closing FROM stock_days WHERE {_KEY} AND day < :d"
                " ORDER BY day DESC LIMIT 1"
            ),
            params,
        ).scalar()
        or 0
    )
    existing: dict[date, tuple[int, ...]] = {}
    for day, *flows in session.execute(
        text(f"SELECT day, {_FLOWS} FROM stock_days WHERE {_KEY} AND day >= :d ORDER BY day"),
        params,
    ):
        existing[_as_date(day)] = tuple(flows)
    inserts: list[dict[str, object]] = []
    updates: list[dict[str, object]] = []
    deletes: list[dict[str, object]] = []
    closing = before
    for day in sorted(existing.keys() | by_day.keys()):
        old = existing.get(day)
        delta = by_day.get(day)
        flows = [a + b for a, b in zip(old or _NO_FLOWS, delta or _NO_FLOWS, strict=True)]
        closing += _net(flows)
        row = {"s": site_id, "m": material_id, "d": day, **_named(flows), "c": closing}
        if old is None:
            inserts.append(row)
        elif not any(flows):
            deletes.append(row)
        else:
            updates.append(row)
    if deletes:
        session.execute(text(f"DELETE FROM stock_days WHERE {_KEY} AND day = :d"), deletes)
    if updates:
        session.execute(
            text(f"UPDATE stock_days SET {_FLOW_SETS}, closing = :c WHERE {_KEY} AND day = :d"),
            updates,
        )
    if inserts:
        session.execute(text(_INSERT), inserts)


def _named(flows: list[int] | tuple[int, ...]) -> dict[str, int]:
    """Flow values as SQL parameters named after their columns."""
    return dict(zip(FLOW_COLUMNS, flows, strict=True))


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
