"""What the header selects for every page: the site and the date range (a plain value)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from deskops_desktop.services.reference import SiteInfo


@dataclass(frozen=True)
class PageContext:
    """What the header selects for every page: the site and the date range."""

    site: SiteInfo
    date_from: date
    date_to: date
