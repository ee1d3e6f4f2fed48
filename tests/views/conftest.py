"""Qt fixtures: offscreen platform, a signed-in admin and operator over a file SQLite store."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


import pytest

from deskops_desktop.models.enums import Role
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services, build_services
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.store import Store


@pytest.fixture
def services(sqlite_store: Store) -> Services:
    return build_services(sqlite_store)


@pytest.fixture
def admin(services: Services) -> Actor:
    services.users.create(None, "admin", "admin-pass-1", Role.ADMIN, display_name="Head Office")
    return services.users.authenticate("admin", "admin-pass-1")


@pytest.fixture
def data(services: Services, admin: Actor) -> DataGateway:
    return DataGateway(services, admin)
