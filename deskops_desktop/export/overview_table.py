"""The company overview as an export table: one row per site, each figure and its previous.

Why a function and not a ``Module``: every module is one site's data behind the export dialog's
site picker and ``ExportQuery``'s one ``site_id``; the overview is all sites at once. So it is
built from the overview value the page already holds (no second read) and handed to any writer:
``write_xlsx(overview_table(ov, now, "Ana"), path, progress)``, the pdf with ``long=True``.
Its totals (the Summary sheet, the pdf's last table) are the company's line, this period and the
previous one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from decimal import Decimal
from typing import Any

from deskops_desktop.export.table import (
    Column,
    ColumnKind,
    ExportMeta,
    ExportTable,
    TotalsTable,
)
from deskops_desktop.models.enums import Granularity
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.dashboard.maths import percent_change
from deskops_desktop.services.overview import CompanyOverview, SiteFigures

HEADING = "Company overview"

# (header, key, kind, value of a SiteFigures)
FIGURES: tuple[tuple[str, str, ColumnKind, Callable[[SiteFigures], Any]], ...] = (
    ("Stock t", "stock_tons", ColumnKind.QUANTITY, lambda f: from_milli(f.stock_tons_m)),
    (
        "Stock Deemed t",
        "stock_deemed_tons",
        ColumnKind.QUANTITY,
        lambda f: from_milli(f.stock_deemed_m),
    ),
    ("LOW Materials", "low_materials", ColumnKind.INTEGER, lambda f: f.low_materials),
    ("Production t", "production_tons", ColumnKind.QUANTITY, lambda f: from_milli(f.produced_m)),
    ("Sales t", "sales_tons", ColumnKind.QUANTITY, lambda f: from_milli(f.sold_m)),
    ("Disposal t", "disposal_tons", ColumnKind.QUANTITY, lambda f: from_milli(f.disposal_m)),
    ("Yield t/t", "yield", ColumnKind.DECIMAL, lambda f: f.yield_ratio),
    ("Diversion %", "diversion_percent", ColumnKind.DECIMAL, lambda f: f.diversion_percent),
    (
        "t per Crusher Hour",
        "tons_per_crusher_hour",
        ColumnKind.DECIMAL,
        lambda f: f.tons_per_crusher_hour,
    ),
    ("Days Not Entered", "days_not_entered", ColumnKind.INTEGER, lambda f: f.days_not_entered),
)


def overview_table(
    overview: CompanyOverview,
    generated_at: datetime,
    generated_by: str,
    *,
    long: bool = False,
) -> ExportTable:
    """``overview`` as rows, sites by code.

    Wide (the default; xlsx, csv, Power BI): one row per site, each figure beside its previous
    one, so a spreadsheet sorts sites by any figure. ``long`` (the pdf, whose A4 page cannot
    hold twenty numeric columns): one row per site and figure with this period, the previous
    one and the change in percent (the dashboard's rule: "—" when the previous is 0).
    """
    period = f"{overview.previous_from} to {overview.previous_to}"
    meta = ExportMeta(
        module=None,
        granularity=Granularity.DAILY,
        site_code="ALL",
        site_name=f"{len(overview.sites)} sites",
        site_timezone="UTC",
        date_from=overview.date_from,
        date_to=overview.date_to,
        generated_at=generated_at,
        generated_by=generated_by,
        filters=(("Previous period", period),),
        heading=HEADING,
    )
    code_width = max((len(s.site.code) for s in overview.sites), default=8)
    name_width = max((len(s.site.name) for s in overview.sites), default=8)
    columns = [
        Column("Site Code", "site_code", width=code_width),
        Column("Site Name", "site_name", width=name_width),
    ]
    if long:
        columns += [
            Column("Figure", "figure", width=max(len(f[0]) for f in FIGURES), guard=False),
            Column("This Period", "current", ColumnKind.DECIMAL),
            Column("Previous Period", "previous", ColumnKind.DECIMAL),
            Column("Change %", "change_percent", ColumnKind.DECIMAL),
        ]
        rows = _long_rows(overview)
        count = len(overview.sites) * len(FIGURES)
    else:
        for header, key, kind, _value in FIGURES:
            columns.append(Column(header, key, kind))
            columns.append(Column(f"{header} (Previous)", f"{key}_previous", kind))
        columns.append(Column("Complete", "complete", width=3, guard=False))
        rows = _wide_rows(overview)
        count = len(overview.sites)

    def totals() -> TotalsTable:
        cols = (
            Column("Figure", "figure"),
            Column("This Period", "current", ColumnKind.DECIMAL),
            Column("Previous Period", "previous", ColumnKind.DECIMAL),
        )
        table = tuple(
            (header, _decimal(value(overview.total)), _decimal(value(overview.previous_total)))
            for header, _key, _kind, value in FIGURES
        )
        return TotalsTable(cols, table)

    return ExportTable(meta, columns, rows, count, totals)


def _wide_rows(overview: CompanyOverview) -> Iterator[tuple[Any, ...]]:
    for line in overview.sites:
        pairs = [
            v
            for _h, _k, _kind, value in FIGURES
            for v in (value(line.current), value(line.previous))
        ]
        yield (line.site.code, line.site.name, *pairs, "yes" if line.current.complete else "no")


def _long_rows(overview: CompanyOverview) -> Iterator[tuple[Any, ...]]:
    for line in overview.sites:
        for header, _key, _kind, value in FIGURES:
            now, before = _decimal(value(line.current)), _decimal(value(line.previous))
            change = None if now is None or before is None else percent_change(now, before)
            yield (line.site.code, line.site.name, header, now, before, change)


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(value)
