"""Change-sets: what a write touched, so caches and pages refresh only what they show.

This is the desktop's equivalent of React Query invalidation (and of Anki's ``OpChanges``): every
write in every service returns one shape, ``Changed[T]`` — the value it made and the
``ChangeSet`` of what it touched. The data gateway (``services.gateway``) drops the cache entries
the change touches and announces it; the Qt side re-emits it as one app-level signal, and each
page reloads only when an area it shows was touched.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import SPECS


class Area(StrEnum):
    """What a page can show; a ``ChangeSet`` lists the areas a write touched.

    A record module's area *is* the module (same value, so ``Area.of`` is a lookup and a module
    can never be renamed away from its area); the other areas are what is not a record module.
    """

    PRODUCTION = Module.PRODUCTION.value
    DISPATCH = Module.DISPATCH.value
    RECEIVED = Module.RECEIVED.value
    EQUIPMENT = Module.EQUIPMENT.value
    MANPOWER = Module.MANPOWER.value
    ADJUSTMENTS = Module.ADJUSTMENTS.value
    FEED = Module.FEED.value
    LEDGER = "ledger"
    DASHBOARD = "dashboard"
    MASTER = "master"
    USERS = "users"
    EXPORTS = "exports"
    PACKS = "packs"  # report pack definitions, schedules and run results

    @staticmethod
    def of(module: Module) -> Area:
        """The area a module's data lives in (the stock ledger, for ``INVENTORY`` and the mass
        balance, which is built from the ledger's flows)."""
        if module in (Module.INVENTORY, Module.MASS_BALANCE):
            return Area.LEDGER
        return Area(module.value)


@dataclass(frozen=True)
class ChangeSet:
    """Which areas a write touched, and at which sites (``site_ids`` empty: every site).

    ``Area.MASTER`` means reference data changed: every page reloads, whatever it shows.
    """

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


T_co = TypeVar("T_co", covariant=True)


@dataclass(frozen=True, slots=True)
class Changed(Generic[T_co]):
    """What every service write returns: the value it made (a record, a site, a count, or
    ``None`` when there is nothing to hand back) and the ``ChangeSet`` of what it touched."""

    value: T_co
    changes: ChangeSet
