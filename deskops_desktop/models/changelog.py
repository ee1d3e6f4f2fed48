"""Who changed which record when, with old and new values, for every write."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base, IdMixin
from deskops_desktop.models.types import UTCDateTime


class ChangeLog(IdMixin, Base):
    """Who changed which record when, with the old and new values."""

    __tablename__ = "change_log"
    __table_args__ = (Index("ix_change_log_record", "table_name", "record_id"),)

    at: Mapped[datetime] = mapped_column(UTCDateTime())
    user_id: Mapped[str | None] = mapped_column(ID, default=None)
    table_name: Mapped[str] = mapped_column(String(64))
    record_id: Mapped[str] = mapped_column(ID)
    action: Mapped[str] = mapped_column(String(8))
    old_values: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
    new_values: Mapped[dict[str, object] | None] = mapped_column(JSON, default=None)
