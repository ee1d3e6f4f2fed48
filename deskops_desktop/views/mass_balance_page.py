"""Mass balance: where the site's tons came from and went in the header's period.

The page shows ``services.mass_balance``'s statement line for line — the same lines, labels and
digits as ``deskops report mass-balance`` and the ``mass-balance`` export (tons exact to 3
decimals, ratios in the precision the service computes them), under a headline of the figures
a plant manager reads first. It reads through the data gateway and never computes a figure of
its own: what it shows cannot drift from the files.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QPushButton,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from deskops_desktop.models.display import grouped, unit_symbol
from deskops_desktop.models.enums import Module
from deskops_desktop.models.types import from_milli
from deskops_desktop.services.changes import Area
from deskops_desktop.services.gateway import DataGateway
from deskops_desktop.services.mass_balance import MassBalance, StatementLine, statement
from deskops_desktop.views.page import Page
from deskops_desktop.views.theme import tabular_font
from deskops_desktop.views.widgets import figure_label, fit_columns, header_row, label, row_table

COLUMNS = ("Line", "Quantity", "Unit", "Tons", "of which deemed", "Figure")
# The headline tiles: (statement key, title). Tons tiles show tons, indicator tiles a figure.
HEADLINE = (
    ("received.total", "Received"),
    ("fed.total", "Fed to the crushers"),
    ("produced.total", "Produced"),
    ("out.total", "Out (all fates)"),
    ("balance.stock_change", "Change in stock"),
    ("balance.unexplained", "Unexplained difference"),
    ("kpi.yield", "Yield"),
    ("kpi.diversion", "Diversion rate"),
)


def tons_text(value_m: int | None) -> str:
    """Tons as every report prints them: grouped, exact to 3 decimals."""
    return "" if value_m is None else grouped(from_milli(value_m), 3)


def figure_text(line: StatementLine) -> str:
    if line.figure is None:
        return "—" if line.section == "Indicators" else ""
    return f"{line.figure:,} {line.figure_unit}".strip()


def cells(line: StatementLine) -> tuple[str, ...]:
    """One statement line as the table's cells (the CLI prints the same texts)."""
    return (
        line.label,
        "" if line.quantity_m is None else grouped(from_milli(line.quantity_m), 3),
        unit_symbol(line.uom) if line.uom else "",
        tons_text(line.tons_m),
        tons_text(line.deemed_m) if line.deemed_m else "",
        figure_text(line),
    )


class _Tile(QFrame):
    """A headline figure: a muted title over a large number."""

    def __init__(self, title: str) -> None:
        super().__init__()
        self.setProperty("role", "card")
        self.title = label(title, "muted")
        self.value = figure_label(1.3)
        self.value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        layout.setSpacing(2)
        layout.addWidget(self.title)
        layout.addWidget(self.value)


class MassBalancePage(Page):
    """The mass balance of the header's site and period (a ``Page``: reads, never writes).

    Signals: see ``Page`` (``export_requested`` carries ``Module.MASS_BALANCE``).
    """

    # Every flow, and equipment and manpower hours (tons per hour); factors are master data.
    areas = frozenset(
        {
            Area.LEDGER,
            Area.RECEIVED,
            Area.FEED,
            Area.PRODUCTION,
            Area.DISPATCH,
            Area.ADJUSTMENTS,
            Area.EQUIPMENT,
            Area.MANPOWER,
        }
    )

    def __init__(self, data: DataGateway, parent: QWidget | None = None) -> None:
        super().__init__(data, parent)
        self.balance: MassBalance | None = None
        self.lines: tuple[StatementLine, ...] = ()
        title = label("Mass balance", "title")
        self.period = label("", "muted")
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Export the mass balance (xlsx, csv, Power BI csv, pdf)")
        head = header_row([title, self.period], [self.export_button])

        self.tiles = {key: _Tile(text) for key, text in HEADLINE}
        tiles = QGridLayout()
        tiles.setSpacing(8)
        for n, tile in enumerate(self.tiles.values()):
            tiles.addWidget(tile, n // 4, n % 4)
        # Beside the unexplained difference, what it must equal; a warning when it does not.
        self.explanation = label("", "muted")
        self.explanation.setWordWrap(True)
        self.warning = label("", "error")
        self.warning.setWordWrap(True)
        self.warning.hide()

        self.table = row_table(COLUMNS, single=False)
        self.table.setObjectName("mass_balance_table")
        fit_columns(self.table, stretch=0)
        self.table.verticalHeader().setDefaultSectionSize(24)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 12)
        layout.addLayout(head)
        layout.addLayout(tiles)
        layout.addWidget(self.explanation)
        layout.addWidget(self.warning)
        layout.addWidget(self.table, 1)
        self.export_button.clicked.connect(lambda: self.export_requested.emit(Module.MASS_BALANCE))

    # ---------------------------------------------------------------- contract
    def reload(self) -> None:
        ctx = self._context
        if ctx is None:
            return
        site_id, start, end = ctx.site.id, ctx.date_from, ctx.date_to
        # Not cached: equipment and manpower hours feed the ratios too, and a read is ~10 ms.
        mb = self._data.read(lambda s, a: s.mass_balance.mass_balance(a, site_id, start, end))
        self.show_balance(mb)

    def focus_first(self) -> None:
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)

    # ---------------------------------------------------------------- showing
    def show_balance(self, mb: MassBalance) -> None:
        self.balance = mb
        self.lines = statement(mb)
        self.period.setText(
            f"{mb.site.code} · {mb.date_from.isoformat()} to {mb.date_to.isoformat()}"
            " · tons, loads converted with the factor of their date"
        )
        by_key = {line.key: line for line in self.lines}
        for key, tile in self.tiles.items():
            line = by_key.get(key)
            if line is None:
                tile.value.setText("—")
            elif line.section == "Indicators":
                tile.value.setText(figure_text(line))
            else:
                tile.value.setText(f"{tons_text(line.tons_m)} t")
        adjustments = mb.adjustments.tons_m
        self.explanation.setText(
            f"Unexplained = received − out − change in stock − process loss"
            f" ({tons_text(mb.process_loss_m)} t). It equals minus the period's net stock"
            f" adjustments ({tons_text(adjustments)} t) when every record is complete."
        )
        problems = []
        if mb.unexplained_m != -adjustments:
            problems.append(
                "The unexplained difference is not minus the net adjustments: the stored"
                " balances may differ from the records (Settings → Check ledger)."
            )
        if not mb.complete:
            gaps = ", ".join(
                f"{gap.material_code} ({gap.records} {gap.module.heading.lower()} records)"
                for gap in mb.no_factor
            )
            problems.append(
                f"Incomplete: loads without a conversion factor are not in these tons — {gaps}."
                " An administrator sets factors under Settings → Conversion factors."
            )
        self.warning.setText("\n".join(problems))
        self.warning.setVisible(bool(problems))
        self._fill_table()

    def _fill_table(self) -> None:
        rows: list[tuple[str, StatementLine | None]] = []
        section = ""
        for line in self.lines:
            if line.section != section:
                section = line.section
                rows.append((section, None))
            rows.append((section, line))
        self.table.setRowCount(len(rows))
        numbers = tabular_font()
        for r, (section_name, entry) in enumerate(rows):
            if entry is None:
                item = QTableWidgetItem(section_name)
                bold = QFont(item.font())
                bold.setBold(True)
                item.setFont(bold)
                self.table.setItem(r, 0, item)
                for c in range(1, len(COLUMNS)):
                    self.table.setItem(r, c, QTableWidgetItem(""))
                continue
            line = entry
            for c, text in enumerate(cells(line)):
                item = QTableWidgetItem(("    " + text) if c == 0 else text)
                if c in (1, 3, 4, 5):
                    item.setTextAlignment(
                        Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
                    )
                    item.setFont(numbers)
                if line.total:
                    font = QFont(item.font())
                    font.setBold(True)
                    item.setFont(font)
                self.table.setItem(r, c, item)

    def cell_texts(self) -> list[tuple[str, ...]]:
        """The table as text, line rows only (what a test compares with the files)."""
        return [cells(line) for line in self.lines]
