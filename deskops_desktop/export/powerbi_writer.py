"""The Power BI csv: lower snake_case headers, denormalised rows, plain numbers, no BOM.

The table must be built with ``Flavour.POWERBI`` (``rows.build_table``): that flavour puts a
stable ``row_key`` first (the record id for daily records; ``site|granularity|period|code`` for
periods; ``site|date|material`` for ledger days) and repeats site, material/equipment/role code,
name and category on every row, so a Power BI model needs no lookups to slice the facts.
"""

from __future__ import annotations

from pathlib import Path

from deskops_desktop.export.csv_writer import write_csv
from deskops_desktop.export.files import FileResult
from deskops_desktop.export.table import ExportTable
from deskops_desktop.models.progress import Progress


def write_powerbi_csv(table: ExportTable, target: Path, progress: Progress) -> FileResult:
    """Write ``table`` (Power BI flavour) as UTF-8 csv with snake_case headers, no BOM."""
    return write_csv(table, target, progress, bom=False)
