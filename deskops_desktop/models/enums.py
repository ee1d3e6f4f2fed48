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


UOM_SUMMARY_DECIMALS: dict[str, int] = {Uom.TON: 2, Uom.LOAD: 0}
UOM_SYMBOL: dict[str, str] = {Uom.TON: "t", Uom.LOAD: "loads"}


class Level(StrEnum):
    LOW = "LOW"
    WARNING = "WARNING"
    HEALTHY = "HEALTHY"


class Granularity(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"


class Module(StrEnum):
    """The record modules a clerk enters (and that import/export speak of)."""

    PRODUCTION = "production"
    DISPATCH = "dispatch"
    RECEIVED = "received"
    EQUIPMENT = "equipment"
    MANPOWER = "manpower"
    ADJUSTMENTS = "adjustments"
