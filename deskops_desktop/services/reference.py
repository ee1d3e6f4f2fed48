"""Read-only views of master data as plain values (sites, the reference index, site dates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskops_desktop.models.copying import from_attributes
from deskops_desktop.models.errors import NotFound
from deskops_desktop.models.modules import DEFAULT_HIGH, DEFAULT_LOW, ReferenceIndex, RefItem
from deskops_desktop.models.reference import Equipment, ManpowerRole, Material, Site


@dataclass(frozen=True)
class SiteInfo:
    """A site as every layer passes it around (a value; ``today(now)`` is the site's date)."""

    id: str
    code: str
    name: str
    location: str
    timezone: str
    active: bool

    @property
    def label(self) -> str:
        return f"{self.code} – {self.name}"

    def today(self, now: datetime) -> date:
        """The calendar date at the site at ``now`` (validation's "not in the future").

        ``now`` comes from the app's clock (``store.clock.now()``); there is no default, so
        nothing can quietly read the wall clock.
        """
        return now.astimezone(ZoneInfo(self.timezone)).date()


def site_info(site: Site) -> SiteInfo:
    """The site row as a value: ``SiteInfo``'s fields are ``sites`` columns of the same name."""
    return from_attributes(SiteInfo, site)


def load_site(session: Session, site_id: str) -> SiteInfo:
    site = session.get(Site, site_id)
    if site is None:
        raise NotFound(f"no site with id {site_id}")
    return site_info(site)


def find_site(session: Session, code: str) -> SiteInfo:
    site = session.scalar(select(Site).where(Site.code == code.strip().upper()))
    if site is None:
        site = session.scalar(select(Site).where(Site.code == code.strip()))
    if site is None:
        raise NotFound(f"unknown site '{code}'")
    return site_info(site)


def load_reference_index(session: Session) -> ReferenceIndex:
    """Materials, equipment and roles in display order (admins' sort order, then code)."""
    materials = tuple(
        _item(m, category=m.category, uom=m.uom, low=m.low_threshold, high=m.high_threshold)
        for m in _ordered(session, Material)
    )
    equipment = tuple(_item(e, category=e.type) for e in _ordered(session, Equipment))
    roles = tuple(_item(r) for r in _ordered(session, ManpowerRole))
    return ReferenceIndex(materials, equipment, roles)


def _ordered(session: Session, model: Any) -> Any:
    return session.scalars(select(model).order_by(model.sort_order, model.code))


def _item(
    row: Any,
    *,
    category: str = "",
    uom: str = "",
    low: Decimal = DEFAULT_LOW,
    high: Decimal = DEFAULT_HIGH,
) -> RefItem:
    """A master-data row as a ``RefItem`` (``category`` holds the equipment type for equipment)."""
    return from_attributes(
        RefItem, row, category=category, uom=uom, low_threshold=low, high_threshold=high
    )
