"""Exports: xlsx, csv, Power BI csv and pdf writers, and the export job lifecycle. Qt-free.

Layering: ``models`` <- ``services`` <- ``export`` (<- ``views``, ``cli``). Nothing under
``services`` imports this package; the job service is built from a ``Services`` bundle.

Public API:
- ``ExportJobService(services)``: ``check``, ``create``, ``run(job_id, progress)``,
  ``export_now``, ``cancel``, ``retry``, ``recover``, ``cleanup``, ``history``, ``active``,
  ``record_download``, ``remove``, ``clear``; values are ``ExportRequest`` in, ``JobInfo`` out.
- ``build_table(services, actor, ExportQuery, Flavour)`` -> ``ExportTable`` and the writers
  ``write_xlsx``, ``write_csv``, ``write_powerbi_csv``, ``write_pdf`` (``table, path, progress``
  -> ``FileResult``), importable from their modules (kept lazy here: reportlab and openpyxl take
  a while to import).
- ``Progress`` (protocol), ``NullProgress``, ``RecordingProgress``, ``ExportCancelled``.
"""

from __future__ import annotations

from deskops_desktop.export.files import FileResult, safe_filename
from deskops_desktop.export.jobs import (
    MAX_ACTIVE_JOBS,
    ROLE_RANGE_DAYS,
    ExportJobService,
    ExportRefused,
    ExportRequest,
    JobInfo,
    default_destination,
    limit_text,
    writer_for,
)
from deskops_desktop.export.progress import ExportCancelled
from deskops_desktop.export.rows import build_table
from deskops_desktop.export.table import NO_DATA, ExportQuery, ExportTable, Flavour
from deskops_desktop.models.progress import CancelFlag, NullProgress, Progress, RecordingProgress

__all__ = [
    "MAX_ACTIVE_JOBS",
    "NO_DATA",
    "ROLE_RANGE_DAYS",
    "CancelFlag",
    "ExportCancelled",
    "ExportJobService",
    "ExportQuery",
    "ExportRefused",
    "ExportRequest",
    "ExportTable",
    "FileResult",
    "Flavour",
    "JobInfo",
    "NullProgress",
    "Progress",
    "RecordingProgress",
    "build_table",
    "default_destination",
    "limit_text",
    "safe_filename",
    "writer_for",
]
