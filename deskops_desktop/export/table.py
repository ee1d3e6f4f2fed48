"""The shapes every export is made of: columns, meta data, the single-use table, the query.

``rows`` (records and the ledger) and ``mass_balance_table`` build ``ExportTable`` values; the
writers (xlsx, csv, Power BI csv, pdf) consume them and never touch the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from deskops_desktop.models.enums import ExportFormat, Granularity, Module

NO_DATA = "No data for the selected period"


class Flavour(StrEnum):
    """Human columns (xlsx, csv, pdf: the import headers) or Power BI columns (snake_case)."""

    HUMAN = "human"
    POWERBI = "powerbi"

    @staticmethod
    def of(fmt: ExportFormat) -> Flavour:
        """The columns a file of format ``fmt`` is written with."""
        return Flavour.POWERBI if fmt is ExportFormat.POWERBI else Flavour.HUMAN


class ColumnKind(StrEnum):
    """How a writer formats a column (text, date, quantity, hours, integer, level)."""

    TEXT = "text"
    DATE = "date"
    QUANTITY = "quantity"  # Decimal, 3 places
    HOURS = "hours"  # Decimal, 2 places
    INTEGER = "integer"
    LEVEL = "level"  # LOW / WARNING / HEALTHY
    DECIMAL = "decimal"  # Decimal with the places it carries (a ratio, a percent, t/h)


NUMERIC_KINDS = frozenset(
    {ColumnKind.QUANTITY, ColumnKind.HOURS, ColumnKind.INTEGER, ColumnKind.DECIMAL}
)


@dataclass(frozen=True)
class Column:
    """One output column: the header people read, the Power BI name, the kind of value.

    ``width`` is the widest value the column can hold when that is known in advance (codes and
    names from master data); 0 means the writer measures the content. ``guard`` is False for
    closed vocabularies (shifts, operations, categories, units, levels): their values are
    validated words that cannot start like a formula, so the csv writer skips checking them.
    """

    header: str
    key: str
    kind: ColumnKind = ColumnKind.TEXT
    width: int = 0
    guard: bool = True
    label: str = ""

    @property
    def title(self) -> str:
        """What a report shows above the column: the form's label ("Customer") where the
        import header ("Owner") must stay in files that are imported again."""
        return self.label or self.header


@dataclass(frozen=True)
class TotalsTable:
    """Totals per category/unit (or equipment type, role) and per unit, never mixing units."""

    columns: tuple[Column, ...]
    rows: tuple[tuple[Any, ...], ...]


@dataclass(frozen=True)
class ExportMeta:
    """What the reader of a file must know about it (Summary sheet, pdf title block).

    ``module`` is None for a table that is no module's (the company overview); ``heading`` then
    names it. ``reproducible`` asks the writers for files whose bytes depend on the rows and
    this meta data alone: ``generated_at`` (then "as of", a moment derived from the period, not
    the clock) stands in for every time a format stores — the xlsx core properties and zip entry
    times, the pdf CreationDate and document ID — so a report pack rebuilt for the same period
    gives byte-identical files.
    """

    module: Module | None
    granularity: Granularity
    site_code: str
    site_name: str
    site_timezone: str
    date_from: date
    date_to: date
    generated_at: datetime
    generated_by: str
    filters: tuple[tuple[str, str], ...] = ()
    heading: str = ""
    reproducible: bool = False

    @property
    def name(self) -> str:
        """What the file is ("Production", "Company overview")."""
        if self.heading or self.module is None:
            return self.heading or "Export"
        return self.module.heading

    @property
    def title(self) -> str:
        if self.module is None:  # no granularity to speak of (the overview)
            return self.name
        return f"{self.name} – {self.granularity.value}"

    @property
    def report_heading(self) -> str:
        """The pdf's heading: "Production report – daily", "Company overview"."""
        if self.module is None:
            return self.name
        return f"{self.name} report – {self.granularity.value}"

    @property
    def generated_label(self) -> str:
        """ "Generated at", or "As of" for a reproducible file (its time is the period's)."""
        return "As of" if self.reproducible else "Generated at"

    @property
    def period(self) -> str:
        return f"{self.date_from.isoformat()} to {self.date_to.isoformat()}"

    @property
    def generated_local(self) -> str:
        """Generation time in the site's time zone, e.g. ``2026-11-27 12:00 (Asia/Riyadh)``."""
        from zoneinfo import ZoneInfo

        local = self.generated_at.astimezone(ZoneInfo(self.site_timezone))
        return f"{local:%Y-%m-%d %H:%M} ({self.site_timezone})"


class ExportTable:
    """Columns, a single-use row iterator, the row count, and totals known after the rows.

    Attributes:
        level_columns: for inventory, the indexes of (closing, low threshold, high threshold)
            so the xlsx writer can colour the closing by level; None otherwise.
    """

    def __init__(
        self,
        meta: ExportMeta,
        columns: Sequence[Column],
        rows: Iterator[tuple[Any, ...]],
        row_count: int,
        totals: Callable[[], TotalsTable],
        level_columns: tuple[int, int, int] | None = None,
    ) -> None:
        self.meta = meta
        self.columns = tuple(columns)
        self._rows = rows
        self.row_count = row_count
        self._totals = totals
        self.level_columns = level_columns
        self._consumed = False

    @property
    def rows(self) -> Iterator[tuple[Any, ...]]:
        if self._consumed:
            raise RuntimeError("the rows of an ExportTable can be read only once")
        self._consumed = True
        return self._rows

    def totals(self) -> TotalsTable:
        """Totals of every row; complete only after ``rows`` was consumed."""
        return self._totals()

    def reproducible(self, as_of: datetime, by: str) -> ExportTable:
        """This table, its files to be byte-identical run to run: stamped ``as_of`` and
        ``by`` instead of the clock and the signed-in user (report packs)."""
        self.meta = replace(self.meta, generated_at=as_of, generated_by=by, reproducible=True)
        return self


@dataclass(frozen=True)
class ExportQuery:
    """Which rows: module, site, inclusive date range, granularity, optional material category."""

    module: Module
    site_id: str
    date_from: date
    date_to: date
    granularity: Granularity = Granularity.DAILY
    category: str | None = None

    def filters(self) -> tuple[tuple[str, str], ...]:
        out = [("Granularity", self.granularity.value.title())]
        if self.module in MATERIAL_MODULES:
            out.append(("Category", self.category or "All categories"))
        return tuple(out)


MATERIAL_MODULES = frozenset(
    {
        Module.PRODUCTION,
        Module.DISPATCH,
        Module.RECEIVED,
        Module.FEED,
        Module.INVENTORY,
        Module.ADJUSTMENTS,
    }
)


# --------------------------------------------------------------------------- plain tables
@dataclass
class StaticSource:
    """Rows already in memory (tests, the benchmark): an ``ExportTable`` without a database."""

    meta: ExportMeta
    columns: Sequence[Column]
    rows: Sequence[tuple[Any, ...]] = field(default_factory=list)
    totals: TotalsTable = field(default_factory=lambda: TotalsTable((), ()))
    level_columns: tuple[int, int, int] | None = None

    def table(self) -> ExportTable:
        return ExportTable(
            self.meta,
            self.columns,
            iter(self.rows),
            len(self.rows),
            lambda: self.totals,
            self.level_columns,
        )
