"""The one door between pages and data: cached reads, announced writes, the offline path."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy.exc import OperationalError

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import StoreOfflineError, ValidationError
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.changes import MASTER_CHANGED, Area, Changed, ChangeSet
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.store import Store
from tests.helpers import default_site, production


@pytest.fixture
def services(store: Store) -> Services:
    return build_services(store)


@pytest.fixture
def gateway(services: Services) -> DataGateway:
    services.users.create(None, "admin", "admin-pass-1", Role.ADMIN)
    return DataGateway(services, services.users.authenticate("admin", "admin-pass-1"))


def count_today(gateway: DataGateway, module: Module) -> int:
    site = default_site_of(gateway)
    day = site.today(gateway.clock.now())
    return gateway.read(
        lambda s, a: s.records.count(a, module, site.id, day, day),
        area=Area.of(module),
        site_id=site.id,
        key=("count", day),
    )


def default_site_of(gateway: DataGateway):  # type: ignore[no-untyped-def]
    return gateway.read(lambda s, a: s.master.site_by_code(a, "ALASLA-29"))


def test_reads_are_cached_until_a_write_touches_their_area(gateway: DataGateway) -> None:
    heard: list[ChangeSet] = []
    gateway.subscribe(heard.append)
    site = default_site_of(gateway)
    day = site.today(gateway.clock.now())
    assert count_today(gateway, Module.PRODUCTION) == 0
    assert count_today(gateway, Module.PRODUCTION) == 0
    assert (gateway.hits, gateway.misses) == (1, 1)
    count_today(gateway, Module.DISPATCH)
    saved = gateway.write(
        lambda s, a: s.records.create(a, Module.PRODUCTION, site.id, production(day, quantity="2"))
    )
    assert isinstance(saved, Changed)
    assert saved.value.values["quantity"] == Decimal("2.000")
    assert heard == [saved.changes]  # announced once, to every listener
    assert saved.changes.touches(Area.PRODUCTION, site.id)
    assert not saved.changes.touches(Area.DISPATCH, site.id)
    hits = gateway.hits
    count_today(gateway, Module.DISPATCH)  # untouched area: still cached
    assert gateway.hits == hits + 1
    assert count_today(gateway, Module.PRODUCTION) == 1  # touched: read again


def test_master_changes_drop_every_cached_read(gateway: DataGateway) -> None:
    count_today(gateway, Module.DISPATCH)
    misses = gateway.misses
    gateway.announce(MASTER_CHANGED)
    count_today(gateway, Module.DISPATCH)
    assert gateway.misses == misses + 1


def test_fresh_reads_skip_the_cache_and_refill_it(gateway: DataGateway, services: Services) -> None:
    site = default_site(services)
    day = site.today(gateway.clock.now())

    def read(fresh: bool) -> int:
        return gateway.read(
            lambda s, a: s.records.count(a, Module.PRODUCTION, site.id, day, day),
            area=Area.PRODUCTION,
            site_id=site.id,
            key="n",
            fresh=fresh,
        )

    assert read(False) == 0
    # Another clerk writes on a shared server: nothing is announced to this gateway.
    services.records.create(gateway.actor, Module.PRODUCTION, site.id, production(day))
    assert read(False) == 0  # the cache still holds the old answer
    assert read(True) == 1  # a timer's refresh reads the store again...
    assert read(False) == 1  # ...and keeps what it read


def test_a_refused_write_announces_nothing(gateway: DataGateway) -> None:
    heard: list[ChangeSet] = []
    gateway.subscribe(heard.append)
    site = default_site_of(gateway)
    with pytest.raises(ValidationError):
        gateway.write(
            lambda s, a: s.records.create(a, Module.PRODUCTION, site.id, {"quantity": "x"})
        )
    assert heard == []


def test_a_lost_server_is_offline_and_a_reached_one_online(gateway: DataGateway) -> None:
    states: list[bool] = []
    gateway.subscribe_connection(states.append)

    def lost(_s: Services, _a: Actor) -> int:
        # What SQLAlchemy raises when the pool finds the server gone (the driver error inside
        # varies; the invalidated connection is the signal ``is_offline_error`` trusts first).
        raise OperationalError(
            "SELECT 1",
            {},
            ConnectionError("server closed the connection"),
            connection_invalidated=True,
        )

    with pytest.raises(StoreOfflineError, match="cannot be reached"):
        gateway.read(lost)
    assert gateway.online is False
    assert gateway.read(lambda s, _a: s.users.count()) == 1
    assert states == [False, True]
