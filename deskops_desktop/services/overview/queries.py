"""The overview's reads: a handful of statements for every site and both periods at once.

The two periods are contiguous (the previous one ends the day before the current one begins),
so every statement reads ``[previous start, current end]`` once and splits by a ``period``
column (0 current, 1 previous). Five statements do the work whatever the number of sites:

1. **flows** — one ``UNION ALL`` over production, received, feed and dispatches: per site,
   period (and fate), the TON quantities summed, and the LOAD records counted and summed;
2. **deemed** — the same four tables joined with the factors' step functions (a few rows per
   site and material, clipped to the range): each LOAD record's tons, rounded once as
   ``models.conversion.deemed_milli`` rounds, summed in SQL;
3. **hours** — crushing and screening hours;
4. **closings** — each site and material's latest closing on both last days, a primary-key seek
   each inside one statement;
5. **entered days** — the (site, day) keys of the stock rows, then only the remaining days
   (usually a handful) looked up in the record tables.

Dates are bound as ISO text on SQLite (where they are stored as text), so indexes stay usable.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta
from typing import Any

from sqlalchemy import bindparam, select, text
from sqlalchemy.orm import Session

from deskops_desktop.models.conversion import Factor, FactorTable, deemed_milli
from deskops_desktop.models.enums import EquipmentType, Fate, Uom
from deskops_desktop.models.modules import RefItem
from deskops_desktop.models.reference import ConversionFactor
from deskops_desktop.models.types import to_milli
from deskops_desktop.services.overview.values import SiteFigures
from deskops_desktop.services.reference import SiteInfo, load_reference_index

# Every table a clerk's day of entries can be in (a day with any of them is "entered").
ENTRY_TABLES = (
    "production",
    "dispatches",
    "received",
    "feed",
    "equipment_logs",
    "manpower_logs",
    "inventory_adjustments",
)
# The flow tables the overview sums, and the column that splits them (dispatches: the fate).
FLOW_TABLES = (("production", ""), ("received", ""), ("feed", ""), ("dispatches", "fate"))

Key = tuple[str, str, str, int]  # (table, site, fate or "", period)


class PeriodReader:
    """The statements of one overview over one session (see the module docstring)."""

    def __init__(
        self,
        session: Session,
        sites: Sequence[SiteInfo],
        today: dict[str, date],
        current: tuple[date, date],
        previous: tuple[date, date],
    ) -> None:
        assert previous[1] + timedelta(days=1) == current[0], "the periods must be contiguous"
        self.session = session
        self.sites = list(sites)
        self.site_ids = [s.id for s in sites]
        self.today = today
        self.current, self.previous = current, previous
        self.sqlite = session.get_bind().dialect.name == "sqlite"
        refs = load_reference_index(session)
        self.materials: dict[str, RefItem] = {m.id: m for m in refs.materials}
        self.ton_ids = [m.id for m in refs.materials if m.uom == Uom.TON]
        self.load_ids = [m.id for m in refs.materials if m.uom != Uom.TON]
        factors = [
            Factor(m, s, d, to_milli(f))
            for m, s, d, f in session.execute(
                select(
                    ConversionFactor.material_id,
                    ConversionFactor.site_id,
                    ConversionFactor.valid_from,
                    ConversionFactor.tons_per_load,
                ).order_by(
                    ConversionFactor.valid_from, ConversionFactor.updated_at, ConversionFactor.id
                )
            )
        ]
        # What services.factors.load_factor_table gives per site, from one read.
        self.factors = {s: FactorTable.of(s, factors) for s in self.site_ids}

    def figures(self) -> tuple[dict[str, SiteFigures], dict[str, SiteFigures]]:
        """(current, previous): every site's figures of each period."""
        flows = self._flows()
        hours = self._hours()
        closings = self._closings()
        entered = self._entered_days()
        out: tuple[dict[str, SiteFigures], dict[str, SiteFigures]] = ({}, {})
        for period, (first, last) in enumerate((self.current, self.previous)):
            for site in self.sites:
                sid = site.id

                def flow(table: str, fate: str = "", sid: str = sid, p: int = period) -> list[int]:
                    return flows.get((table, sid, fate, p), [0, 0, 0, 0])

                open_days = max(0, (min(last, self.today[sid]) - first).days + 1)
                stock = self._stock(sid, closings.get((sid, period), {}), last)
                missing = sum(
                    cell[3] for (_t, s, _f, p), cell in flows.items() if (s, p) == (sid, period)
                )
                out[period][sid] = SiteFigures(
                    date_from=first,
                    date_to=last,
                    stock_tons_m=stock[0],
                    stock_deemed_m=stock[1],
                    stock_no_factor_loads_m=stock[2],
                    low_materials=stock[3],
                    produced_m=flow("production")[0],
                    sold_m=flow("dispatches", Fate.SALE.value)[0],
                    disposal_m=flow("dispatches", Fate.DISPOSAL.value)[0],
                    received_m=flow("received")[0],
                    fed_m=flow("feed")[0],
                    crusher_hours_c=hours.get((sid, period), 0),
                    days_not_entered=max(0, open_days - entered.get((sid, period), 0)),
                    no_factor_records=missing,
                )
        return out

    # ------------------------------------------------------------------- statements
    def _params(self) -> dict[str, Any]:
        return {
            "sites": self.site_ids,
            "tons": self.ton_ids or [""],
            "loads": self.load_ids or [""],
            "lo": self._day(self.previous[0]),
            "hi": self._day(self.current[1]),
            "cur": self._day(self.current[0]),
        }

    def _flows(self) -> dict[Key, list[int]]:
        """(table, site, fate, period) -> [tons, deemed tons, no-factor loads, no-factor
        records]."""
        union = _flow_union("SUM(r.quantity)", "AND r.material_id IN :tons GROUP BY 1, 2, 3, 4")
        sql = text(union).bindparams(*self._expanding("sites", "tons"))
        out: dict[Key, list[int]] = {}
        for table, sid, fate, period, tons in self.session.execute(sql, self._params()):
            out[(table, sid, str(fate or ""), int(period))] = [int(tons or 0), 0, 0, 0]
        for key, material_id, day, quantity, count in self._load_groups():
            cell = out.setdefault(key, [0, 0, 0, 0])
            item = self.materials[material_id]
            tons_m, _mass = self.factors[key[1]].tonnage(material_id, item.uom, day, quantity)
            if tons_m is None:
                cell[2] += quantity * count
                cell[3] += count
            else:
                cell[0] += tons_m * count
                cell[1] += tons_m * count
        return out

    def _load_groups(self) -> list[tuple[Key, str, date, int, int]]:
        """LOAD records grouped so that every group converts alike: by site, fate, period,
        material, quantity and the span between two factor changes (within one span every
        site's factor for a material is constant). Each row: (key, material, a day of the
        span, quantity, records) — a few hundred rows where a record-by-record read would
        ship every load."""
        first, last = self.previous[0], self.current[1]
        changes = sorted(
            {
                start
                for table in self.factors.values()
                for material_id in self.load_ids
                for bound in table.intervals(material_id)
                for start in (bound[0], bound[1])
                if start is not None and first < start <= last
            }
        )
        params = self._params()
        spans = " ".join(f"WHEN r.date < :c{n} THEN {n}" for n in range(len(changes)))
        params.update({f"c{n}": self._day(day) for n, day in enumerate(changes)})
        span = f"CASE {spans} ELSE {len(changes)} END" if changes else "0"
        union = _flow_union(
            f"r.material_id, {span}, r.quantity, COUNT(*), MIN(r.date)",
            "AND r.material_id IN :loads GROUP BY 1, 2, 3, 4, 5, 6, 7",
        )
        sql = text(union).bindparams(*self._expanding("sites", "loads"))
        return [
            (
                (table, sid, str(fate or ""), int(period)),
                material_id,
                _as_date(day),
                int(quantity),
                int(count),
            )
            for table, sid, fate, period, material_id, _span, quantity, count, day in (
                self.session.execute(sql, params)
            )
        ]

    def _hours(self) -> dict[tuple[str, int], int]:
        sql = text(
            "SELECT l.site_id, CASE WHEN l.date >= :cur THEN 0 ELSE 1 END, SUM(l.hours * l.count)"
            " FROM equipment_logs l JOIN equipment e ON e.id = l.equipment_id"
            f" WHERE e.type = '{EquipmentType.CRUSHING_SCREENING.value}'"
            " AND l.site_id IN :sites AND l.date >= :lo AND l.date <= :hi GROUP BY 1, 2"
        ).bindparams(*self._expanding("sites"))
        return {
            (sid, int(period)): int(total or 0)
            for sid, period, total in self.session.execute(sql, self._params())
        }

    def _closings(self) -> dict[tuple[str, int], dict[str, int]]:
        """(site, period) -> material -> closing on the period's last day (materials with a
        history only)."""
        seek = (
            "(SELECT sd.closing FROM stock_days sd WHERE sd.site_id = s.id"
            " AND sd.material_id = m.id AND sd.day <= :{day} ORDER BY sd.day DESC LIMIT 1)"
        )
        sql = text(
            f"SELECT s.id, m.id, {seek.format(day='d0')}, {seek.format(day='d1')}"
            " FROM sites s CROSS JOIN materials m WHERE s.id IN :sites"
        ).bindparams(bindparam("sites", expanding=True))
        params = {
            "sites": self.site_ids,
            "d0": self._day(self.current[1]),
            "d1": self._day(self.previous[1]),
        }
        out: dict[tuple[str, int], dict[str, int]] = {}
        for sid, material_id, *closings in self.session.execute(sql, params):
            for period, closing in enumerate(closings):
                if closing is not None:
                    out.setdefault((sid, period), {})[material_id] = int(closing)
        return out

    def _stock(self, sid: str, closings: dict[str, int], day: date) -> tuple[int, int, int, int]:
        """(tons, deemed tons, loads without a factor, LOW materials) of one site on ``day``."""
        tons = deemed = loose = low = 0
        for material_id, closing in closings.items():
            item = self.materials.get(material_id)
            if item is None:
                continue
            if closing < to_milli(item.low_threshold):
                low += 1
            if item.uom == Uom.TON:
                tons += closing
                continue
            factor = self.factors[sid].factor_m(material_id, day)
            if factor is None:
                loose += closing
            else:
                converted = deemed_milli(closing, factor)
                tons += converted
                deemed += converted
        return tons, deemed, loose, low

    def _entered_days(self) -> dict[tuple[str, int], int]:
        """(site, period) -> days up to the site's today with at least one record.

        A day with a stock row has records; only the other days are looked up in the record
        tables (the dashboard's way): a year of thirty sites reads ~11,000 stock-day keys
        instead of every record's.
        """
        first = self.previous[0]
        last = min(self.current[1], max(self.today.values()))
        if last < first:
            return {}
        keys = text(
            "SELECT DISTINCT site_id, day FROM stock_days"
            " WHERE site_id IN :sites AND day >= :a AND day <= :b"
        ).bindparams(bindparam("sites", expanding=True))
        span = {"sites": self.site_ids, "a": self._day(first), "b": self._day(last)}
        seen = {(sid, _as_date(day)) for sid, day in self.session.execute(keys, span)}
        days = [first + timedelta(days=n) for n in range((last - first).days + 1)]
        candidates = {
            (sid, day)
            for sid in self.site_ids
            for day in days
            if day <= self.today[sid] and (sid, day) not in seen
        }
        if candidates:
            wanted = sorted({day for _sid, day in candidates})
            sql = text(
                " UNION ".join(
                    f"SELECT site_id, date FROM {table} WHERE site_id IN :sites AND date IN :days"
                    for table in ENTRY_TABLES
                )
            ).bindparams(bindparam("sites", expanding=True), bindparam("days", expanding=True))
            found = self.session.execute(
                sql, {"sites": self.site_ids, "days": [self._day(d) for d in wanted]}
            )
            seen |= {(sid, _as_date(day)) for sid, day in found} & candidates
        counts: dict[tuple[str, int], int] = {}
        for sid, day in seen:
            if day <= self.today[sid]:
                key = (sid, 0 if day >= self.current[0] else 1)
                counts[key] = counts.get(key, 0) + 1
        return counts

    # ----------------------------------------------------------------------- helpers
    @staticmethod
    def _expanding(*names: str) -> tuple[Any, ...]:
        return tuple(bindparam(name, expanding=True) for name in names)

    def _day(self, day: date) -> Any:
        # SQLite keeps dates as ISO text: comparing text with text keeps its indexes usable.
        return day.isoformat() if self.sqlite else day


def _flow_union(columns: str, tail: str) -> str:
    """Both periods' flow rows as one UNION ALL: the tons and the load groups read them alike."""
    branches = []
    for table, split in FLOW_TABLES:
        fate = f"r.{split}" if split else "''"
        branches.append(
            f"SELECT '{table}', r.site_id, {fate}, CASE WHEN r.date >= :cur THEN 0 ELSE 1 END,"
            f" {columns} FROM {table} r WHERE r.site_id IN :sites"
            f" AND r.date >= :lo AND r.date <= :hi {tail}"
        )
    return " UNION ALL ".join(branches)


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
