"""A throw-away demo store beside the real one, for a new clerk to look around in.

``create_demo_store`` fills a *separate* SQLite file (``demo.sqlite3`` in the data folder) with
the demo plant and an administrator ``demo.admin`` whose password is the demo password: the
clerk's own store is never opened, let alone changed. Asked again, it reuses the file when it
already holds the demo, so "Open a demo store" twice costs one second, not a minute.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from deskops_desktop.models.clock import Clock
from deskops_desktop.models.enums import Role
from deskops_desktop.models.progress import NullProgress, Progress
from deskops_desktop.services.access import SYSTEM
from deskops_desktop.services.bundle import build_services
from deskops_desktop.services.demo import DEMO_PASSWORD, generate_demo
from deskops_desktop.services.paths import data_dir
from deskops_desktop.services.store import open_store

DEMO_ADMIN = "demo.admin"
DEMO_FILE = "demo.sqlite3"


@dataclass(frozen=True)
class DemoStore:
    """Where the demo store is and how to sign in to it."""

    url: str
    username: str
    password: str
    created: bool  # False: an existing demo store was reused


def demo_store_path() -> Path:
    return data_dir() / DEMO_FILE


def create_demo_store(
    clock: Clock,
    *,
    path: Path | None = None,
    sites: int = 3,
    days: int = 120,
    progress: Progress | None = None,
) -> DemoStore:
    """The demo store at ``path`` (default: the data folder's ``demo.sqlite3``), filled once."""
    target = path or demo_store_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{target}"
    store = open_store(url, clock=clock)
    try:
        services = build_services(store)
        if DEMO_ADMIN in {u.username for u in services.users.list(SYSTEM)}:
            return DemoStore(url, DEMO_ADMIN, DEMO_PASSWORD, created=False)
        services.users.create(
            SYSTEM, DEMO_ADMIN, DEMO_PASSWORD, Role.ADMIN, display_name="Demo administrator"
        )
        generate_demo(services, sites=sites, days=days, progress=progress or NullProgress())
    finally:
        store.dispose()
    return DemoStore(url, DEMO_ADMIN, DEMO_PASSWORD, created=True)
