"""Closed vocabularies of the domain.

Values are stored as their string value, so the database stays readable from any SQL client and
Power BI; never renumber or rename a value without a migration.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    OPERATOR = "OPERATOR"
    MODERATOR = "MODERATOR"
    ADMIN = "ADMIN"


class Shift(StrEnum):
    MORNING = "MORNING"
    AFTERNOON = "AFTERNOON"
    NIGHT = "NIGHT"


SHIFT_HOURS = 8


class Operation(StrEnum):
    CRU_PRO = "CRU-PRO"
    CRU_DIS = "CRU-DIS"
    SEG_OP = "SEG-OP"
    CRU_OP = "CRU-OP"


OPERATION_NAMES: dict[Operation, str] = {
    Operation.CRU_PRO: "Crushing – Production",
    Operation.CRU_DIS: "Crushing – Disposal",
    Operation.SEG_OP: "Segregation Operation",
    Operation.CRU_OP: "Crushing Operation",
}


class EquipmentType(StrEnum):
    CRUSHING_SCREENING = "CRUSHING_SCREENING"
    EARTH_MOVING = "EARTH_MOVING"
    HAULING = "HAULING"
    AUXILIARY = "AUXILIARY"


class EquipmentStatus(StrEnum):
    OPERATIONAL = "OPERATIONAL"
    MAINTENANCE = "MAINTENANCE"
    BREAKDOWN = "BREAKDOWN"
    IDLE = "IDLE"


class AdjustmentReason(StrEnum):
    OPENING_BALANCE = "OPENING_BALANCE"
    STOCK_COUNT = "STOCK_COUNT"
    CORRECTION = "CORRECTION"
    LOSS = "LOSS"


class Category(StrEnum):
    AGGREGATES = "AGGREGATES"
    FINE = "FINE"
    SPECIALTY = "SPECIALTY"
    PROCESSED_BASE = "PROCESSED_BASE"
    RAW_FEED = "RAW_FEED"


class Uom(StrEnum):
    TON = "TON"
    LOAD = "LOAD"


# The plant's ratios (the mass balance's yield, tons per crusher hour, per man-hour) are shown
# in the precision the mass balance computes them in, on cards as in every report.
RATIO_UNITS: dict[str, int] = {"t/t": 3, "t/h": 2, "t/man-h": 2}
UOM_SUMMARY_DECIMALS: dict[str, int] = {Uom.TON: 2, Uom.LOAD: 0, **RATIO_UNITS}
UOM_SYMBOL: dict[str, str] = {Uom.TON: "t", Uom.LOAD: "loads"}


class Fate(StrEnum):
    """Where a dispatched load went (every dispatch has one; "sold" means ``SALE``)."""

    SALE = "SALE"
    TRANSFER = "TRANSFER"  # to another site of the company
    DISPOSAL = "DISPOSAL"  # landfill, residue, rejects
    BY_PRODUCT = "BY_PRODUCT"  # scrap steel, wood and the like, sold
    USED_ON_SITE = "USED_ON_SITE"


FATE_NAMES: dict[Fate, str] = {
    Fate.SALE: "Sale",
    Fate.TRANSFER: "Transfer",
    Fate.DISPOSAL: "Disposal",
    Fate.BY_PRODUCT: "By-product",
    Fate.USED_ON_SITE: "Used on site",
}
FATE_HINTS: dict[Fate, str] = {
    Fate.SALE: "sold to a customer (the dashboard's Sold)",
    Fate.TRANSFER: "moved to another site of the company",
    Fate.DISPOSAL: "landfill, residue, rejects",
    Fate.BY_PRODUCT: "scrap steel, wood and the like, sold",
    Fate.USED_ON_SITE: "used at this site (haul roads, pads)",
}


class MassDetermination(StrEnum):
    """How the tons of a record were found (what regulators ask to be declared)."""

    WEIGHED = "WEIGHED"  # entered in tons
    DEEMED = "DEEMED"  # entered in loads, converted with the factor valid on its date
    NO_FACTOR = "NO_FACTOR"  # entered in loads, and no factor covers its date: no tons


class Level(StrEnum):
    LOW = "LOW"
    WARNING = "WARNING"
    HEALTHY = "HEALTHY"


class Granularity(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Module(StrEnum):
    """The one name of every kind of thing the app shows, exports and imports.

    The record modules a clerk enters (``RECORD_MODULES``: each has a ``ModuleSpec``) and the
    stock ledger, ``INVENTORY``, which is computed from them. Services, exports, pages and the
    command line all use this one enum; a page for a module is keyed by the module itself.
    """

    PRODUCTION = "production"
    DISPATCH = "dispatch"
    RECEIVED = "received"
    EQUIPMENT = "equipment"
    MANPOWER = "manpower"
    ADJUSTMENTS = "adjustments"
    FEED = "feed"
    INVENTORY = "inventory"
    MASS_BALANCE = "mass-balance"

    @property
    def heading(self) -> str:
        """The name people read ("Production", "Inventory")."""
        return _MODULE_TITLES[self]

    @property
    def is_record(self) -> bool:
        """A module of records a clerk types in (as opposed to a computed report)."""
        return self in RECORD_MODULES


_MODULE_TITLES = {
    Module.PRODUCTION: "Production",
    Module.DISPATCH: "Dispatch",
    Module.RECEIVED: "Received",
    Module.EQUIPMENT: "Equipment",
    Module.MANPOWER: "Manpower",
    Module.ADJUSTMENTS: "Adjustments",
    Module.FEED: "Feed",
    Module.INVENTORY: "Inventory",
    Module.MASS_BALANCE: "Mass balance",
}

RECORD_MODULES: tuple[Module, ...] = (
    Module.PRODUCTION,
    Module.DISPATCH,
    Module.RECEIVED,
    Module.EQUIPMENT,
    Module.MANPOWER,
    Module.ADJUSTMENTS,
    Module.FEED,
)


class ExportFormat(StrEnum):
    """The file formats of an export (and of the "Preferred export format" setting)."""

    XLSX = "xlsx"
    CSV = "csv"
    POWERBI = "powerbi"
    PDF = "pdf"

    @property
    def extension(self) -> str:
        return "csv" if self is ExportFormat.POWERBI else self.value

    @property
    def label(self) -> str:
        return _FORMAT_LABELS[self]


_FORMAT_LABELS = {
    ExportFormat.XLSX: "Excel workbook (.xlsx)",
    ExportFormat.CSV: "CSV (.csv)",
    ExportFormat.POWERBI: "Power BI CSV (.csv)",
    ExportFormat.PDF: "PDF report (.pdf)",
}
