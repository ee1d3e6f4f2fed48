"""Dashboard figures: KPI cards, the six chart series and the "needs attention" list.

Invariants a newcomer must not break:

- The package: ``values`` (the frozen figures), ``maths`` (pure arithmetic), ``stock_window``
  (the stock rows one read shares), ``queries`` (the computations over a session),
  ``attention`` (the "needs attention" list) and here the service, the one entry point.
- Every public call is one read unit (one session) and returns frozen dataclasses of plain values
  (``Decimal``, ``date``, ``str``, tuples) — no ORM objects, no Qt. ``snapshot`` computes
  everything the page shows in one session, so the figures on the page are mutually consistent.
- Units are never added together. Raw C&D feed is counted in loads, products in tons; every
  quantity figure carries its ``uom`` and a card whose materials span units has one figure per
  unit (TON first, then LOAD).
- Stock and flows come from the maintained ``stock_days`` rows (see ``models.stock``), never from a
  recomputation over the raw records: the ledger writer keeps each row equal to that day's
  GROUP BY sums of the records, so reading ≤ 17 rows per day instead of every record keeps a
  refresh proportional to days x materials however big the store is. Equipment and manpower have
  no maintained rows; they are aggregated in SQL (GROUP BY) on the indexed ``(site_id, date)``.
- Quantities are exact ``Decimal`` values with the unit's stored precision (3 dp); hours 2 dp.
  Percentages (KPI change, utilisation shares) are ``Decimal`` rounded half-up to 1 dp: they are
  display values, and a ``Decimal`` keeps "+12.5 %" from printing as 12.499999.
- Cost: one ``snapshot`` is ~10 small queries. On the 1.1M-movement benchmark store (3 sites x
  3 years, plus 138k equipment/manpower logs) a 30-day snapshot takes ~4 ms on SQLite and ~7 ms
  on PostgreSQL, a 365-day one ~25-35 ms (2-core machine, warm cache).
- A "material with history" is one that has any stock row at the site on or before the end of the
  range. Only those appear in stock charts, top-N and LOW alerts: a product this site never
  makes sits at 0 (formally LOW) forever, and flagging it every morning would bury real alerts.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date

from deskops_desktop.models.enums import Uom
from deskops_desktop.services.access import Actor, require_site
from deskops_desktop.services.dashboard.attention import attention_items
from deskops_desktop.services.dashboard.maths import percent_change, share, target_on
from deskops_desktop.services.dashboard.queries import SnapshotQuery, kpi_window_start
from deskops_desktop.services.dashboard.values import (
    DEFAULT_TOP_N,
    AttentionItem,
    AttentionKind,
    AttentionTarget,
    DashboardSnapshot,
    EquipmentUtilisation,
    Kpi,
    ManpowerByRoleShift,
    MaterialLevel,
    UnitFigure,
)
from deskops_desktop.services.ledger import check_range
from deskops_desktop.services.store import StoreService

# The names a page or test needs besides the service; every other figure type is imported from
# ``values`` itself, where it is defined.
__all__ = [
    "DEFAULT_TOP_N",
    "AttentionItem",
    "AttentionKind",
    "AttentionTarget",
    "DashboardService",
    "DashboardSnapshot",
    "Kpi",
    "UnitFigure",
    "percent_change",
    "share",
    "target_on",
]


class DashboardService(StoreService):
    """Read-only figures for the dashboard page; Qt-free, safe to call from a worker thread."""

    # ----- everything at once
    def snapshot(
        self,
        actor: Actor,
        site_id: str,
        date_from: date,
        date_to: date,
        *,
        top_n: int = DEFAULT_TOP_N,
    ) -> DashboardSnapshot:
        """All cards, charts and alerts of one site and period, from one consistent read."""
        with self._query(actor, site_id, date_from, date_to) as q:
            stock = q.stock(kpi_window_start(date_from, date_to))
            return DashboardSnapshot(
                site=q.site,
                date_from=date_from,
                date_to=date_to,
                today=q.today,
                kpis=q.kpis(stock),
                received_dispatched=q.received_dispatched(stock),
                production=q.production_vs_target(stock),
                inventory=q.inventory_over_time(stock),
                top_levels=q.top_levels(stock, date_to, top_n, Uom.TON.value),
                utilisation=q.utilisation(),
                manpower=q.manpower(),
                attention=attention_items(q, stock),
                has_records=q.has_records(),
            )

    # ----- the smaller calls (each one read unit): the movement chart and module pages
    def top_levels(
        self,
        actor: Actor,
        site_id: str,
        as_of: date,
        n: int = DEFAULT_TOP_N,
        uom: str | None = Uom.TON.value,
    ) -> tuple[MaterialLevel, ...]:
        """The ``n`` highest latest closings as of ``as_of``, highest first.

        Defaults to TON materials because the bars share one axis; ``uom=None`` ranks every unit
        (only the level colours are then comparable).
        """
        with self._query(actor, site_id, as_of, as_of) as q:
            return q.top_levels(q.stock(as_of), as_of, n, uom)

    def utilisation(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> tuple[EquipmentUtilisation, ...]:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.utilisation()

    def manpower(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> ManpowerByRoleShift:
        with self._query(actor, site_id, date_from, date_to) as q:
            return q.manpower()

    @contextmanager
    def _query(
        self, actor: Actor, site_id: str, date_from: date, date_to: date
    ) -> Iterator[SnapshotQuery]:
        """One read unit over a site and period, access and range checked: every call's start."""
        require_site(actor, site_id)
        check_range(date_from, date_to)
        with self._store.read() as session:
            yield SnapshotQuery(session, site_id, date_from, date_to, self._now())
