"""The company overview: every site the actor may see, side by side, for a period and the one
before it — head office's landing page and its export.

Per site: stock in tons on the last day (deemed tons included) and how many materials are LOW,
production, sales, disposal, yield, diversion, tons per crusher hour, and days not yet entered.

Invariants a newcomer must not break:
- **The mass balance's figures.** Production, sales, disposal, received and fed are summed in tons
  exactly as ``services.mass_balance`` sums them (TON records as entered; LOAD records converted
  one by one with the factor valid on their date, rounded once), and yield, diversion and tons
  per crusher hour use its formulas (``yield_of``, ``diversion_of``, ``per_hour``): a site's line
  here equals its mass balance to the last digit (a test holds both to it).
- **Stock in tons** is, per material with history at the site, its book closing on the last day:
  TON materials as they are, LOAD materials times the factor valid that day (deemed). Closings no
  factor converts are not tons (``stock_no_factor_loads_m`` says how many loads were left out).
  LOW counts every material with history whose closing is under its low threshold, the
  dashboard's rule.
- **Days not yet entered** are the days of the period up to the site's today (its time zone,
  the store's clock) without a single record of any module.
- **Fast.** All sites and both periods at once: about ten statements whatever the number of
  sites (``queries``), never a query per site, material or record.

The package: ``values`` (the frozen figures), ``queries`` (the statements), and here the
service, the one entry point.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskops_desktop.models.reference import Site
from deskops_desktop.services.access import Actor
from deskops_desktop.services.ledger import check_range
from deskops_desktop.services.mass_balance import period_before
from deskops_desktop.services.overview.queries import ENTRY_TABLES, PeriodReader
from deskops_desktop.services.overview.values import CompanyOverview, SiteFigures, SiteOverview
from deskops_desktop.services.reference import SiteInfo, site_info
from deskops_desktop.services.store import StoreService

__all__ = [
    "ENTRY_TABLES",
    "CompanyOverview",
    "OverviewService",
    "SiteFigures",
    "SiteOverview",
]


class OverviewService(StoreService):
    """The company overview (see the module docstring). Read-only; one session per call."""

    def overview(
        self,
        actor: Actor,
        date_from: date,
        date_to: date,
        *,
        site_ids: Sequence[str] | None = None,
    ) -> CompanyOverview:
        """Every active site ``actor`` may see (or those of ``site_ids`` among them), for
        ``[date_from, date_to]`` against the equally long period just before it."""
        check_range(date_from, date_to)
        before_from, before_to = period_before(date_from, date_to)
        now = self._now()
        with self._store.read() as session:
            sites = _visible_sites(session, actor, site_ids)
            lines: tuple[SiteOverview, ...] = ()
            if sites:
                today = {s.id: s.today(now) for s in sites}
                current, previous = PeriodReader(
                    session, sites, today, (date_from, date_to), (before_from, before_to)
                ).figures()
                lines = tuple(SiteOverview(s, current[s.id], previous[s.id]) for s in sites)
        return CompanyOverview(
            date_from,
            date_to,
            before_from,
            before_to,
            lines,
            _sum(SiteFigures(date_from, date_to), (line.current for line in lines)),
            _sum(SiteFigures(before_from, before_to), (line.previous for line in lines)),
        )


def _sum(start: SiteFigures, figures: Iterable[SiteFigures]) -> SiteFigures:
    total = start
    for one in figures:
        total = total.plus(one)
    return total


def _visible_sites(session: Session, actor: Actor, wanted: Sequence[str] | None) -> list[SiteInfo]:
    rows = [site_info(s) for s in session.scalars(select(Site).order_by(Site.code))]
    chosen = set(wanted) if wanted is not None else None
    return [
        s
        for s in rows
        if actor.can_see_site(s.id) and (s.id in chosen if chosen is not None else s.active)
    ]
