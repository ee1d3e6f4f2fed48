"""Scenario 4: two laptops and head office on one record, in both orders.

Every conflict keeps both versions (``sync_attention.mine`` / ``theirs``), the server's row is
never overwritten by a push, the pushing laptop shows head office's version meanwhile (and its
own in the conflict), and a moderator's decision reaches both laptops. After every step the
laptops that synced hold exactly the server's records and ledger.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from deskops_desktop.models.enums import Module
from deskops_desktop.sync import KEEP_MINE, KEEP_THEIRS, list_items, local_items, resolve
from deskops_desktop.sync.link import ServerLink
from tests.sync.hq import CLERK_PASSWORD, HQ
from tests.sync.laptops import Laptop, ledger_of, make_laptop, production, records_of

pytestmark = pytest.mark.postgres
P = Module.PRODUCTION


@pytest.fixture
def pair(hq: HQ, tmp_path: Path) -> Iterator[tuple[Laptop, Laptop]]:
    a = make_laptop(hq, tmp_path, "a", "op1")
    b = make_laptop(hq, tmp_path, "b", "op2")
    yield a, b
    a.close()
    b.close()


def _converged(hq: HQ, *laptops: Laptop) -> None:
    server = records_of(hq.store, hq.site_a.id)
    ledger = ledger_of(hq.store, hq.site_a.id)
    for laptop in laptops:
        assert records_of(laptop.store, hq.site_a.id) == server, laptop.name
        assert ledger_of(laptop.store, hq.site_a.id) == ledger, laptop.name
        assert laptop.services.ledger.verify(laptop.actor(), hq.site_a.id) == []


def _decide(hq: HQ, keep: str) -> None:
    link = ServerLink(hq.clerk_url, "mod1", CLERK_PASSWORD)
    try:
        from sqlalchemy.orm import Session

        with link.transaction() as conn, Session(bind=conn) as session:
            items = list_items(session)
            assert len(items) == 1, items
            resolve(session, items[0].id[:8], keep)
    finally:
        link.dispose()


def _shared_record(hq: HQ, a: Laptop, b: Laptop) -> str:
    today = hq.today(hq.site_a)
    row = a.services.records.create(a.actor(), P, hq.site_a.id, production(today)).value
    assert a.sync().ok
    assert b.sync().ok
    return row.id


@pytest.mark.parametrize("first", ["a", "b"])
def test_edit_edit_keeps_both_and_the_moderator_decides(
    hq: HQ, pair: tuple[Laptop, Laptop], first: str
) -> None:
    a, b = pair
    record_id = _shared_record(hq, a, b)
    today = hq.today(hq.site_a)
    a.services.records.update(a.actor(), P, record_id, production(today, quantity="11"))
    b.services.records.update(b.actor(), P, record_id, production(today, quantity="22"))
    winner, loser = (a, b) if first == "a" else (b, a)
    assert winner.sync().push.applied == 1
    report = loser.sync()
    assert (report.push.conflicts, report.push.applied) == (1, 0)
    wanted = "11.000" if first == "a" else "22.000"
    mine = "22.000" if first == "a" else "11.000"
    server = records_of(hq.store, hq.site_a.id)["production"][record_id]
    assert server["quantity"] == wanted  # never overwritten by the conflicting push
    item = local_items(loser.store)[0]
    assert (item.state, item.kind) == ("conflict", "edit_edit")
    assert item.mine is not None
    assert item.mine["quantity"] == mine
    assert item.theirs is not None
    assert item.theirs["quantity"] == wanted
    assert loser.status().conflicts == 1
    _converged(hq, winner, loser)  # the loser shows head office's version meanwhile

    _decide(hq, KEEP_MINE)
    assert loser.sync().ok
    assert winner.sync().ok
    assert records_of(hq.store, hq.site_a.id)["production"][record_id]["quantity"] == mine
    _converged(hq, winner, loser)
    assert loser.status().conflicts == 0
    assert loser.status().synced


@pytest.mark.parametrize("first", ["edit", "delete"])
def test_edit_against_delete_in_both_orders(
    hq: HQ, pair: tuple[Laptop, Laptop], first: str
) -> None:
    a, b = pair
    record_id = _shared_record(hq, a, b)
    today = hq.today(hq.site_a)
    a.services.records.update(a.actor(), P, record_id, production(today, quantity="11"))
    b.services.records.delete(b.actor(), P, record_id)
    if first == "edit":
        assert a.sync().push.applied == 1
        assert b.sync().push.conflicts == 1
        assert local_items(b.store)[0].kind == "delete_edit"
        _converged(hq, a, b)
        _decide(hq, KEEP_MINE)  # the delete wins
        assert record_id not in records_of(hq.store, hq.site_a.id)["production"]
    else:
        assert b.sync().push.applied == 1
        assert a.sync().push.conflicts == 1
        item = local_items(a.store)[0]
        assert (item.kind, item.theirs) == ("edit_delete", None)
        _converged(hq, a, b)
        _decide(hq, KEEP_THEIRS)  # stays deleted
        assert record_id not in records_of(hq.store, hq.site_a.id)["production"]
    assert a.sync().ok
    assert b.sync().ok
    _converged(hq, a, b)


@pytest.mark.parametrize("keep", [KEEP_MINE, KEEP_THEIRS])
def test_two_records_on_one_natural_key(hq: HQ, pair: tuple[Laptop, Laptop], keep: str) -> None:
    a, b = pair
    today = hq.today(hq.site_a)
    first = a.services.records.create(a.actor(), P, hq.site_a.id, production(today, quantity="5"))
    second = b.services.records.create(b.actor(), P, hq.site_a.id, production(today, quantity="7"))
    assert a.sync().push.applied == 1
    report = b.sync()
    assert report.push.conflicts == 1
    item = local_items(b.store)[0]
    assert item.kind == "same_key"
    assert item.theirs is not None
    assert item.theirs["id"] == first.value.id
    _converged(hq, a, b)  # b now shows a's record; its own is kept in the conflict
    _decide(hq, keep)
    assert a.sync().ok
    assert b.sync().ok
    ids = set(records_of(hq.store, hq.site_a.id)["production"])
    assert ids == ({second.value.id} if keep == KEEP_MINE else {first.value.id})
    _converged(hq, a, b)


def test_head_office_edit_then_laptop_edit(hq: HQ, pair: tuple[Laptop, Laptop]) -> None:
    a, b = pair
    record_id = _shared_record(hq, a, b)
    services, mod = hq.online("mod1")
    today = hq.today(hq.site_a)
    services.records.update(mod, P, record_id, production(today, quantity="30"))
    a.services.records.update(a.actor(), P, record_id, production(today, quantity="31"))
    assert a.sync().push.conflicts == 1
    assert records_of(hq.store, hq.site_a.id)["production"][record_id]["quantity"] == "30.000"
    # A second edit of the same record waits behind the open conflict.
    a.services.records.update(a.actor(), P, record_id, production(today, quantity="32"))
    report = a.sync()
    assert report.push.conflicts == 1
    assert [i.kind for i in local_items(a.store)] == ["edit_edit", "behind"]
    _converged(hq, a)
