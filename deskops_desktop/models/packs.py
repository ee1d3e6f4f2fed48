"""Report packs: a named set of reports an administrator has head office receive every night.

A pack says which sites (all, or a list), which reports in which formats, which period (a rule
such as "last month", resolved against a day when it runs), where the files go, and whether a
Power BI folder is kept beside them. The schedule columns say where an operating-system task was
registered for it (so ``unschedule`` and the Settings page know), and the ``last_run_*`` columns
what the latest run did — the export audit keeps every file of every run.

Invariants a newcomer must not break:
- ``name`` is the pack's identity on disk and in OS task names: letters, digits, ``.``, ``_``,
  ``-`` (no spaces, no path characters), unique without regard to case.
- ``site_ids`` is read only when ``all_sites`` is false; "all sites" means every active site at
  run time, so a site added later is in the next run.
- No password ever lives here: ``run_as`` names the user whose sign-in a scheduled run takes
  from the operating system's keyring.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import Base, IdMixin, TimestampMixin
from deskops_desktop.models.types import UTCDateTime

RUN_RUNNING = "running"
RUN_COMPLETED = "completed"
RUN_FAILED = "failed"


class ReportPack(IdMixin, TimestampMixin, Base):
    """One report pack: what to build, for which period rule, where to; its schedule and last
    run."""

    __tablename__ = "report_packs"

    name: Mapped[str] = mapped_column(String(64), unique=True)
    all_sites: Mapped[bool] = mapped_column(Boolean, default=True)
    site_ids: Mapped[list[str]] = mapped_column(JSON, default=list)
    reports: Mapped[list[str]] = mapped_column(JSON, default=list)
    formats: Mapped[list[str]] = mapped_column(JSON, default=list)
    period: Mapped[str] = mapped_column(String(16))
    destination: Mapped[str] = mapped_column(Text)
    powerbi: Mapped[bool] = mapped_column(Boolean, default=False)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Riyadh")
    fiscal_year_start: Mapped[int] = mapped_column(Integer, default=1)

    schedule_time: Mapped[str] = mapped_column(String(5), default="")  # "HH:MM"; "" = none
    schedule_kind: Mapped[str] = mapped_column(String(16), default="")
    schedule_host: Mapped[str] = mapped_column(String(200), default="")
    run_as: Mapped[str] = mapped_column(String(64), default="")

    last_run_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    last_run_status: Mapped[str] = mapped_column(String(16), default="")
    last_run_period: Mapped[str] = mapped_column(String(32), default="")
    last_run_message: Mapped[str] = mapped_column(Text, default="")
    last_run_files: Mapped[int | None] = mapped_column(Integer, default=None)
    last_run_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    last_run_folder: Mapped[str] = mapped_column(Text, default="")
