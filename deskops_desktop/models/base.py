"""Declarative base and the columns every table shares.

Timestamps come from the store's clock, never from the wall clock: every session a ``Store``
opens carries that clock in ``session.info["clock"]``, and ``stamp_timestamps`` (a
``before_flush`` listener on every ``Session``) fills ``created_at`` / ``updated_at`` / ``at`` of
ORM objects from it; a session without a clock fails its flush loudly. Core inserts (bulk
imports, the change log) pass their timestamps explicitly, taken from the same clock.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, String, event
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from deskops_desktop.models.clock import Clock
from deskops_desktop.models.ids import new_id
from deskops_desktop.models.types import UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ID = String(36)


class Base(DeclarativeBase):
    """The declarative base of every table (with the naming convention of constraints)."""

    metadata = MetaData(naming_convention=NAMING)


class IdMixin:
    """A client-made UUIDv7 primary key (records are created on laptops that may be offline)."""

    id: Mapped[str] = mapped_column(ID, primary_key=True, default=new_id)


class TimestampMixin:
    """``created_at`` / ``updated_at`` (stamped from the store's clock) and ``created_by``."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())
    created_by: Mapped[str | None] = mapped_column(ID, default=None)


# Columns filled from the clock when an ORM object is flushed without them.
_CREATED_COLUMNS = ("created_at", "at")


def clock_of(session: Session) -> Clock:
    """The clock of the store that opened ``session`` (a ``KeyError`` means a bare session)."""
    clock: Clock = session.info["clock"]
    return clock


def stamp_timestamps(session: Session, _flush_context: Any, _instances: Any) -> None:
    """``before_flush``: new objects get their creation time, changed ones ``updated_at``.

    A value set by the service (an import's rows, a record's edit) is kept as it is.
    """
    now = clock_of(session).now()
    for obj in session.new:
        for column in (*_CREATED_COLUMNS, "updated_at"):
            if hasattr(type(obj), column) and getattr(obj, column, None) is None:
                setattr(obj, column, now)
    for obj in session.dirty:
        if isinstance(obj, TimestampMixin) and session.is_modified(obj):
            state = obj.__dict__.get("_sa_instance_state")
            changed = state is not None and "updated_at" in state.committed_state
            if not changed:
                obj.updated_at = now


event.listen(Session, "before_flush", stamp_timestamps)
