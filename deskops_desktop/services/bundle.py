"""All services over one store, built in one place (the composition root and CLI use this)."""

from __future__ import annotations

from dataclasses import dataclass

from deskops_desktop.services.dashboard import DashboardService
from deskops_desktop.services.factors import FactorService
from deskops_desktop.services.imports import ImportService
from deskops_desktop.services.ledger import LedgerService
from deskops_desktop.services.mass_balance import MassBalanceService
from deskops_desktop.services.master import MasterDataService
from deskops_desktop.services.module_charts import ModuleChartService
from deskops_desktop.services.overview import OverviewService
from deskops_desktop.services.packs import PackService
from deskops_desktop.services.reclassify import ReclassifyService
from deskops_desktop.services.records import RecordService
from deskops_desktop.services.store import Store
from deskops_desktop.services.users import UserService


@dataclass(frozen=True)
class Services:
    """Every service over one store. Pages reach them only through the ``DataGateway``."""

    store: Store
    records: RecordService
    ledger: LedgerService
    users: UserService
    master: MasterDataService
    dashboard: DashboardService
    charts: ModuleChartService
    imports: ImportService
    factors: FactorService
    mass_balance: MassBalanceService
    reclassify: ReclassifyService
    packs: PackService
    overview: OverviewService


def build_services(store: Store) -> Services:
    """Every service over ``store``; they all read "now" from ``store.clock``."""
    records = RecordService(store)
    return Services(
        store=store,
        records=records,
        ledger=LedgerService(store),
        users=UserService(store),
        master=MasterDataService(store),
        dashboard=DashboardService(store),
        charts=ModuleChartService(store),
        imports=ImportService(records),
        factors=FactorService(store),
        mass_balance=MassBalanceService(store),
        reclassify=ReclassifyService(store),
        packs=PackService(store),
        overview=OverviewService(store),
    )
