"""Which tables travel, how each is keyed and which feed *scope* its rows belong to.

Data-driven: derived from ``models.sync.PULLED_TABLES`` (master tables listed once, record
tables from ``models.modules.SPECS``) and the tables' own columns, so a new record module or a
new master table syncs without new sync code:

- a table with a ``site_id`` column belongs to scope ``s:<site id>`` (or ``m`` when the row's
  ``site_id`` is NULL, e.g. a company-wide factor); ``sites`` itself to ``s:<its id>``;
- ``user_sites`` rows belong to ``u:<user id>`` (a clerk may see only their own assignments);
- every other table (materials, equipment, roles, users) to ``m``, the master scope.

Why scopes: a clerk's row-level security decides which feed rows they see. A cursor shared by
clerks who see *different* rows would let one clerk's pull move past rows only another may see.
Within one scope every reader sees all rows or none, so one cursor per scope is safe whoever
of the laptop's clerks pulls.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

from sqlalchemy import Table

from deskops_desktop.models.base import Base
from deskops_desktop.models.enums import Module
from deskops_desktop.models.modules import SPECS
from deskops_desktop.models.sync import PULLED_TABLES, PUSHED_TABLES

MASTER_SCOPE = "m"
# Columns a clerk may never read (pg_security: users.password_hash is the owner's only).
HIDDEN_COLUMNS: dict[str, frozenset[str]] = {"users": frozenset({"password_hash"})}


def site_scope(site_id: str) -> str:
    return f"s:{site_id}"


def user_scope(user_id: str) -> str:
    return f"u:{user_id}"


@dataclass(frozen=True)
class SyncedTable:
    """One table that travels, with what the feed and the apply code need to know about it."""

    name: str
    key: tuple[str, ...]
    pushed: bool

    @property
    def table(self) -> Table:
        return Base.metadata.tables[self.name]

    @property
    def has_version(self) -> bool:
        return "version" in self.table.c

    @property
    def site_column(self) -> str | None:
        if self.name == "sites":
            return "id"
        if self.name == "user_sites":
            return None
        return "site_id" if "site_id" in self.table.c else None

    @property
    def columns(self) -> tuple[str, ...]:
        """The columns that travel (all but the hidden ones), in table order."""
        hidden = HIDDEN_COLUMNS.get(self.name, frozenset())
        return tuple(c.name for c in self.table.columns if c.name not in hidden)

    def record_id(self, row: dict[str, object]) -> str:
        """The feed's ``record_id`` of a row: its id, or ``user/site`` for a link row."""
        return "/".join(str(row[k]) for k in self.key)

    def scope_of(self, row: dict[str, object]) -> str:
        if self.name == "user_sites":
            return user_scope(str(row["user_id"]))
        column = self.site_column
        if column is None or row.get(column) is None:
            return MASTER_SCOPE
        return site_scope(str(row[column]))


@cache
def synced_tables() -> tuple[SyncedTable, ...]:
    """Every table that travels, parents before children (the order rows are applied in)."""
    out = []
    for name in PULLED_TABLES:
        table = Base.metadata.tables[name]
        key = tuple(c.name for c in table.primary_key.columns)
        out.append(SyncedTable(name, key, name in PUSHED_TABLES))
    return tuple(out)


def synced(name: str) -> SyncedTable:
    for table in synced_tables():
        if table.name == name:
            return table
    raise KeyError(f"{name} is not a synced table")


def module_of(table_name: str) -> Module:
    """The record module of a pushed table (its ``SPECS`` key)."""
    for module, spec in SPECS.items():
        if spec.table.__tablename__ == table_name:
            return module
    raise KeyError(table_name)


def scope_tables(scope: str) -> tuple[SyncedTable, ...]:
    """The tables whose rows can belong to ``scope``, in apply order."""
    if scope.startswith("u:"):
        return (synced("user_sites"),)
    tables = [t for t in synced_tables() if t.name != "user_sites"]
    if scope == MASTER_SCOPE:
        # Tables without a site, and company-wide rows (NULL site) of tables that have one.
        return tuple(
            t for t in tables if t.site_column is None or t.table.c[t.site_column].nullable
        )
    return tuple(t for t in tables if t.site_column is not None)
