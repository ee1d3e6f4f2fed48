"""Laptops for sync tests: SQLite replicas joined to a test head office, driven in-process.

(The subprocess laptops that tests SIGKILL live in ``tests/sync/laptop_main.py``.)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import select, text

from deskops_desktop.models.base import Base
from deskops_desktop.models.clock import FixedClock
from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.sync_codec import encode_row
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.store import Store, open_store
from deskops_desktop.sync import Credentials, SyncReport, join, run_sync, sync_status
from deskops_desktop.sync.link import LinkOptions
from tests.sync.hq import CLERK_PASSWORD, HQ

FAST_LINK = LinkOptions(connect_timeout=3, io_timeout=10.0)


@dataclass
class Laptop:
    name: str
    store: Store
    services: Services
    hq: HQ
    username: str

    @property
    def clock(self) -> FixedClock:
        clock = self.store.clock
        assert isinstance(clock, FixedClock)
        return clock

    def actor(self, username: str | None = None) -> Actor:
        return self.services.users.authenticate(username or self.username, CLERK_PASSWORD)

    def sync(self, *users: str, options: LinkOptions = FAST_LINK) -> SyncReport:
        names = users or (self.username,)
        credentials = Credentials({u: CLERK_PASSWORD for u in names}, names[0], False)
        return run_sync(self.store, credentials, options=options)

    def status(self) -> Any:
        return sync_status(self.store)

    def close(self) -> None:
        self.store.dispose()


def make_laptop(
    hq: HQ,
    folder: Path,
    name: str = "laptop",
    username: str = "op1",
    sites: tuple[str, ...] = ("SITE-A",),
    *,
    url: Any = None,
    options: LinkOptions = FAST_LINK,
) -> Laptop:
    """A new store joined to ``hq`` as ``username``; its clock is the server's now."""
    clock = FixedClock(hq.server_now())
    store = open_store(f"sqlite:///{folder / f'{name}.sqlite3'}", clock=clock)
    report = join(
        store, url or hq.clerk_url, username, CLERK_PASSWORD, list(sites), options=options
    )
    assert report.ok, report.error
    return Laptop(name, store, build_services(store), hq, username)


def records_of(store: Store, site_id: str) -> dict[str, dict[str, dict[str, object]]]:
    """Every record of a site per table, encoded (content compared exactly)."""
    out: dict[str, dict[str, dict[str, object]]] = {}
    with store.read() as session:
        for spec in SPECS.values():
            table = Base.metadata.tables[spec.table.__tablename__]
            rows = session.execute(select(table).where(table.c.site_id == site_id)).mappings()
            out[table.name] = {str(r["id"]): encode_row(table, dict(r)) for r in rows}
    return out


def ledger_of(store: Store, site_id: str) -> dict[tuple[str, str], tuple[int, ...]]:
    with store.read() as session:
        rows = session.execute(
            text(
                "SELECT material_id, day, produced, received, dispatched, adjustment, closing "
                "FROM stock_days WHERE site_id = :s"
            ),
            {"s": site_id},
        )
        return {(str(m), str(d)): (p, r, x, a, c) for m, d, p, r, x, a, c in rows}


def production(
    day: object, material: str = "AGG-G1", quantity: str = "10", **extra: Any
) -> dict[str, Any]:
    return {
        "date": str(day),
        "operation": "CRU-PRO",
        "material": material,
        "quantity": quantity,
        **extra,
    }


MODULE = Module

ROOT = Path(__file__).resolve().parent.parent.parent
