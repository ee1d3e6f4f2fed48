"""Users, their role and the sites they may work on."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base, IdMixin, TimestampMixin
from deskops_desktop.models.types import UTCDateTime


class User(IdMixin, TimestampMixin, Base):
    """A DeskOps user (scrypt hash; on a secured server store the server keeps the password)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    # Deferred: never loaded unless asked for. On a secured PostgreSQL store nobody but the
    # schema owner may read this column (pg_security), so a plain ``select(User)`` must not.
    password_hash: Mapped[str] = mapped_column(String(400), deferred=True)
    role: Mapped[str] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class UserSite(Base):
    """A site assigned to a user."""

    __tablename__ = "user_sites"

    user_id: Mapped[str] = mapped_column(
        ID, ForeignKey("users.id", ondelete="CASCADE"), primary_key=True
    )
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"), primary_key=True)
