"""Export jobs and the audit trail of completed exports."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, BigInteger, Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base, IdMixin
from deskops_desktop.models.types import UTCDateTime

JOB_PENDING = "pending"
JOB_PROCESSING = "processing"
JOB_COMPLETED = "completed"
JOB_FAILED = "failed"
ACTIVE_JOB_STATES = (JOB_PENDING, JOB_PROCESSING)


class ExportJob(IdMixin, Base):
    """An export in the queue: what was asked, its state and progress, and the file it made."""

    __tablename__ = "export_jobs"
    __table_args__ = (Index("ix_export_jobs_user_status", "user_id", "status"),)

    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"))
    module: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    granularity: Mapped[str] = mapped_column(String(16), default="daily")
    date_from: Mapped[date] = mapped_column(Date)
    date_to: Mapped[date] = mapped_column(Date)
    filters: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    destination: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[str] = mapped_column(String(16), default=JOB_PENDING)
    progress: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(Text, default="")
    file_path: Mapped[str] = mapped_column(Text, default="")
    size_bytes: Mapped[int | None] = mapped_column(BigInteger, default=None)
    sha256: Mapped[str] = mapped_column(String(64), default="")
    record_count: Mapped[int | None] = mapped_column(BigInteger, default=None)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)


class ExportAudit(IdMixin, Base):
    """A completed export kept for the audit (who, what, how big, its hash, downloads).

    A report pack run adds one row per file it wrote (``job_id`` is the run's id, ``filters``
    name the pack, the period and the file).
    """

    __tablename__ = "export_audits"

    job_id: Mapped[str] = mapped_column(ID)
    user_id: Mapped[str] = mapped_column(ID, ForeignKey("users.id"))
    # None for a company-wide file (a report pack's Power BI partition spans every site).
    site_id: Mapped[str | None] = mapped_column(ID, ForeignKey("sites.id"))
    module: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(16))
    filters: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)
    record_count: Mapped[int] = mapped_column(BigInteger)
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    download_count: Mapped[int] = mapped_column(Integer, default=0)
    last_download_at: Mapped[datetime | None] = mapped_column(UTCDateTime(), default=None)
