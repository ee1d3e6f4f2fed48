"""Maintained daily stock balances: the ledger's fast path.

Invariant (proved by property tests against ``services.ledger.recompute``): for every site,
material and day that has a row, ``closing`` equals the sum of all flows
(produced + received - dispatched - fed + adjustment) of that site and material up to and including
that day. A day without a row has no movement: its opening and closing equal the closing of the
latest earlier row (0 before any). Rows are changed only by ``services.ledger_writer`` inside
the same transaction as the record write that causes them.

All quantities here are raw integer thousandths (not ``Milli``) because the ledger is read in
bulk on the hot path and summed in SQL; convert with ``types.from_milli`` at the edge.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import BigInteger, Date, ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from deskops_desktop.models.base import ID, Base

# The figures of a ledger row, in the order every table, file and CLI line shows them.
LEDGER_FIGURES = ("Opening", "Produced", "Received", "Dispatched", "Fed", "Adjustment", "Closing")


class StockDay(Base):
    """The maintained ledger row of a site, material and day (flows and closing, thousandths)."""

    __tablename__ = "stock_days"
    # WITHOUT ROWID on SQLite: rows clustered by (site, material, day), so a back-dated
    # roll-forward rewrites a few contiguous pages instead of one page per later day.
    __table_args__ = (
        Index("ix_stock_days_site_day", "site_id", "day"),
        {"sqlite_with_rowid": False},
    )

    site_id: Mapped[str] = mapped_column(ID, ForeignKey("sites.id"), primary_key=True)
    material_id: Mapped[str] = mapped_column(ID, ForeignKey("materials.id"), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    produced: Mapped[int] = mapped_column(BigInteger, default=0)
    received: Mapped[int] = mapped_column(BigInteger, default=0)
    dispatched: Mapped[int] = mapped_column(BigInteger, default=0)
    fed: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    adjustment: Mapped[int] = mapped_column(BigInteger, default=0)
    closing: Mapped[int] = mapped_column(BigInteger, default=0)


# A stored row's figures as the ledger check and the Power BI stock table read them: the flows in
# ``ledger_writer.FLOW_COLUMNS`` order, then the closing (thousandths).
STORED_FIGURES = (
    StockDay.produced,
    StockDay.received,
    StockDay.dispatched,
    StockDay.fed,
    StockDay.adjustment,
    StockDay.closing,
)
