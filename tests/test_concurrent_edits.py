"""No lost updates: two clerks, two app sessions (two ``Store`` objects), one record.

Each session is what one laptop holds: its own engine and connections to the same database.
The second clerk's save of a copy the first clerk has since changed is refused with who and when,
nothing of the first clerk's change is lost, and the ledger still matches the records.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal

import pytest

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import StaleRecordError
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.store import Store
from tests.conftest import FIXED_NOW
from tests.helpers import default_site, production


@pytest.fixture
def two_sessions(store: Store) -> Iterator[tuple[Services, Actor, Services, Actor]]:
    first = build_services(store)
    second_store = Store(store.url, clock=store.clock)
    second = build_services(second_store)
    first.users.create(None, "boss", "boss-pass-123", Role.ADMIN)
    boss = first.users.authenticate("boss", "boss-pass-123")
    first.users.create(
        boss, "sara", "sara-pass-123", Role.MODERATOR, ["ALASLA-29"], display_name="Sara"
    )
    sara = second.users.authenticate("sara", "sara-pass-123")
    yield first, boss, second, sara
    second_store.dispose()


def test_a_stale_save_is_refused_naming_who_changed_it(
    two_sessions: tuple[Services, Actor, Services, Actor],
) -> None:
    first, boss, second, sara = two_sessions
    site = default_site(first)
    day = site.today(FIXED_NOW) - timedelta(days=1)
    created = first.records.create(boss, Module.PRODUCTION, site.id, production(day, quantity="10"))
    # Both clerks open the record (version 1).
    mine = first.records.get(boss, Module.PRODUCTION, created.value.id)
    theirs = second.records.get(sara, Module.PRODUCTION, created.value.id)
    assert mine.version == theirs.version == 1

    first.records.update(
        boss,
        Module.PRODUCTION,
        mine.id,
        {**mine.values, "quantity": "12"},
        expected_version=mine.version,
    )
    with pytest.raises(StaleRecordError, match=r"changed by boss at \d{4}-\d\d-\d\d \d\d:\d\d UTC"):
        second.records.update(
            sara,
            Module.PRODUCTION,
            theirs.id,
            {**theirs.values, "quantity": "15"},
            expected_version=theirs.version,
        )
    with pytest.raises(StaleRecordError, match="since you opened it"):
        second.records.delete(sara, Module.PRODUCTION, theirs.id, expected_version=theirs.version)

    now = second.records.get(sara, Module.PRODUCTION, theirs.id)
    assert now.values["quantity"] == Decimal("12.000")
    assert now.version == 2
    # Having seen the current version, the second clerk's deliberate save goes through.
    second.records.update(
        sara,
        Module.PRODUCTION,
        now.id,
        {**now.values, "quantity": "15"},
        expected_version=now.version,
    )
    final = first.records.get(boss, Module.PRODUCTION, now.id)
    assert final.values["quantity"] == Decimal("15.000")
    assert final.version == 3
    assert first.ledger.verify(boss, site.id) == []
