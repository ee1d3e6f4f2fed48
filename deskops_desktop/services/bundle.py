"""All services over one store, built in one place (the composition root and CLI use this)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from deskops_desktop.models.types import utcnow
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


def build_services(store: Store, now: Callable[[], datetime] = utcnow) -> Services:
    return Services(
        store=store,
        records=RecordService(store, now),
        ledger=LedgerService(store, now),
        users=UserService(store, now),
        master=MasterDataService(store),
        dashboard=DashboardService(store, now),
    )
