"""The stock rows of one site and date window, read once and shared by every figure.

Stock and flows come from the maintained ``stock_days`` rows (see ``models.stock``), never from a
recomputation over the raw records: reading ≤ 17 rows per day instead of every record keeps a
refresh proportional to days x materials however big the store is.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import bindparam
from sqlalchemy.orm import Session

from deskops_desktop.models.modules import ReferenceIndex, RefItem
from deskops_desktop.services.dashboard.maths import days_between, sql_text
from deskops_desktop.services.dashboard.values import UNITS

_STOCK_ROWS = sql_text(
    "SELECT material_id, day, produced, received, dispatched, closing FROM stock_days"
    " WHERE site_id = :s AND material_id IN :m AND day >= :a AND day <= :b",
    "a",
    "b",
).bindparams(bindparam("m", expanding=True))
# One round trip; each subquery is a primary-key seek (site_id, material_id, day).
_OPENINGS = sql_text(
    "SELECT m.id, (SELECT sd.closing FROM stock_days sd WHERE sd.site_id = :s"
    " AND sd.material_id = m.id AND sd.day < :a ORDER BY sd.day DESC LIMIT 1) FROM materials m",
    "a",
)
FLOWS = ("produced", "received", "dispatched")
PREVIOUS_FLOWS = sql_text(
    "SELECT m.uom, SUM(sd.produced), SUM(sd.received), SUM(sd.dispatched) FROM stock_days sd"
    " JOIN materials m ON m.id = sd.material_id"
    " WHERE sd.site_id = :s AND sd.material_id IN :m AND sd.day >= :a AND sd.day <= :b"
    " GROUP BY m.uom",
    "a",
    "b",
).bindparams(bindparam("m", expanding=True))
RECORD_TABLES = (
    "equipment_logs",
    "manpower_logs",
    "production",
    "dispatches",
    "received",
    "feed",
    "inventory_adjustments",
)


class StockWindow:
    """Dense daily stock of one site over ``[start, end]`` (thousandths), built from
    ``stock_days`` rows plus each material's closing before ``start``."""

    def __init__(
        self, session: Session, site_id: str, refs: ReferenceIndex, start: date, end: date
    ):
        self.start = start
        self.days = days_between(start, end)
        index: dict[object, int] = {d: i for i, d in enumerate(self.days)}
        index.update({d.isoformat(): i for i, d in enumerate(self.days)})
        openings: dict[str, int | None] = {
            m: (None if c is None else int(c))
            for m, c in session.execute(_OPENINGS, {"s": site_id, "a": start})
        }
        mids = [m.id for m in refs.materials]
        rows = session.execute(_STOCK_ROWS, {"s": site_id, "m": mids, "a": start, "b": end}).all()
        # Stock rows exist only on days with movement, so the work is O(rows) plus C-level
        # slice fills for the days in between (a 2-year window is ~12,000 cells).
        cells: dict[str, list[tuple[int, int, int, int, int]]] = {}
        for material_id, day, p, r, d, c in rows:
            cells.setdefault(material_id, []).append((index[day], p, r, d, c))
        # Days with any production, receipt, dispatch or adjustment at the site.
        self.moved_days = {self.days[index[row[1]]] for row in rows}
        self.materials: tuple[RefItem, ...] = tuple(
            m for m in refs.materials if openings.get(m.id) is not None or m.id in cells
        )
        n = len(self.days)
        self.closing: dict[str, list[int]] = {}
        self.produced: dict[str, list[int]] = {}
        # flows[uom][flow] -> per-day sums; every unit present so callers need no checks.
        self.flows: dict[str, dict[str, list[int]]] = {
            u: {f: [0] * n for f in FLOWS} for u in UNITS
        }
        for m in self.materials:
            sums = self.flows.setdefault(m.uom, {f: [0] * n for f in FLOWS})
            made, came, went = sums["produced"], sums["received"], sums["dispatched"]
            closing = [openings.get(m.id) or 0] * n
            produced = [0] * n
            mine = sorted(cells.get(m.id, ()))
            for k, (i, p, r, d, c) in enumerate(mine):
                upto = mine[k + 1][0] if k + 1 < len(mine) else n
                closing[i:upto] = [c] * (upto - i)
                produced[i] = p
                made[i] += p
                came[i] += r
                went[i] += d
            self.closing[m.id] = closing
            self.produced[m.id] = produced
        self.before = {m.id: openings.get(m.id) or 0 for m in self.materials}

    def offset(self, day: date) -> int:
        return (day - self.start).days

    def flow_total(self, uom: str, flow: str, first: date, last: date) -> int:
        return sum(self.flows[uom][flow][self.offset(first) : self.offset(last) + 1])

    def flow_days(self, uom: str, flow: str, first: date, last: date) -> list[int]:
        return self.flows[uom][flow][self.offset(first) : self.offset(last) + 1]

    def closing_on(self, material_id: str, day: date) -> int:
        """Closing on ``day``; the day before the window is known too (the opening)."""
        i = self.offset(day)
        if i == -1:
            return self.before[material_id]
        if i < 0:
            raise ValueError(f"{day} is before the stock window")
        return self.closing[material_id][i]

    def unit_closing(self, uom: str, day: date) -> int:
        return sum(self.closing_on(m.id, day) for m in self.materials if m.uom == uom)

    def materials_of(self, uom: str) -> list[RefItem]:
        return [m for m in self.materials if m.uom == uom]
