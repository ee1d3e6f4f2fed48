"""Named fault points: where tests kill a laptop, stop the server or lose an acknowledgement.

Sync calls ``fault("after_server_commit")`` etc. at each point a real failure could hit.
Normally nothing happens. With ``DESKOPS_SYNC_FAULT=<point>`` in the environment the process
dies right there with ``os._exit(137)`` (what SIGKILL leaves behind: no ``finally``, no
flush, no rollback but SQLite's own), so a test can run a laptop in a subprocess, kill it at a
named point and check that the next run recovers. ``DESKOPS_SYNC_FAULT=<point>:<n>`` dies at the
n-th time the point is reached. In-process tests register a hook with ``on_fault`` instead (to
stop the server between batches, or to raise a lost-connection error after the server's COMMIT).

The points, in the order a sync reaches them:
``after_outbox_staged`` (ops marked sent locally, nothing sent), ``mid_batch`` (statements sent,
no COMMIT), ``after_server_commit`` (the server committed; the laptop has not recorded it),
``between_batches``, ``mid_pull_integrate`` (pulled rows applied locally, not committed),
``after_integrate`` (a pull page committed with its cursor), ``mid_download`` (a first-download
page committed, the download not finished).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager

ENV = "DESKOPS_SYNC_FAULT"
POINTS = (
    "after_outbox_staged",
    "mid_batch",
    "after_server_commit",
    "between_batches",
    "mid_pull_integrate",
    "after_integrate",
    "mid_download",
)
KILLED_STATUS = 137

_hooks: list[Callable[[str], None]] = []
_counts: dict[str, int] = {}


def fault(point: str) -> None:
    """Reached ``point``: die if the environment says so, then tell any registered hook."""
    if point not in POINTS:  # pragma: no cover - a typo in sync itself
        raise ValueError(f"unknown fault point {point}")
    wanted = os.environ.get(ENV, "")
    if wanted:
        name, _, nth = wanted.partition(":")
        if name == point:
            _counts[point] = _counts.get(point, 0) + 1
            if _counts[point] >= int(nth or "1"):
                os._exit(KILLED_STATUS)
    for hook in list(_hooks):
        hook(point)


@contextmanager
def on_fault(hook: Callable[[str], None]) -> Iterator[None]:
    """Call ``hook(point)`` at every fault point while the block runs (tests)."""
    _hooks.append(hook)
    try:
        yield
    finally:
        _hooks.remove(hook)
