"""Running Alembic from inside the app (no alembic.ini needed at run time).

The migration scripts ship inside the package (``deskops_desktop/migrations``) so the frozen
build and a pip install both carry them.

Start-up fast path: when the store's ``alembic_version`` already equals ``HEAD_REVISION`` the
app does not import Alembic at all (it costs ~0.15 s). ``HEAD_REVISION`` must name the newest
migration script; a test compares it with Alembic's own idea of the head.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
HEAD_REVISION = "0005"


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def head_revision(engine: Engine) -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config(engine)).get_current_head()


def current_revision(engine: Engine) -> str | None:
    """The store's schema revision, or None for an empty (never migrated) database."""
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
    except DBAPIError:
        return None


def upgrade_to_head(engine: Engine) -> None:
    if current_revision(engine) == HEAD_REVISION:
        return
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
