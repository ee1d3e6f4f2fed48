"""Loads in tons: dated conversion factors and the deemed tons of one record (pure, exact).

A LOAD record's tons are its quantity times the tons-per-load factor valid on its date: the
site's own factor when it has one for that material and date, else the company's (DOMAIN.md,
"Mass balance"). The product of two 3-place decimals has up to 6 places; a record's deemed tons
are rounded half away from zero to 3 places, once, and every total is the sum of those rounded
record figures — so a column of deemed tons adds up to its total to the last digit, in the app
and in every export. Nothing is stored: changing a factor re-derives every record it covers.

Integers are thousandths (milli-units), as everywhere in the ledger.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import NamedTuple

from deskops_desktop.models.enums import MassDetermination, Uom


class Factor(NamedTuple):
    """One dated factor as the table needs it (``site_id`` None: company-wide)."""

    material_id: str
    site_id: str | None
    valid_from: date
    tons_per_load_m: int


class Tonnage(NamedTuple):
    """The tons of one record and how they were found (``tons_m`` None: no factor)."""

    tons_m: int | None
    mass: MassDetermination


def deemed_milli(quantity_m: int, tons_per_load_m: int) -> int:
    """``quantity × factor`` in thousandths, rounded half away from zero (exact integers)."""
    product = quantity_m * tons_per_load_m  # millionths
    magnitude = (abs(product) + 500) // 1000
    return magnitude if product >= 0 else -magnitude


@dataclass(frozen=True)
class FactorTable:
    """The factors of one site (its own and the company's), answering "factor on this day"."""

    # material_id -> ([valid_from ...], [tons_per_load_m ...]) sorted by date, per scope.
    _site: dict[str, tuple[list[date], list[int]]] = field(default_factory=dict)
    _company: dict[str, tuple[list[date], list[int]]] = field(default_factory=dict)

    @classmethod
    def of(cls, site_id: str, factors: Iterable[Factor]) -> FactorTable:
        """The table for ``site_id`` from any factors (other sites' are ignored)."""
        site: dict[str, list[tuple[date, int]]] = {}
        company: dict[str, list[tuple[date, int]]] = {}
        for f in factors:
            if f.site_id is None:
                company.setdefault(f.material_id, []).append((f.valid_from, f.tons_per_load_m))
            elif f.site_id == site_id:
                site.setdefault(f.material_id, []).append((f.valid_from, f.tons_per_load_m))

        def columns(
            rows: dict[str, list[tuple[date, int]]],
        ) -> dict[str, tuple[list[date], list[int]]]:
            # Two factors from the same day: the later one in the input wins (input is ordered
            # by creation), which sorted() keeps because it is stable.
            out = {}
            for material_id, dated in rows.items():
                dated.sort(key=lambda pair: pair[0])
                out[material_id] = ([d for d, _ in dated], [v for _, v in dated])
            return out

        return cls(columns(site), columns(company))

    def factor_m(self, material_id: str, day: date) -> int | None:
        """Tons per load (thousandths) valid on ``day``: the site's, else the company's."""
        for scope in (self._site, self._company):
            dated = scope.get(material_id)
            if dated is None:
                continue
            index = bisect_right(dated[0], day) - 1
            if index >= 0:
                return dated[1][index]
        return None

    def intervals(self, material_id: str) -> list[tuple[date, date | None, int]]:
        """The factor in force for ``material_id`` as a step function: ``(from, until, factor)``
        with ``until`` exclusive (None: still in force), consecutive equal factors merged.

        Days before the first interval have no factor. What ``factor_m`` answers for any day,
        so a query can convert many records with a join instead of a lookup per record.
        """
        starts = set(self._site.get(material_id, ((), ()))[0])
        starts |= set(self._company.get(material_id, ((), ()))[0])
        steps: list[tuple[date, int]] = []
        for day in sorted(starts):
            factor = self.factor_m(material_id, day)
            if factor is not None and (not steps or steps[-1][1] != factor):
                steps.append((day, factor))
        return [
            (start, steps[n + 1][0] if n + 1 < len(steps) else None, factor)
            for n, (start, factor) in enumerate(steps)
        ]

    def tonnage(self, material_id: str, uom: str, day: date, quantity_m: int) -> Tonnage:
        """The tons of a record of ``quantity_m`` thousandths of a material in ``uom``."""
        if uom == Uom.TON:
            return Tonnage(quantity_m, MassDetermination.WEIGHED)
        factor = self.factor_m(material_id, day)
        if factor is None:
            return Tonnage(None, MassDetermination.NO_FACTOR)
        return Tonnage(deemed_milli(quantity_m, factor), MassDetermination.DEEMED)


NO_FACTORS = FactorTable()


@dataclass
class TonsTotal:
    """A sum of tons that says how much of it is deemed and what could not be converted.

    ``tons_m`` includes ``deemed_m``; ``no_factor_m`` are loads (never added to tons) of records
    without a factor, ``no_factor_records`` how many.
    """

    tons_m: int = 0
    deemed_m: int = 0
    no_factor_m: int = 0
    no_factor_records: int = 0

    def add(self, tonnage: Tonnage, quantity_m: int) -> None:
        if tonnage.tons_m is None:
            self.no_factor_m += quantity_m
            self.no_factor_records += 1
            return
        self.tons_m += tonnage.tons_m
        if tonnage.mass is MassDetermination.DEEMED:
            self.deemed_m += tonnage.tons_m

    def plus(self, other: TonsTotal) -> TonsTotal:
        return TonsTotal(
            self.tons_m + other.tons_m,
            self.deemed_m + other.deemed_m,
            self.no_factor_m + other.no_factor_m,
            self.no_factor_records + other.no_factor_records,
        )
