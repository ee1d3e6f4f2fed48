"""What each record module consists of: fields, import headers, unique key, ledger effect.

This table of specs is the single source that forms, imports, paste, exports and the CLI read,
so a field added here appears everywhere with the same rules. ``validate_record`` applies
``validation`` to a raw mapping and reports *all* problems at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from deskops_desktop.models import validation as v
from deskops_desktop.models.enums import (
    FATE_NAMES,
    OPERATION_NAMES,
    AdjustmentReason,
    Category,
    EquipmentStatus,
    EquipmentType,
    Fate,
    Module,
    Operation,
    Shift,
)
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.records import (
    Dispatch,
    EquipmentLog,
    Feed,
    InventoryAdjustment,
    ManpowerLog,
    Production,
    Received,
    RecordMixin,
)

# The design's stock thresholds of a material that has none of its own (DOMAIN.md, Levels).
DEFAULT_LOW = Decimal(100)
DEFAULT_HIGH = Decimal(500)


class Kind(StrEnum):
    """What a field holds; it decides the parser, the widget and the export column type."""

    DATE = "date"
    QUANTITY = "quantity"
    SIGNED_QUANTITY = "signed_quantity"
    HOURS = "hours"
    COUNT = "count"
    HEADCOUNT = "headcount"
    TRIPS = "trips"
    TEXT = "text"
    SHIFT = "shift"
    OPERATION = "operation"
    FATE = "fate"
    STATUS = "status"
    REASON = "reason"
    MATERIAL = "material"
    EQUIPMENT = "equipment"
    ROLE = "role"


REFERENCE_KINDS = {
    Kind.MATERIAL: "material_id",
    Kind.EQUIPMENT: "equipment_id",
    Kind.ROLE: "role_id",
}


@dataclass(frozen=True)
class FieldSpec:
    """One field of a module: key, import header, label, kind and limits.

    ``category`` limits a reference field to materials of that category (or equipment of that
    type). ``default`` is what a form proposes and what an import uses when the file has no such
    column at all (a blank cell in a present column is still "required").
    """

    key: str
    header: str
    label: str
    kind: Kind
    required: bool = False
    max_length: int = 0
    category: str | None = None
    default: str | None = None

    @property
    def column(self) -> str:
        """Attribute name on the table (references are stored by id)."""
        return REFERENCE_KINDS.get(self.kind, self.key)


@dataclass(frozen=True)
class ModuleSpec:
    """Everything about one record module that forms, imports, exports and the ledger need."""

    module: Module
    title: str
    table: type[RecordMixin]
    fields: tuple[FieldSpec, ...]
    unique_key: tuple[str, ...] = ()
    flow: str | None = None  # StockDay column this module moves, if any
    headers: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "headers", tuple(f.header for f in self.fields))

    def field(self, key: str) -> FieldSpec:
        for spec in self.fields:
            if spec.key == key:
                return spec
        raise KeyError(key)

    @property
    def reference_field(self) -> FieldSpec:
        """The field the module's rows are about (the first reference: material, equipment or
        role); lists join it, sort and search by it."""
        return next(f for f in self.fields if f.kind in REFERENCE_KINDS)

    @property
    def other_references(self) -> tuple[FieldSpec, ...]:
        """Further, optional references (the crusher of a feed record), shown by code."""
        main = self.reference_field
        return tuple(f for f in self.fields if f.kind in REFERENCE_KINDS and f is not main)


@dataclass(frozen=True)
class RefItem:
    """A master-data row as validation and display need it."""

    id: str
    code: str
    name: str
    active: bool = True
    category: str = ""
    uom: str = ""
    sort_order: int = 0
    low_threshold: Decimal = DEFAULT_LOW
    high_threshold: Decimal = DEFAULT_HIGH

    @property
    def label(self) -> str:
        return f"{self.code} – {self.name}"


@dataclass(frozen=True)
class ReferenceIndex:
    """Lookup of materials, equipment and roles by code (case-insensitive) and by id."""

    materials: tuple[RefItem, ...] = ()
    equipment: tuple[RefItem, ...] = ()
    roles: tuple[RefItem, ...] = ()

    def items(self, kind: Kind) -> tuple[RefItem, ...]:
        return {
            Kind.MATERIAL: self.materials,
            Kind.EQUIPMENT: self.equipment,
            Kind.ROLE: self.roles,
        }[kind]

    def by_code(self, kind: Kind, code: str) -> RefItem | None:
        wanted = code.strip().upper()
        # Accept the combo-box form "CODE – Name" as well as the bare code.
        for sep in (" – ", " - "):
            if sep in wanted:
                wanted = wanted.split(sep, 1)[0].strip()
        for item in self.items(kind):
            if item.code.upper() == wanted:
                return item
        return None

    def by_id(self, item_id: str) -> RefItem | None:
        for group in (self.materials, self.equipment, self.roles):
            for item in group:
                if item.id == item_id:
                    return item
        return None


_NOTES = FieldSpec("notes", "Notes", "Notes", Kind.TEXT, max_length=500)
_DATE = FieldSpec("date", "Date", "Date", Kind.DATE, required=True)
_SHIFT = FieldSpec("shift", "Shift", "Shift", Kind.SHIFT)
_MATERIAL = FieldSpec("material", "Material Code", "Material", Kind.MATERIAL, required=True)
_QUANTITY = FieldSpec("quantity", "Quantity", "Quantity", Kind.QUANTITY, required=True)

SPECS: dict[Module, ModuleSpec] = {
    Module.PRODUCTION: ModuleSpec(
        Module.PRODUCTION,
        "Production",
        Production,
        (
            _DATE,
            _SHIFT,
            FieldSpec("operation", "Operation", "Operation", Kind.OPERATION, required=True),
            _MATERIAL,
            _QUANTITY,
            _NOTES,
        ),
        unique_key=("site_id", "date", "shift", "material_id", "operation"),
        flow="produced",
    ),
    Module.DISPATCH: ModuleSpec(
        Module.DISPATCH,
        "Dispatch",
        Dispatch,
        (
            _DATE,
            FieldSpec("reference", "Reference", "DR No.", Kind.TEXT, max_length=100),
            _MATERIAL,
            _QUANTITY,
            FieldSpec("fate", "Fate", "Fate", Kind.FATE, required=True, default=Fate.SALE),
            FieldSpec("trips", "Trips", "Trips", Kind.TRIPS),
            FieldSpec("owner", "Owner", "Customer", Kind.TEXT, max_length=200),
            FieldSpec("operation", "Operation", "Operation", Kind.OPERATION),
            _NOTES,
        ),
        flow="dispatched",
    ),
    Module.RECEIVED: ModuleSpec(
        Module.RECEIVED,
        "Received",
        Received,
        (
            _DATE,
            _MATERIAL,
            _QUANTITY,
            FieldSpec("source", "Source", "Source", Kind.TEXT, max_length=200),
            FieldSpec("vehicle_ref", "Vehicle Ref", "Vehicle", Kind.TEXT, max_length=100),
            _NOTES,
        ),
        flow="received",
    ),
    Module.EQUIPMENT: ModuleSpec(
        Module.EQUIPMENT,
        "Equipment",
        EquipmentLog,
        (
            _DATE,
            _SHIFT,
            FieldSpec("equipment", "Equipment Code", "Equipment", Kind.EQUIPMENT, required=True),
            FieldSpec("hours", "Hours", "Hours", Kind.HOURS, required=True),
            FieldSpec("count", "Count", "Units", Kind.COUNT, required=True),
            FieldSpec("status", "Status", "Status", Kind.STATUS),
            _NOTES,
        ),
        unique_key=("site_id", "date", "equipment_id", "shift"),
    ),
    Module.MANPOWER: ModuleSpec(
        Module.MANPOWER,
        "Manpower",
        ManpowerLog,
        (
            _DATE,
            _SHIFT,
            FieldSpec("role", "Role Code", "Role", Kind.ROLE, required=True),
            FieldSpec("headcount", "Headcount", "Headcount", Kind.HEADCOUNT, required=True),
            FieldSpec("hours", "Hours", "Hours", Kind.HOURS, required=True),
            _NOTES,
        ),
        unique_key=("site_id", "date", "role_id", "shift"),
    ),
    Module.FEED: ModuleSpec(
        Module.FEED,
        "Feed",
        Feed,
        (
            _DATE,
            _SHIFT,
            FieldSpec(
                "material",
                "Material Code",
                "Material",
                Kind.MATERIAL,
                required=True,
                category=Category.RAW_FEED,
            ),
            _QUANTITY,
            FieldSpec(
                "equipment",
                "Equipment Code",
                "Crusher",
                Kind.EQUIPMENT,
                category=EquipmentType.CRUSHING_SCREENING,
            ),
            _NOTES,
        ),
        flow="fed",
    ),
    Module.ADJUSTMENTS: ModuleSpec(
        Module.ADJUSTMENTS,
        "Adjustments",
        InventoryAdjustment,
        (
            _DATE,
            _MATERIAL,
            FieldSpec("quantity", "Adjustment", "Adjustment", Kind.SIGNED_QUANTITY, required=True),
            FieldSpec("reason", "Reason", "Reason", Kind.REASON, required=True),
            _NOTES,
        ),
        flow="adjustment",
    ),
}

_FATE_ALIASES = {name: fate.value for fate, name in FATE_NAMES.items()}
_FATE_ALIASES.update(
    {
        "Sold": Fate.SALE,
        "Transfer to another site": Fate.TRANSFER,
        "Landfill": Fate.DISPOSAL,
        "By product": Fate.BY_PRODUCT,
        "Byproduct": Fate.BY_PRODUCT,
        "Used on-site": Fate.USED_ON_SITE,
    }
)
_OPERATION_ALIASES = {name: op.value for op, name in OPERATION_NAMES.items()}
_OPERATION_ALIASES.update(
    {name.replace("–", "-"): op.value for op, name in OPERATION_NAMES.items()}
)


def _parse(spec: FieldSpec, value: object, refs: ReferenceIndex, today: date) -> Any:
    kind = spec.kind
    if kind is Kind.DATE:
        return v.parse_date(value, today=today)
    if kind is Kind.QUANTITY:
        return v.parse_quantity(value)
    if kind is Kind.SIGNED_QUANTITY:
        return v.parse_quantity(value, signed=True)
    if kind is Kind.HOURS:
        return v.parse_hours(value)
    if kind is Kind.COUNT:
        return v.parse_int(value, low=0, high=100)
    if kind is Kind.HEADCOUNT:
        return v.parse_int(value, low=0, high=500)
    if kind is Kind.TRIPS:
        return v.parse_int(value, low=1, high=None)
    if kind is Kind.TEXT:
        return v.parse_text(value, max_length=spec.max_length)
    if kind is Kind.SHIFT:
        return v.parse_choice(value, [s.value for s in Shift])
    if kind is Kind.OPERATION:
        return v.parse_choice(value, [o.value for o in Operation], _OPERATION_ALIASES)
    if kind is Kind.FATE:
        return v.parse_choice(value, [f.value for f in Fate], _FATE_ALIASES)
    if kind is Kind.STATUS:
        return v.parse_choice(value, [s.value for s in EquipmentStatus])
    if kind is Kind.REASON:
        return v.parse_choice(value, [r.value for r in AdjustmentReason])
    item = refs.by_code(kind, str(value))
    if item is None:
        raise v.FieldError(f"unknown {kind.value} code '{str(value).strip()}'")
    if not item.active:
        raise v.FieldError(f"{kind.value} {item.code} is inactive")
    if spec.category is not None and item.category != spec.category:
        what = spec.category.replace("_", " ").lower()
        raise v.FieldError(f"{item.code} is not a {what} {kind.value}")
    return item.id


def _empty(spec: FieldSpec) -> Any:
    # Optional numbers and references are NULL (a reference is a foreign key), text is "".
    return None if spec.kind is Kind.TRIPS or spec.kind in REFERENCE_KINDS else ""


def validate_record(
    spec: ModuleSpec,
    raw: Mapping[str, object],
    refs: ReferenceIndex,
    today: date,
    *,
    row: int | None = None,
) -> dict[str, Any]:
    """Clean ``raw`` (keys are ``FieldSpec.key``) into column values, or raise every problem.

    A field with a ``default`` whose key is absent from ``raw`` takes the default (a caller or
    file that predates the field); a key present but blank is still "required".
    """
    problems: list[Problem] = []
    clean: dict[str, Any] = {}
    for fspec in spec.fields:
        value = raw.get(fspec.key, fspec.default)
        if v.is_blank(value):
            if fspec.required:
                problems.append(Problem(fspec.key, "is required", row))
            else:
                clean[fspec.column] = _empty(fspec)
            continue
        try:
            clean[fspec.column] = _parse(fspec, value, refs, today)
        except v.FieldError as exc:
            problems.append(Problem(fspec.key, str(exc), row))
    if problems:
        raise ValidationError(problems)
    return clean
