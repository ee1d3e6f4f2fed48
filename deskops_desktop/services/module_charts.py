"""Series for the chart on each module page (plain lists; the view only draws them).

Aggregated in SQL on the (site_id, date) index so a page's chart costs one small query however
many records the range holds. Values are Decimals; the chart converts to float only to draw.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select

from deskops_desktop.models.display import unit_symbol
from deskops_desktop.models.enums import Module, Uom
from deskops_desktop.models.records import Dispatch, Feed, Production, Received
from deskops_desktop.models.reference import Material
from deskops_desktop.services.access import Actor, require_site
from deskops_desktop.services.dashboard import DashboardService
from deskops_desktop.services.store import Store, StoreService


@dataclass(frozen=True)
class Series:
    """One named series; ``None`` marks a day without a value (e.g. before the first target)."""

    name: str
    unit: str
    values: tuple[Decimal | None, ...]


@dataclass(frozen=True)
class DailySeries:
    """One value per day of ``days`` for each series (missing days are 0)."""

    days: tuple[date, ...]
    series: tuple[Series, ...]


@dataclass(frozen=True)
class CategorySeries:
    """One value per category label (an equipment unit, a role) for each series."""

    labels: tuple[str, ...]
    series: tuple[Series, ...]


def _days(date_from: date, date_to: date) -> tuple[date, ...]:
    return tuple(date_from + timedelta(days=i) for i in range((date_to - date_from).days + 1))


def _daily(
    days: tuple[date, ...], named: dict[tuple[str, str], dict[date, Decimal]]
) -> DailySeries:
    series = tuple(
        Series(name, unit, tuple(values.get(d, Decimal(0)) for d in days))
        for (name, unit), values in named.items()
    )
    return DailySeries(days, series)


class ModuleChartService(StoreService):
    """The series behind each module page's chart (per day, or per unit / role for equipment and
    manpower), computed with the dashboard's own definitions.
    """

    def __init__(self, store: Store) -> None:
        super().__init__(store)
        self._dashboard = DashboardService(store)

    def for_module(
        self, actor: Actor, module: Module, site_id: str, date_from: date, date_to: date
    ) -> DailySeries | CategorySeries:
        """The chart of ``module``'s page: per day for the stock modules, per unit or role for
        equipment and manpower."""
        charts: dict[Module, Callable[[Actor, str, date, date], DailySeries | CategorySeries]] = {
            Module.PRODUCTION: self.production,
            Module.DISPATCH: self.dispatch,
            Module.RECEIVED: self.received,
            Module.FEED: self.feed,
            Module.EQUIPMENT: self.equipment,
            Module.MANPOWER: self.manpower,
        }
        return charts[module](actor, site_id, date_from, date_to)

    def production(self, actor: Actor, site_id: str, date_from: date, date_to: date) -> DailySeries:
        """Quantity produced per material per day (materials in display order)."""
        return self._per_material(actor, Production, site_id, date_from, date_to)

    def feed(self, actor: Actor, site_id: str, date_from: date, date_to: date) -> DailySeries:
        """Raw feed fed to the crushers per material per day (in loads, as entered)."""
        return self._per_material(actor, Feed, site_id, date_from, date_to)

    def _per_material(
        self, actor: Actor, table: Any, site_id: str, date_from: date, date_to: date
    ) -> DailySeries:
        require_site(actor, site_id)
        query = (
            select(Material.code, Material.uom, table.date, func.sum(table.quantity))
            .join(Material, Material.id == table.material_id)
            .where(table.site_id == site_id, table.date.between(date_from, date_to))
            .group_by(Material.code, Material.uom, Material.sort_order, table.date)
            .order_by(Material.sort_order)
        )
        named: dict[tuple[str, str], dict[date, Decimal]] = {}
        with self._store.read() as session:
            for code, uom, day, total in session.execute(query):
                named.setdefault((code, uom), {})[day] = total
        return _daily(_days(date_from, date_to), named)

    def dispatch(self, actor: Actor, site_id: str, date_from: date, date_to: date) -> DailySeries:
        """Dispatched quantity per unit of measure per day, and trips per day."""
        require_site(actor, site_id)
        query = (
            select(
                Material.uom, Dispatch.date, func.sum(Dispatch.quantity), func.sum(Dispatch.trips)
            )
            .join(Material, Material.id == Dispatch.material_id)
            .where(Dispatch.site_id == site_id, Dispatch.date.between(date_from, date_to))
            .group_by(Material.uom, Dispatch.date)
        )
        named: dict[tuple[str, str], dict[date, Decimal]] = {}
        trips: dict[date, Decimal] = defaultdict(Decimal)
        with self._store.read() as session:
            for uom, day, total, trip_count in session.execute(query):
                named.setdefault((f"Dispatched ({unit_symbol(uom)})", uom), {})[day] = total
                trips[day] += Decimal(trip_count or 0)
        named[("Trips", "trips")] = trips
        return _daily(_days(date_from, date_to), named)

    def received(self, actor: Actor, site_id: str, date_from: date, date_to: date) -> DailySeries:
        """Received quantity per source per day (raw C&D feed is counted in loads)."""
        require_site(actor, site_id)
        query = (
            select(Received.source, Material.uom, Received.date, func.sum(Received.quantity))
            .join(Material, Material.id == Received.material_id)
            .where(Received.site_id == site_id, Received.date.between(date_from, date_to))
            .group_by(Received.source, Material.uom, Received.date)
            .order_by(Received.source)
        )
        named: dict[tuple[str, str], dict[date, Decimal]] = {}
        with self._store.read() as session:
            for source, uom, day, total in session.execute(query):
                name = source or "(no source)"
                if uom != Uom.LOAD:
                    name = f"{name} ({unit_symbol(uom)})"
                named.setdefault((name, uom), {})[day] = total
        return _daily(_days(date_from, date_to), named)

    def equipment(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> CategorySeries:
        """Operating vs idle hours per unit, exactly as the dashboard defines them."""
        units = [
            u for u in self._dashboard.utilisation(actor, site_id, date_from, date_to) if u.logs
        ]
        return CategorySeries(
            tuple(u.code for u in units),
            (
                Series("Operating", "h", tuple(u.operating_hours for u in units)),
                Series("Idle", "h", tuple(u.idle_hours for u in units)),
            ),
        )

    def manpower(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> CategorySeries:
        """Headcount (man-shifts over the range) by role, one stacked series per shift."""
        data = self._dashboard.manpower(actor, site_id, date_from, date_to)
        return CategorySeries(
            data.roles,
            tuple(
                Series(s.label, "people", tuple(Decimal(h) for h in s.headcount))
                for s in data.shifts
            ),
        )
