"""All services over one store, built in one place (the composition root and CLI use this)."""

from __future__ import annotations

from dataclasses import dataclass

from deskops_desktop.services.dashboard import DashboardService
from deskops_desktop.services.ledger import LedgerService
from deskops_desktop.services.master import MasterDataService
from deskops_desktop.services.records import RecordService
from deskops_desktop.services.store import Store
from deskops_desktop.services.users import UserService


@dataclass(frozen=True)
class Services:
    store: Store
    records: RecordService
    ledger: LedgerService
    users: UserService
    master: MasterDataService
    dashboard: DashboardService


def build_services(store: Store) -> Services:
    """Every service over ``store``; they all read "now" from ``store.clock``."""
    return Services(
        store=store,
        records=RecordService(store),
        ledger=LedgerService(store),
        users=UserService(store),
        master=MasterDataService(store),
        dashboard=DashboardService(store),
    )
