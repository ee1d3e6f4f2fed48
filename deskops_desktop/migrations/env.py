"""Alembic environment: the engine comes from the app (``services.migrate``), never from a file.

``init-server`` (``services.pg_security``) passes a ``connection`` instead: the migrations then
run inside its own transaction, as the schema owner role it has switched to.
"""

from __future__ import annotations

from contextlib import nullcontext

from alembic import context

from deskops_desktop.models.tables import Base

config = context.config
given = config.attributes.get("connection")
engine = config.attributes.get("engine")

with nullcontext(given) if given is not None else engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    context.run_migrations()
