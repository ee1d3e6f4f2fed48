"""Migrations are history: the schema each released revision creates is pinned.

A released migration must create on a new store exactly what it created on every store before
it, or stores made today would differ from stores made last year. Editing a migration's helpers
(``_id_and_stamps`` in 0001, ``_operation_columns`` in 0005…) is the easy way to break that
without noticing. So an empty store is upgraded one revision at a time and, after each, a
fingerprint of its schema is compared with the one recorded when that revision was released.

A new migration adds its own fingerprints (run the test, copy the value it prints); a recorded
fingerprint never changes. Alembic's SQLite batch mode writes the foreign keys of a table it
rebuilds in no fixed order (0004 rebuilds ``export_audits``), so the fingerprint sorts the
foreign-key clauses of a rebuilt table; everything else is taken as the database states it.
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Connection, create_engine, text

from deskops_desktop.services.migrate import alembic_config

# sha256 of the schema description below, per backend and revision (0002 changes nothing on
# PostgreSQL).
SCHEMA_FINGERPRINTS = {
    "sqlite": {
        "0001": "ef048f8f13da43caed1fbc07063e64d03afedc5708868ddc5b7d17011ea33fa7",
        "0002": "6f164a30631f9aeefa6bf43b4ef3f695a712337eee338b1d2d95a7e3cba1e082",
        "0003": "e45f3de4707790d2e52ac4617a051553ad55b1bf9f36c303fb9297e585fc3f4b",
        "0004": "14f81731b8109fbc655277e31d2c678f5625f5200d1c4373dd3d9f47bd179af5",
        "0005": "a906fb1508fb55d49b38b8ea1f1a3afb64f40b44eaf83ffb17e2cacc18b978a7",
    },
    "postgresql": {
        "0001": "5718197e39998cb07fc781fae241d8820ab6091adfd5d5694c62f71d159e2c93",
        "0002": "5718197e39998cb07fc781fae241d8820ab6091adfd5d5694c62f71d159e2c93",
        "0003": "a2c64230aa6452df454fd9e2c36b2cd6d67e307e76850eba9be6b1abed267d3a",
        "0004": "060126dd90dc558b90537974e76971df4b6e352c7d11296528706355683414e4",
        "0005": "77082c8847073ed08e5ea9752ef3a3164156412bf247eaa20f2aea52df442d41",
    },
}

_FOREIGN_KEY = r"CONSTRAINT fk_\w+ FOREIGN KEY\(\w+\) REFERENCES \w+ \(\w+\)(?: ON DELETE \w+)?"
_CLAUSES = ", \n\t"  # how SQLAlchemy separates a CREATE TABLE's clauses
_FOREIGN_KEY_RUN = re.compile(f"{_FOREIGN_KEY}(?:{_CLAUSES}{_FOREIGN_KEY})+")


def _sorted_foreign_keys(create_sql: str) -> str:
    """The CREATE TABLE text of a table rebuilt under a temporary name and renamed (SQLite
    then quotes its name) with its foreign-key clauses in name order; any other as it is."""
    if not create_sql.startswith('CREATE TABLE "'):
        return create_sql
    return _FOREIGN_KEY_RUN.sub(
        lambda run: _CLAUSES.join(sorted(run.group(0).split(_CLAUSES))), create_sql
    )


def _describe_sqlite(conn: Connection) -> str:
    rows = conn.execute(
        text("SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY name")
    ).all()
    return "\n".join(
        f"{kind} {name} on {table}: {_sorted_foreign_keys(sql) if sql else sql}"
        for kind, name, table, sql in rows
    )


def _describe_postgresql(conn: Connection) -> str:
    columns = conn.execute(
        text(
            "SELECT table_name, column_name, data_type, character_maximum_length,"
            " is_nullable, column_default FROM information_schema.columns"
            " WHERE table_schema = 'public' ORDER BY table_name, ordinal_position"
        )
    ).all()
    constraints = conn.execute(
        text(
            "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid)"
            " FROM pg_constraint WHERE connamespace = 'public'::regnamespace ORDER BY 1, 2"
        )
    ).all()
    indexes = conn.execute(
        text("SELECT indexdef FROM pg_indexes WHERE schemaname = 'public' ORDER BY indexname")
    ).all()
    return "\n".join(str(tuple(row)) for row in [*columns, *constraints, *indexes])


def _fingerprints(url: str) -> dict[str, str]:
    engine = create_engine(url)
    try:
        cfg = alembic_config(engine)
        describe = _describe_sqlite if engine.dialect.name == "sqlite" else _describe_postgresql
        found = {}
        for revision in SCHEMA_FINGERPRINTS[engine.dialect.name]:
            command.upgrade(cfg, revision)
            with engine.connect() as conn:
                found[revision] = hashlib.sha256(describe(conn).encode()).hexdigest()
        return found
    finally:
        engine.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def empty_store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    return str(request.getfixturevalue("empty_pg_url"))


def test_each_released_migration_creates_the_schema_it_always_created(
    empty_store_url: str,
) -> None:
    backend = "sqlite" if empty_store_url.startswith("sqlite") else "postgresql"
    assert _fingerprints(empty_store_url) == SCHEMA_FINGERPRINTS[backend]
