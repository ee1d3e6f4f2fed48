"""How quantities, units and errors read to people: one rule for every screen, file and CLI line.

DOMAIN.md's display precision: tons show 2 decimals in summaries, loads 0, anything else 3;
entry tables and csv show the exact 3 decimals. Rounding is half-up on the exact ``Decimal``
(never through a float), so a figure on a page equals the same figure in an export.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from deskops_desktop.models.enums import UOM_SUMMARY_DECIMALS, UOM_SYMBOL
from deskops_desktop.models.types import from_milli

EXACT_PLACES = 3


def unit_symbol(uom: str) -> str:
    """``TON`` -> ``t``, ``LOAD`` -> ``loads``; an unknown unit in lower case."""
    return UOM_SYMBOL.get(uom, uom.lower())


def summary_places(uom: str) -> int:
    """Decimals a summary shows for ``uom`` (TON 2, LOAD 0, otherwise the exact 3)."""
    return UOM_SUMMARY_DECIMALS.get(uom, EXACT_PLACES)


def rounded(value: Decimal, places: int) -> Decimal:
    """``value`` rounded half-up to ``places`` decimals."""
    return value.quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)


def grouped(value: Decimal, places: int) -> str:
    """People's number text: ``1234.5`` -> ``1,234.500`` (exact, half-up)."""
    return f"{rounded(value, places):,.{places}f}"


def summary(value: Decimal, uom: str, *, unit: bool = False) -> str:
    """A summary figure in the unit's precision: ``1,240.50`` (``1,240.50 t`` with ``unit``)."""
    text = grouped(value, summary_places(uom))
    return f"{text} {unit_symbol(uom)}" if unit else text


def summary_milli(value_m: int, uom: str, *, unit: bool = False) -> str:
    """``summary`` of integer thousandths (the ledger's storage form)."""
    return summary(from_milli(value_m), uom, unit=unit)


def exact_milli(value_m: int) -> str:
    """Thousandths as the exact 3-decimal text of csv files: ``120500`` -> ``120.500``."""
    return f"{from_milli(value_m):.{EXACT_PLACES}f}"


def first_line(error: BaseException | str, limit: int = 300) -> str:
    """The first line of an error's text (a driver's message often runs to a paragraph)."""
    text = str(getattr(error, "orig", None) or error) if isinstance(error, BaseException) else error
    lines = text.strip().splitlines()
    return (lines[0] if lines else "")[:limit]
