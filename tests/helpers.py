"""Small builders shared by tests (not fixtures, so tests can call them with arguments)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from deskops_desktop.models.enums import Module
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.records import RecordRow
from deskops_desktop.services.reference import SiteInfo


def default_site(services: Services) -> SiteInfo:
    return services.master.site_by_code(SYSTEM, "ALASLA-29")


def production(
    day: date | str, material: str = "AGG-G1", quantity: str = "10", **extra: Any
) -> dict[str, Any]:
    return {
        "date": str(day),
        "operation": "CRU-PRO",
        "material": material,
        "quantity": quantity,
        **extra,
    }


def add(
    services: Services, module: Module, site: SiteInfo, raw: dict[str, Any], actor: Actor = SYSTEM
) -> str:
    return services.records.create(actor, module, site.id, raw).value.id


def write_record(
    data: DataGateway, module: Module, site_id: str, raw: Mapping[str, object], **kwargs: Any
) -> RecordRow:
    """Create a record through the page's door (the gateway), as a page would."""
    return data.write(lambda s, a: s.records.create(a, module, site_id, raw, **kwargs)).value


def site_of(data: DataGateway, code: str = "ALASLA-29") -> SiteInfo:
    """A site as the gateway's user sees it."""
    return data.read(lambda s, a: s.master.site_by_code(a, code))
