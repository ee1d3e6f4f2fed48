"""The reference data every new store starts with (DOMAIN.md, "Reference data").

Seeding is idempotent: rows are matched by code and only missing ones are added, so an admin's
later edits (names, thresholds, deactivation) are never overwritten on the next start.
"""

from __future__ import annotations

from typing import NamedTuple

from deskops_desktop.models.enums import Category, EquipmentType, Uom


class MaterialSeed(NamedTuple):
    code: str
    name: str
    category: str
    uom: str
    is_final: bool


class EquipmentSeed(NamedTuple):
    code: str
    name: str
    type: str


class RoleSeed(NamedTuple):
    code: str
    name: str


DEFAULT_SITE_CODE = "ALASLA-29"
DEFAULT_SITE_NAME = "Al Asla Recycling Facility"
DEFAULT_SITE_LOCATION = "Jeddah"
DEFAULT_TIMEZONE = "Asia/Riyadh"

_A, _T = Category.AGGREGATES, Uom.TON

MATERIALS: tuple[MaterialSeed, ...] = (
    MaterialSeed("AGG-G1", "G1", _A, _T, True),
    MaterialSeed("AGG-3/4", "3/4", _A, _T, True),
    MaterialSeed("AGG-3/8", "3/8", _A, _T, True),
    MaterialSeed("AGG-S1", "S1", _A, _T, True),
    MaterialSeed("AGG-APBC", "APBC", _A, _T, True),
    MaterialSeed("AGG-FILLING", "FILLING MATERIAL", _A, _T, True),
    MaterialSeed("AGG-RIPRAP", "RIPRAP", _A, _T, True),
    MaterialSeed("AGG-4INCH", "4 INCH", _A, _T, True),
    MaterialSeed("AGG-6INCH", "6 INCH", _A, _T, True),
    MaterialSeed("FINE-WASHED", "WASHED SAND", Category.FINE, _T, True),
    MaterialSeed("FINE-NATURAL", "NATURAL SAND", Category.FINE, _T, True),
    MaterialSeed("SPEC-BEDDING", "BEDDING SAND", Category.SPECIALTY, _T, True),
    MaterialSeed("BASE-CRUSHED", "CRUSHED BASE", Category.PROCESSED_BASE, _T, True),
    MaterialSeed("BASE-RECYCLED", "RECYCLED BASE", Category.PROCESSED_BASE, _T, True),
    MaterialSeed("RAW-CONCRETE", "CONCRETE DEBRIS", Category.RAW_FEED, Uom.LOAD, False),
    MaterialSeed("RAW-MIXED", "MIXED C&D DEBRIS", Category.RAW_FEED, Uom.LOAD, False),
    MaterialSeed("RAW-ASPHALT", "ASPHALT DEBRIS", Category.RAW_FEED, Uom.LOAD, False),
)

EQUIPMENT: tuple[EquipmentSeed, ...] = (
    EquipmentSeed("CRUSHER-01", "Jaw Crusher #1", EquipmentType.CRUSHING_SCREENING),
    EquipmentSeed("CRUSHER-02", "Cone Crusher #1", EquipmentType.CRUSHING_SCREENING),
    EquipmentSeed("SCREEN-01", "Vibrating Screen #1", EquipmentType.CRUSHING_SCREENING),
    EquipmentSeed("EXCAVATOR-01", "Excavator CAT320", EquipmentType.EARTH_MOVING),
    EquipmentSeed("EXCAVATOR-02", "Excavator PC200", EquipmentType.EARTH_MOVING),
    EquipmentSeed("LOADER-01", "Wheel Loader L120", EquipmentType.EARTH_MOVING),
    EquipmentSeed("DUMPTRUCK-01", "Dump Truck 6W", EquipmentType.HAULING),
    EquipmentSeed("DUMPTRUCK-02", "Dump Truck 10W", EquipmentType.HAULING),
    EquipmentSeed("GENERATOR-01", "Generator 500kVA", EquipmentType.AUXILIARY),
)

ROLES: tuple[RoleSeed, ...] = (
    RoleSeed("EQUIPMENT_DRIVER", "Equipment Driver"),
    RoleSeed("CRUSHER_OPERATOR", "Crusher Operator"),
    RoleSeed("MAINTENANCE_WORKER", "Maintenance Worker"),
    RoleSeed("LABORER", "Laborer"),
    RoleSeed("SECURITY", "Security"),
)
