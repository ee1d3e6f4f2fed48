"""The ``mass-balance`` export: the statement of ``services.mass_balance`` as an export table.

One statement per period of the granularity (a day, a week from Monday, a calendar month, cut to
the requested range), each line a row, so a month's file reads like the page and a year's
monthly file slices in Power BI by ``line_key``. The totals (the Summary sheet and the pdf's last
table) are the headline figures of the whole range — again exactly what the page shows.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

from deskops_desktop.export.table import (
    Column,
    ColumnKind,
    ExportMeta,
    ExportQuery,
    ExportTable,
    Flavour,
    TotalsTable,
)
from deskops_desktop.models.enums import Granularity
from deskops_desktop.models.ledger_math import period_start
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.access import Actor
from deskops_desktop.services.bundle import Services
from deskops_desktop.services.mass_balance import MassBalance, StatementLine, statement

HEADLINE = (
    "received.total",
    "fed.total",
    "produced.total",
    "out.fate.SALE",
    "out.fate.DISPOSAL",
    "out.total",
    "balance.stock_change",
    "balance.process_loss",
    "balance.unexplained",
    "balance.adjustments",
    "kpi.yield",
    "kpi.diversion",
    "kpi.tons_per_crusher_hour",
    "kpi.tons_per_man_hour",
)


def periods(date_from: date, date_to: date, granularity: Granularity) -> list[tuple[date, date]]:
    """``[date_from, date_to]`` cut into days, weeks (Monday first) or calendar months."""
    out: list[tuple[date, date]] = []
    day = date_from
    while day <= date_to:
        start = max(period_start(day, granularity), date_from)
        if granularity is Granularity.DAILY:
            end = day
        elif granularity is Granularity.WEEKLY:
            end = start - timedelta(days=start.weekday()) + timedelta(days=6)
        else:
            end = (start.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
        end = min(end, date_to)
        out.append((start, end))
        day = end + timedelta(days=1)
    return out


def mass_balance_table(
    services: Services, actor: Actor, query: ExportQuery, meta: ExportMeta, flavour: Flavour
) -> ExportTable:
    """Every period's statement as rows; the whole range's headline as totals."""
    pbi = flavour is Flavour.POWERBI
    spans = periods(query.date_from, query.date_to, query.granularity)
    balances = [
        services.mass_balance.mass_balance(actor, query.site_id, first, last)
        for first, last in spans
    ]
    whole = (
        balances[0]
        if len(balances) == 1
        else services.mass_balance.mass_balance(
            actor, query.site_id, query.date_from, query.date_to
        )
    )
    statements = [(mb, statement(mb)) for mb in balances]
    columns: list[Column] = []
    if pbi:
        columns += [
            Column("Row Key", "row_key", width=40),
            Column("Site Code", "site_code", width=len(meta.site_code)),
            Column("Site Name", "site_name", width=len(meta.site_name)),
        ]
    columns += [
        Column("Period Start", "period_start", ColumnKind.DATE, 10),
        Column("Period End", "period_end", ColumnKind.DATE, 10),
    ]
    if pbi:
        columns.append(Column("Granularity", "granularity", width=7, guard=False))
    columns += [
        Column("Section", "section", width=20, guard=False),
        *([Column("Line Key", "line_key", width=30)] if pbi else []),
        Column("Line", "line", width=48),
        Column("Quantity", "quantity", ColumnKind.QUANTITY),
        Column("UOM", "uom", width=4, guard=False),
        Column("Tons", "tons", ColumnKind.QUANTITY),
        Column("Deemed Tons", "deemed_tons", ColumnKind.QUANTITY),
        Column("Figure", "figure", ColumnKind.DECIMAL),
        Column("Figure Unit", "figure_unit", width=8, guard=False),
    ]

    def generate() -> Iterator[tuple[Any, ...]]:
        for mb, lines in statements:
            for line in lines:
                head: tuple[Any, ...] = ()
                if pbi:
                    key = f"{meta.site_code}|{mb.date_from.isoformat()}|{line.key}"
                    head = (key, meta.site_code, meta.site_name)
                middle: tuple[Any, ...] = (mb.date_from, mb.date_to)
                if pbi:
                    middle = (*middle, query.granularity.value)
                yield (*head, *middle, line.section, *((line.key,) if pbi else ()), *_values(line))

    def totals() -> TotalsTable:
        return headline_totals(whole)

    row_count = sum(len(lines) for _, lines in statements)
    return ExportTable(meta, columns, generate(), row_count, totals)


def _values(line: StatementLine) -> tuple[Any, ...]:
    return (
        line.label,
        None if line.quantity_m is None else from_milli(line.quantity_m),
        line.uom or None,
        None if line.tons_m is None else from_milli(line.tons_m),
        None if line.deemed_m is None else from_milli(line.deemed_m),
        line.figure,
        line.figure_unit or None,
    )


def headline_totals(mb: MassBalance) -> TotalsTable:
    """The headline of one mass balance (Summary sheet, the pdf's totals)."""
    by_key = {line.key: line for line in statement(mb)}
    rows: list[tuple[Any, ...]] = []
    for key in HEADLINE:
        line = by_key.get(key)
        if line is None:  # a fate with no dispatch in the period
            continue
        tons = None if line.tons_m is None else from_milli(line.tons_m)
        rows.append((line.label, tons, line.figure, line.figure_unit or None))
    columns = (
        Column("Line", "line"),
        Column("Tons", "tons", ColumnKind.QUANTITY),
        Column("Figure", "figure", ColumnKind.DECIMAL),
        Column("Unit", "unit"),
    )
    return TotalsTable(columns, tuple(rows))
