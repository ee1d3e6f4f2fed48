"""The dashboard's computations over one open session (``SnapshotQuery``).

Equipment and manpower have no maintained rows; they are aggregated in SQL (GROUP BY) on the
indexed ``(site_id, date)``. Each method reads only what it needs.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskops_desktop.models.copying import from_attributes
from deskops_desktop.models.display import summary_milli
from deskops_desktop.models.enums import SHIFT_HOURS, Uom
from deskops_desktop.models.reference import ProductionTarget
from deskops_desktop.models.types import from_centi
from deskops_desktop.services.dashboard.maths import (
    average,
    days_between,
    decimals,
    material_level,
    percent_change,
    share,
    sql_text,
    target_on,
    unit_figure,
)
from deskops_desktop.services.dashboard.stock_window import (
    FLOWS,
    PREVIOUS_FLOWS,
    RECORD_TABLES,
    StockWindow,
)
from deskops_desktop.services.dashboard.values import (
    HUNDRED,
    SHIFT_ORDER,
    SPARKLINE_DAYS,
    UNITS,
    EquipmentUtilisation,
    FlowSeries,
    InventoryOverTime,
    Kpi,
    KpiSet,
    ManpowerByRoleShift,
    ManpowerShiftSeries,
    MaterialLevel,
    MaterialSeries,
    MaterialTargetSeries,
    ProductionVsTarget,
    ReceivedDispatched,
    UnitFigure,
)
from deskops_desktop.services.mass_balance import (
    DailyTons,
    MassBalance,
    build_mass_balance,
    daily_tons,
)
from deskops_desktop.services.reference import load_reference_index, load_site


def _received_kpi(now: MassBalance, before: MassBalance, daily: DailyTons) -> Kpi:
    """Received in tons, deemed tons included (and said so), loads without a factor named."""
    figure = unit_figure(Uom.TON, now.received.tons_m, before.received.tons_m, daily.received)
    notes = [f"incl. {summary_milli(now.received.deemed_m, Uom.TON)} t deemed"]
    if now.received.no_factor_records:
        loads = summary_milli(now.received.no_factor_m, Uom.LOAD)
        notes.append(f"{loads} loads without a factor")
    return Kpi("received", "Received", (figure,), " · ".join(notes))


def _sold_kpi(now: MassBalance, before: MassBalance, daily: DailyTons) -> Kpi:
    """Sold: dispatches with fate SALE, in tons; disposal is shown apart, never added."""
    figure = unit_figure(Uom.TON, now.sold_m, before.sold_m, daily.sold)
    note = f"disposal {summary_milli(now.disposal_m, Uom.TON)} t, not included"
    return Kpi("sold", "Sold", (figure,), note)


def _plant_kpis(now: MassBalance, before: MassBalance, daily: DailyTons) -> tuple[Kpi, ...]:
    """Yield, tons per crusher hour and per man-hour, each against the previous period."""

    def ratio(
        key: str,
        title: str,
        unit: str,
        current: Decimal | None,
        previous: Decimal | None,
        line: list[Decimal],
    ) -> Kpi:
        if current is None:
            return Kpi(key, title, (), "nothing to divide by in this period")
        change = None if previous is None else percent_change(current, previous)
        figure = UnitFigure(unit, current, previous or Decimal(0), change, tuple(line))
        return Kpi(key, title, (figure,))

    def per_day(
        numerators: tuple[int, ...], denominators: tuple[int, ...], scale: int, places: Decimal
    ) -> list[Decimal]:
        return [
            (Decimal(n) / Decimal(scale * d)).quantize(places, ROUND_HALF_UP) if d else Decimal(0)
            for n, d in zip(numerators, denominators, strict=True)
        ]

    return (
        ratio(
            "yield",
            "Yield",
            "t/t",
            now.yield_ratio,
            before.yield_ratio,
            per_day(daily.produced, daily.fed, 1, Decimal("0.001")),
        ),
        ratio(
            "tons_per_crusher_hour",
            "Per crusher hour",
            "t/h",
            now.tons_per_crusher_hour,
            before.tons_per_crusher_hour,
            per_day(daily.produced, daily.crusher_hours_c, 10, Decimal("0.01")),
        ),
        ratio(
            "tons_per_man_hour",
            "Per man-hour",
            "t/man-h",
            now.tons_per_man_hour,
            before.tons_per_man_hour,
            per_day(daily.produced, daily.man_hours_c, 10, Decimal("0.01")),
        ),
    )


def kpi_window_start(date_from: date, date_to: date) -> date:
    """The stock window the cards need: the period plus the sparkline's 7 days. The previous
    period is summed in SQL instead (``PREVIOUS_FLOWS``), which halves the rows read."""
    return min(date_from, date_to - timedelta(days=SPARKLINE_DAYS - 1))


class SnapshotQuery:
    """The computations, over one open session. Each method reads only what it needs."""

    def __init__(
        self, session: Session, site_id: str, date_from: date, date_to: date, now: datetime
    ):
        self.session = session
        self.site_id = site_id
        self.date_from = date_from
        self.date_to = date_to
        self.site = load_site(session, site_id)
        self.today = self.site.today(now)
        self.refs = load_reference_index(session)
        self.days = days_between(date_from, date_to)

    def has_records(self) -> bool:
        """Whether anything was ever recorded at the site (one index seek per record table)."""
        branches = " UNION ALL ".join(
            f"SELECT 1 FROM (SELECT 1 FROM {table} WHERE site_id = :s LIMIT 1) AS t{n}"
            for n, table in enumerate(RECORD_TABLES)
        )
        found = self.session.execute(sql_text(f"{branches} LIMIT 1"), {"s": self.site_id})
        return found.first() is not None

    def stock(self, start: date) -> StockWindow:
        return StockWindow(
            self.session, self.site_id, self.refs, min(start, self.date_from), self.date_to
        )

    # ----- KPI cards
    def kpis(self, stock: StockWindow) -> KpiSet:
        length = len(self.days)
        prev_to = self.date_from - timedelta(days=1)
        prev_from = self.date_from - timedelta(days=length)
        spark = days_between(self.date_to - timedelta(days=SPARKLINE_DAYS - 1), self.date_to)

        before: dict[str, tuple[int, int, int]] = {
            uom: (int(p or 0), int(r or 0), int(d or 0))
            for uom, p, r, d in self.session.execute(
                PREVIOUS_FLOWS,
                {
                    "s": self.site_id,
                    "m": [m.id for m in self.refs.materials],
                    "a": prev_from,
                    "b": prev_to,
                },
            ).all()
        }

        def flow_kpi(key: str, title: str, flow: str) -> Kpi:
            figures = []
            for uom in UNITS:
                current = stock.flow_total(uom, flow, self.date_from, self.date_to)
                previous = before.get(uom, (0, 0, 0))[FLOWS.index(flow)]
                line = stock.flow_days(uom, flow, spark[0], spark[-1])
                if uom != Uom.TON and not (current or previous or any(line)):
                    continue
                figures.append(unit_figure(uom, current, previous, line))
            return Kpi(key, title, tuple(figures))

        inventory = []
        for uom in UNITS:
            if uom != Uom.TON and not stock.materials_of(uom):
                continue
            inventory.append(
                unit_figure(
                    uom,
                    stock.unit_closing(uom, self.date_to),
                    stock.unit_closing(uom, prev_to),
                    [stock.unit_closing(uom, d) for d in spark],
                )
            )
        now = build_mass_balance(self.session, self.site, self.date_from, self.date_to)
        before_mb = build_mass_balance(self.session, self.site, prev_from, prev_to)
        daily = daily_tons(self.session, self.site_id, spark[0], spark[-1])
        return KpiSet(
            date_from=self.date_from,
            date_to=self.date_to,
            previous_from=prev_from,
            previous_to=prev_to,
            sparkline_days=spark,
            production=flow_kpi("production", "Production", "produced"),
            received=_received_kpi(now, before_mb, daily),
            sold=_sold_kpi(now, before_mb, daily),
            inventory=Kpi("inventory", "Current inventory", tuple(inventory)),
            plant=_plant_kpis(now, before_mb, daily),
        )

    # ----- charts
    def received_dispatched(self, stock: StockWindow) -> ReceivedDispatched:
        """Tons in and out per day with deemed tons included (what the Received and Sold cards
        add up), and the raw loads apart."""
        units = []
        tons = daily_tons(self.session, self.site_id, self.date_from, self.date_to)
        for uom in UNITS:
            if uom == Uom.TON:
                received, dispatched = list(tons.received), list(tons.out)
            else:
                received = stock.flow_days(uom, "received", self.date_from, self.date_to)
                dispatched = stock.flow_days(uom, "dispatched", self.date_from, self.date_to)
            if uom != Uom.TON and not (any(received) or any(dispatched)):
                continue
            units.append(
                FlowSeries(
                    uom,
                    decimals(received),
                    decimals(dispatched),
                    decimals(r - d for r, d in zip(received, dispatched, strict=True)),
                )
            )
        return ReceivedDispatched(self.days, tuple(units))

    def production_vs_target(self, stock: StockWindow) -> ProductionVsTarget:
        rows = self.session.execute(
            select(
                ProductionTarget.material_id,
                ProductionTarget.from_date,
                ProductionTarget.daily_tons,
            )
            .where(
                ProductionTarget.site_id == self.site_id, ProductionTarget.from_date <= self.date_to
            )
            .order_by(ProductionTarget.from_date, ProductionTarget.created_at, ProductionTarget.id)
        )
        targets: dict[str | None, list[tuple[date, Decimal]]] = {}
        for material_id, from_date, tons in rows:
            targets.setdefault(material_id, []).append((from_date, tons))
        overall = targets.pop(None, [])
        total = stock.flow_days(Uom.TON.value, "produced", self.date_from, self.date_to)
        by_material = []
        for m in self.refs.materials:
            if m.id not in targets:
                continue
            if m.id in stock.produced:
                first, last = stock.offset(self.date_from), stock.offset(self.date_to)
                produced = decimals(stock.produced[m.id][first : last + 1])
            else:
                produced = decimals([0] * len(self.days))
            by_material.append(
                MaterialTargetSeries(
                    m.code, m.name, produced, tuple(target_on(targets[m.id], d) for d in self.days)
                )
            )
        return ProductionVsTarget(
            self.days,
            decimals(total),
            tuple(target_on(overall, d) for d in self.days),
            tuple(by_material),
        )

    def inventory_over_time(self, stock: StockWindow) -> InventoryOverTime:
        first, last = stock.offset(self.date_from), stock.offset(self.date_to)
        return InventoryOverTime(
            self.days,
            tuple(
                from_attributes(
                    MaterialSeries,
                    m,
                    low=m.low_threshold,
                    high=m.high_threshold,
                    closing=decimals(stock.closing[m.id][first : last + 1]),
                )
                for m in stock.materials
            ),
        )

    def top_levels(
        self, stock: StockWindow, as_of: date, n: int, uom: str | None
    ) -> tuple[MaterialLevel, ...]:
        levels = [
            material_level(m, stock.closing_on(m.id, as_of))
            for m in stock.materials
            if uom is None or m.uom == uom
        ]
        # Stable sort: equal closings keep the display order.
        levels.sort(key=lambda lv: lv.closing, reverse=True)
        return tuple(levels[: max(n, 0)])

    def utilisation(self) -> tuple[EquipmentUtilisation, ...]:
        shift_centi = SHIFT_HOURS * 100
        result = self.session.execute(
            sql_text(
                "SELECT equipment_id, SUM(hours * count),"
                f" SUM(CASE WHEN hours > {shift_centi} THEN hours ELSE {shift_centi} END * count),"
                " COUNT(*) FROM equipment_logs WHERE site_id = :s AND date >= :a AND date <= :b"
                " GROUP BY equipment_id",
                "a",
                "b",
            ),
            {"s": self.site_id, "a": self.date_from, "b": self.date_to},
        )
        sums = {e: (int(op or 0), int(av or 0), int(n)) for e, op, av, n in result}
        out = []
        for item in self.refs.equipment:
            if item.id not in sums:
                continue
            operating, available, logs = sums[item.id]
            idle = max(available - operating, 0)
            op_share = idle_share = None
            if available > 0:
                op_share = share(min(operating, available), available)
                idle_share = HUNDRED - op_share
            out.append(
                EquipmentUtilisation(
                    code=item.code,
                    name=item.name,
                    type=item.category,
                    operating_hours=from_centi(operating),
                    available_hours=from_centi(available),
                    idle_hours=from_centi(idle),
                    operating_share=op_share,
                    idle_share=idle_share,
                    logs=logs,
                )
            )
        return tuple(out)

    def manpower(self) -> ManpowerByRoleShift:
        params = {"s": self.site_id, "a": self.date_from, "b": self.date_to}
        where = "WHERE site_id = :s AND date >= :a AND date <= :b"
        cells: dict[tuple[str, str], tuple[int, int]] = {}
        for role_id, shift, heads, centi in self.session.execute(
            sql_text(
                f"SELECT role_id, shift, SUM(headcount), SUM(headcount * hours) FROM manpower_logs"
                f" {where} GROUP BY role_id, shift",
                "a",
                "b",
            ),
            params,
        ):
            cells[(role_id, shift or "")] = (int(heads or 0), int(centi or 0))
        days_logged = int(
            self.session.execute(
                sql_text(f"SELECT COUNT(DISTINCT date) FROM manpower_logs {where}", "a", "b"),
                params,
            ).scalar()
            or 0
        )
        roles = [r for r in self.refs.roles if any(k[0] == r.id for k in cells)]
        present = {k[1] for k in cells}
        layers = []
        for shift in SHIFT_ORDER:
            if shift not in present:
                continue
            heads = tuple(cells.get((r.id, shift), (0, 0))[0] for r in roles)
            layers.append(
                ManpowerShiftSeries(
                    shift,
                    heads,
                    tuple(average(h, days_logged) for h in heads),
                    tuple(from_centi(cells.get((r.id, shift), (0, 0))[1]) for r in roles),
                )
            )
        return ManpowerByRoleShift(
            tuple(r.code for r in roles), tuple(r.name for r in roles), tuple(layers), days_logged
        )
