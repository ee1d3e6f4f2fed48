"""The overview's figures as frozen values (integers of thousandths of a ton, hundredths of an
hour; the ratios computed with the mass balance's formulas)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from deskops_desktop.services.mass_balance import diversion_of, per_hour, yield_of
from deskops_desktop.services.reference import SiteInfo


@dataclass(frozen=True, slots=True)
class SiteFigures:
    """One site (or the company) over one period. Tons are integer thousandths, hours
    hundredths."""

    date_from: date
    date_to: date
    stock_tons_m: int = 0
    stock_deemed_m: int = 0
    stock_no_factor_loads_m: int = 0
    low_materials: int = 0
    produced_m: int = 0
    sold_m: int = 0
    disposal_m: int = 0
    received_m: int = 0
    fed_m: int = 0
    crusher_hours_c: int = 0
    days_not_entered: int = 0
    no_factor_records: int = 0

    @property
    def yield_ratio(self) -> Decimal | None:
        return yield_of(self.produced_m, self.fed_m)

    @property
    def diversion_percent(self) -> Decimal | None:
        return diversion_of(self.received_m, self.disposal_m)

    @property
    def tons_per_crusher_hour(self) -> Decimal | None:
        return per_hour(self.produced_m, self.crusher_hours_c)

    @property
    def complete(self) -> bool:
        """Every LOAD record and closing had a factor (every ton is counted)."""
        return self.no_factor_records == 0 and self.stock_no_factor_loads_m == 0

    def plus(self, other: SiteFigures) -> SiteFigures:
        """The sum of two sites' figures (ratios are recomputed from the sums)."""
        return SiteFigures(
            self.date_from,
            self.date_to,
            *(
                getattr(self, name) + getattr(other, name)
                for name in (
                    "stock_tons_m",
                    "stock_deemed_m",
                    "stock_no_factor_loads_m",
                    "low_materials",
                    "produced_m",
                    "sold_m",
                    "disposal_m",
                    "received_m",
                    "fed_m",
                    "crusher_hours_c",
                    "days_not_entered",
                    "no_factor_records",
                )
            ),
        )


@dataclass(frozen=True, slots=True)
class SiteOverview:
    """A site's line: this period and the previous one."""

    site: SiteInfo
    current: SiteFigures
    previous: SiteFigures


@dataclass(frozen=True)
class CompanyOverview:
    """Every visible site's line, by site code, and the company's total."""

    date_from: date
    date_to: date
    previous_from: date
    previous_to: date
    sites: tuple[SiteOverview, ...]
    total: SiteFigures
    previous_total: SiteFigures
