"""Read-only views of master data as plain values (sites, the reference index, site dates)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from deskops_desktop.models.errors import NotFound
from deskops_desktop.models.modules import ReferenceIndex, RefItem
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
    return SiteInfo(
        id=site.id,
        code=site.code,
        name=site.name,
        location=site.location,
        timezone=site.timezone,
        active=site.active,
    )


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
    materials = tuple(
        RefItem(
            id=m.id,
            code=m.code,
            name=m.name,
            active=m.active,
            category=m.category,
            uom=m.uom,
            sort_order=m.sort_order,
            low_threshold=m.low_threshold,
            high_threshold=m.high_threshold,
        )
        for m in session.scalars(select(Material).order_by(Material.sort_order, Material.code))
    )
    equipment = tuple(
        RefItem(
            id=e.id,
            code=e.code,
            name=e.name,
            active=e.active,
            category=e.type,
            uom="",
            sort_order=e.sort_order,
        )
        for e in session.scalars(select(Equipment).order_by(Equipment.sort_order, Equipment.code))
    )
    roles = tuple(
        RefItem(
            id=r.id,
            code=r.code,
            name=r.name,
            active=r.active,
            category="",
            uom="",
            sort_order=r.sort_order,
        )
        for r in session.scalars(
            select(ManpowerRole).order_by(ManpowerRole.sort_order, ManpowerRole.code)
        )
    )
    return ReferenceIndex(materials, equipment, roles)
