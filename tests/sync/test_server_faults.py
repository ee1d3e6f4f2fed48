"""Scenario 1: head office's PostgreSQL stops mid-sync, and the network fails under it.

A durable server of the test's own (fsync and synchronous_commit on, so every commit it
acknowledged survives a crash): stopped immediately (a crash) or fast (an orderly shutdown)
between batches, in the middle of a batch, and between the server's COMMIT and the laptop's
record of it (the acknowledgement lost). A black-holed network (bytes vanish, sockets stay
open) must end the sync by the laptop's own timeout, not hang it. Each time the next sync
converges: nothing lost, nothing twice, the replayed batch answered from its op ids.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from deskops_desktop.models.enums import Module
from deskops_desktop.sync import SyncOffline, SyncTuning
from deskops_desktop.sync.faults import on_fault
from deskops_desktop.sync.link import LinkOptions
from tests.pg_throwaway import ThrowawayServer, start_throwaway
from tests.sync.hq import HQ, make_hq
from tests.sync.invariants import check_invariants, server_record_count
from tests.sync.laptops import Laptop, make_laptop
from tests.sync.proxy import FaultProxy

pytestmark = pytest.mark.postgres
PORT = 54361
SMALL = SyncTuning(push_batch=6, pull_page=4, download_page=50)


@pytest.fixture(scope="module")
def durable() -> Iterator[tuple[ThrowawayServer, HQ]]:
    server = start_throwaway(PORT)
    hq = make_hq(make_url(server.url), "deskops_faults")
    yield server, hq
    hq.close()
    server.remove()


@pytest.fixture
def plant(durable: tuple[ThrowawayServer, HQ]) -> Iterator[tuple[ThrowawayServer, HQ]]:
    server, hq = durable
    server.start()  # a no-op when it runs; a restart after a failed test
    hq.reset()
    return server, hq


def _offline_work(laptop: Laptop, hq: HQ, n: int = 20) -> None:
    actor = laptop.actor()
    today = hq.today(hq.site_a)
    for i in range(n):
        laptop.services.records.create(
            actor,
            Module.DISPATCH,
            hq.site_a.id,
            {"date": str(today), "material": "AGG-G1", "quantity": f"{i + 1}"},
        )


def _sync(laptop: Laptop, options: LinkOptions | None = None) -> object:
    from deskops_desktop.sync import Credentials, run_sync
    from tests.sync.hq import CLERK_PASSWORD

    return run_sync(
        laptop.store,
        Credentials({laptop.username: CLERK_PASSWORD}, laptop.username, False),
        options=options or LinkOptions(connect_timeout=3, io_timeout=10.0),
        tuning=SMALL,
    )


@pytest.mark.parametrize("stop", ["kill", "stop"])
@pytest.mark.parametrize("point", ["between_batches", "mid_batch", "after_server_commit"])
def test_server_stops_mid_sync(
    plant: tuple[ThrowawayServer, HQ], tmp_path: Path, point: str, stop: str
) -> None:
    server, hq = plant
    laptop = make_laptop(hq, tmp_path)
    try:
        _offline_work(laptop, hq)
        fired = []

        def nemesis(at: str) -> None:
            if at == point and not fired:
                fired.append(at)
                getattr(server, stop)()  # kill: pg_ctl -m immediate; stop: -m fast
                if at == "after_server_commit":
                    raise SyncOffline("the acknowledgement was lost with the server")

        with on_fault(nemesis):
            broken = _sync(laptop)
        assert fired
        assert broken.offline, broken.error  # type: ignore[attr-defined]
        assert laptop.status().waiting > 0
        assert not laptop.status().synced

        server.start()
        report = _sync(laptop)
        assert report.ok, report.error  # type: ignore[attr-defined]
        if point == "after_server_commit":
            assert report.push.replayed == SMALL.push_batch  # type: ignore[attr-defined]
        assert server_record_count(hq) == 20
        check_invariants(hq, [laptop])
    finally:
        laptop.close()


def test_a_blackholed_network_times_out_instead_of_hanging(
    plant: tuple[ThrowawayServer, HQ], tmp_path: Path
) -> None:
    server, hq = plant
    proxy = FaultProxy(server.port)
    proxy.start()
    via_proxy = hq.clerk_url.set(port=proxy.port)
    quick = LinkOptions(connect_timeout=2, io_timeout=2.0)
    laptop = make_laptop(hq, tmp_path, url=via_proxy, options=quick)
    try:
        _offline_work(laptop, hq)

        def nemesis(at: str) -> None:
            if at == "between_batches":
                proxy.set_mode("blackhole")

        started = time.monotonic()
        with on_fault(nemesis):
            broken = _sync(laptop, quick)
        assert time.monotonic() - started < 20
        assert broken.offline, broken.error  # type: ignore[attr-defined]

        proxy.set_mode("refuse")
        refused = _sync(laptop, quick)
        assert refused.offline  # type: ignore[attr-defined]

        proxy.set_mode("pass")
        report = _sync(laptop, quick)
        assert report.ok, report.error  # type: ignore[attr-defined]
        assert server_record_count(hq) == 20
        check_invariants(hq, [laptop])
        assert proxy.stats.bytes_up > 0
    finally:
        laptop.close()
        proxy.stop()


def test_connections_reset_during_the_pull(
    plant: tuple[ThrowawayServer, HQ], tmp_path: Path
) -> None:
    server, hq = plant
    proxy = FaultProxy(server.port)
    proxy.start()
    quick = LinkOptions(connect_timeout=2, io_timeout=3.0)
    laptop = make_laptop(hq, tmp_path, url=hq.clerk_url.set(port=proxy.port), options=quick)
    try:
        services, mod = hq.online("mod1")
        today = hq.today(hq.site_a)
        for i in range(12):
            services.records.create(
                mod,
                Module.RECEIVED,
                hq.site_a.id,
                {"date": str(today), "material": "RAW-MIXED", "quantity": f"{i + 1}"},
            )
        pages = []

        def nemesis(at: str) -> None:
            if at == "after_integrate":
                pages.append(at)
                if len(pages) == 2:
                    proxy.set_mode("reset")

        with on_fault(nemesis):
            broken = _sync(laptop, quick)
        assert broken.offline  # type: ignore[attr-defined]
        proxy.set_mode("pass")
        report = _sync(laptop, quick)
        assert report.ok, report.error  # type: ignore[attr-defined]
        check_invariants(hq, [laptop])
    finally:
        laptop.close()
        proxy.stop()
