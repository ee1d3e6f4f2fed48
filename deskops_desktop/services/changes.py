"""Change-sets: what a write touched, so caches and pages refresh only what they show.

This is the desktop's equivalent of React Query invalidation (and of Anki's ``OpChanges``): every
write returns a ``ChangeSet``; the data service drops matching cache entries and the Qt side
re-emits it as one app-level signal.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import SPECS


class Area(StrEnum):
    PRODUCTION = "production"
    DISPATCH = "dispatch"
    RECEIVED = "received"
    EQUIPMENT = "equipment"
    MANPOWER = "manpower"
    ADJUSTMENTS = "adjustments"
    LEDGER = "ledger"
    DASHBOARD = "dashboard"
    MASTER = "master"
    USERS = "users"
    EXPORTS = "exports"

    @staticmethod
    def of(module: Module) -> Area:
        """The area a module's data lives in (the stock ledger, for ``INVENTORY``)."""
        return Area.LEDGER if module is Module.INVENTORY else Area(module.value)


@dataclass(frozen=True)
class ChangeSet:
    areas: frozenset[Area] = field(default_factory=frozenset)
    site_ids: frozenset[str] = field(default_factory=frozenset)  # empty: every site

    def touches(self, area: Area, site_id: str | None = None) -> bool:
        if area not in self.areas:
            return False
        return site_id is None or not self.site_ids or site_id in self.site_ids

    def __or__(self, other: ChangeSet) -> ChangeSet:
        sites = (
            frozenset()
            if not self.site_ids or not other.site_ids
            else self.site_ids | other.site_ids
        )
        return ChangeSet(self.areas | other.areas, sites)

    @property
    def empty(self) -> bool:
        return not self.areas


def for_module(module: Module, site_id: str) -> ChangeSet:
    """What a write of ``module`` records at ``site_id`` touches."""
    areas = {Area.of(module), Area.DASHBOARD}
    if SPECS[module].flow is not None:
        areas.add(Area.LEDGER)
    return ChangeSet(frozenset(areas), frozenset({site_id}))


MASTER_CHANGED = ChangeSet(frozenset({Area.MASTER, Area.LEDGER, Area.DASHBOARD}))
USERS_CHANGED = ChangeSet(frozenset({Area.USERS}))
EXPORTS_CHANGED = ChangeSet(frozenset({Area.EXPORTS}))
