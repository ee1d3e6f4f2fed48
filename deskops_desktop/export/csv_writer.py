"""The csv writers: RFC 4180 for people and imports, and the Power BI flavour.

- ``write_csv``: UTF-8 *with* BOM (Excel then reads Arabic and accents correctly), CRLF line ends,
  minimal quoting (fields with commas, quotes or line breaks are quoted, quotes doubled),
  ISO 8601 dates, ``.`` decimals, no thousands separators. With the human daily columns of a record
  module this is exactly the import contract, so the file imports back unchanged.
- ``write_powerbi_csv`` (``powerbi_writer``): the same rules without a BOM, so every tool sees the
  first header as ``row_key`` and not ``\\ufeffrow_key``.

Values need no conversion here: ``str`` of a ``date`` is ISO 8601 and of a 3-place ``Decimal``
is its exact digits, which is what the csv module writes. Only text columns are inspected, for the
formula-injection guard (``cells.guard_csv``). That is what keeps this within a few percent of the
bare csv module.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

from deskops_desktop.export.cells import DANGEROUS_PREFIXES, guard_csv
from deskops_desktop.export.files import FileResult, atomic_output, digest
from deskops_desktop.export.progress import RowTicker
from deskops_desktop.export.table import NO_DATA, ColumnKind, ExportTable
from deskops_desktop.models.progress import Progress

_TEXT_KINDS = (ColumnKind.TEXT, ColumnKind.LEVEL)


def write_csv(
    table: ExportTable, target: Path, progress: Progress, *, bom: bool = True
) -> FileResult:
    """Write ``table`` as RFC 4180 csv to ``target`` (atomically)."""
    progress.set_status("Writing rows…")
    ticker = RowTicker(progress, table.row_count, 0, 95)
    text_columns = tuple(
        i for i, c in enumerate(table.columns) if c.kind in _TEXT_KINDS and c.guard
    )
    danger = DANGEROUS_PREFIXES
    count = 0
    with atomic_output(target) as (temp, published):
        with temp.open("w", encoding="utf-8-sig" if bom else "utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\r\n")
            writer.writerow([c.header if bom else c.key for c in table.columns])
            writerow = writer.writerow
            for row in table.rows:
                for i in text_columns:
                    value = row[i]
                    if value and value[0] in danger:
                        writerow(_guarded(row, text_columns))
                        break
                else:
                    writerow(row)
                count += 1
                if not count & 511:  # a progress checkpoint every 512 rows, not a call per row
                    ticker.tick(512)
            ticker.tick(count & 511)  # the rows since the last checkpoint
            if count == 0:
                writer.writerow([NO_DATA])
        ticker.checkpoint()
    sha, size = digest(published[0])
    progress.set_progress(100)
    return FileResult(published[0], size, sha, count)


def _guarded(row: tuple[Any, ...], text_columns: tuple[int, ...]) -> list[Any]:
    out = list(row)
    for i in text_columns:
        value = out[i]
        if isinstance(value, str):
            out[i] = guard_csv(value)
    return out
