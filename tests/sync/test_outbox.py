"""The outbox (``services/outbox.py``) on a SQLite replica, without a server.

Every write path of the services lands in the outbox in the write's own transaction, coalesced
only into pending operations of the same record and author; a lone store is untouched; master
data, users, other sites and anonymous writes are refused on a replica.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from deskops_desktop.models.enums import Module, Role
from deskops_desktop.models.errors import PermissionDenied
from deskops_desktop.models.reference import Site
from deskops_desktop.models.sync import OpState, SyncOutbox, SyncState
from deskops_desktop.services.access import SYSTEM, Actor
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.store import Store
from deskops_desktop.sync.status import sync_status
from tests.helpers import default_site, production


def _make_replica(store: Store) -> tuple[str, Actor]:
    services = build_services(store)
    user = services.users.create(None, "clerk", "clerk-pass-123", Role.ADMIN).value
    site = default_site(services)
    with store.write() as session:
        session.execute(
            insert(SyncState).values(
                id=1,
                replica_id="r",
                server_url="postgresql+psycopg://hq/deskops",
                site_ids=[site.id],
                fingerprint="f",
                phase="ready",
                joined_at=datetime(2026, 1, 1, tzinfo=UTC),
                joined_by=user.id,
                server_schema="0005",
                last_error="",
                refused="",
            )
        )
    actor = services.users.authenticate("clerk", "clerk-pass-123")
    return site.id, actor


def _ops(store: Store) -> list[tuple[str, int, str, object]]:
    with store.read() as session:
        return [
            (r.op, r.base_version, r.state, (r.payload or {}).get("quantity"))
            for r in session.execute(select(SyncOutbox).order_by(SyncOutbox.seq)).scalars()
        ]


def test_a_lone_store_has_no_outbox(sqlite_store: Store) -> None:
    services = build_services(sqlite_store)
    site = default_site(services)
    services.records.create(SYSTEM, Module.PRODUCTION, site.id, production("2026-11-20"))
    assert _ops(sqlite_store) == []
    assert not sync_status(sqlite_store).is_replica
    assert sync_status(sqlite_store).headline() == ""


def test_every_write_lands_in_the_outbox_coalesced(sqlite_store: Store) -> None:
    site_id, actor = _make_replica(sqlite_store)
    records = build_services(sqlite_store).records
    day = sqlite_store.clock.now().date() - timedelta(days=1)
    first = records.create(actor, Module.PRODUCTION, site_id, production(day)).value
    records.update(actor, Module.PRODUCTION, first.id, production(day, quantity="11"))
    assert _ops(sqlite_store) == [("insert", 0, "pending", "11.000")]  # insert + update

    second = records.create(actor, Module.PRODUCTION, site_id, production(day, "AGG-3/4")).value
    records.delete(actor, Module.PRODUCTION, second.id)
    assert len(_ops(sqlite_store)) == 1  # created and deleted unseen: nothing to send

    # Once sent, an operation is never changed again: a later edit is a new operation.
    with sqlite_store.write() as session:
        session.execute(update(SyncOutbox).values(state=OpState.SENT))
    records.update(actor, Module.PRODUCTION, first.id, production(day, quantity="12"))
    records.update(actor, Module.PRODUCTION, first.id, production(day, quantity="13"))
    records.delete(actor, Module.PRODUCTION, first.id)
    assert _ops(sqlite_store) == [
        ("insert", 0, "sent", "11.000"),
        ("delete", 2, "pending", None),  # update + update + delete, from the first base
    ]

    batch = records.create_many(
        actor,
        Module.DISPATCH,
        site_id,
        [{"date": str(day), "material": "AGG-G1", "quantity": str(n + 1)} for n in range(5)],
    )
    assert batch.value == 5
    assert len(_ops(sqlite_store)) == 7
    status = sync_status(sqlite_store)
    assert (status.pending, status.sent, status.waiting) == (6, 1, 7)
    assert status.headline().startswith("7 waiting · 0 need attention · not yet confirmed")


def test_a_replica_refuses_what_head_office_owns(sqlite_store: Store) -> None:
    site_id, actor = _make_replica(sqlite_store)
    services = build_services(sqlite_store)
    with pytest.raises(PermissionDenied, match="head office"):
        services.master.add_site(actor, "NEW-1", "New site")
    with pytest.raises(PermissionDenied, match="head office"):
        services.users.create(actor, "another", "another-pass-1", Role.OPERATOR, ["ALASLA-29"])
    day = sqlite_store.clock.now().date()
    with pytest.raises(PermissionDenied, match="sign in"):
        services.records.create(SYSTEM, Module.PRODUCTION, site_id, production(day))
    assert _ops(sqlite_store) == []
    # Nothing of a refused write remains: the record and its change log rolled back together.
    assert services.records.count(actor, Module.PRODUCTION, site_id, day, day) == 0


def test_a_replica_is_not_seeded(sqlite_store: Store) -> None:
    """Head office's master data only: a re-seed would add local sites and materials."""
    _make_replica(sqlite_store)
    with sqlite_store.write() as session:
        session.execute(delete(Site))
    sqlite_store.seed_reference_data()
    with sqlite_store.read() as session:
        assert session.scalars(select(Site)).all() == []


def test_a_replica_keeps_only_its_own_sites(sqlite_store: Store) -> None:
    site_id, actor = _make_replica(sqlite_store)
    with sqlite_store.write() as session:
        session.execute(update(SyncState).values(site_ids=["some-other-site"]))
    records = build_services(sqlite_store).records
    day = sqlite_store.clock.now().date()
    with pytest.raises(PermissionDenied, match="own sites"):
        records.create(actor, Module.PRODUCTION, site_id, production(day))
