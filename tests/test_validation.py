"""Every rule of DOMAIN.md "Validation", through ``validate_record`` and the ``parse_*`` functions.

Pure and Qt-free: no store is needed, the reference index is built by hand.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from deskops_desktop.models import validation as v
from deskops_desktop.models.enums import RECORD_MODULES, Module
from deskops_desktop.models.errors import Problem, ValidationError
from deskops_desktop.models.modules import SPECS, ReferenceIndex, RefItem, validate_record

TODAY = date(2026, 11, 27)

REFS = ReferenceIndex(
    materials=(
        RefItem("m-g1", "AGG-G1", "G1", True, "AGGREGATES", "TON"),
        RefItem("m-old", "AGG-OLD", "Retired", False, "AGGREGATES", "TON"),
        RefItem("m-raw", "RAW-MIXED", "MIXED C&D DEBRIS", True, "RAW_FEED", "LOAD"),
    ),
    equipment=(
        RefItem("e-c1", "CRUSHER-01", "Jaw Crusher #1", True, "CRUSHING_SCREENING"),
        RefItem("e-old", "CRUSHER-99", "Scrapped", False, "CRUSHING_SCREENING"),
        RefItem("e-ldr", "LOADER-01", "Wheel Loader", True, "EARTH_MOVING"),
    ),
    roles=(
        RefItem("r-lab", "LABORER", "Laborer"),
        RefItem("r-old", "WATCHMAN", "Watchman", False),
    ),
)

VALID: dict[Module, dict[str, Any]] = {
    Module.PRODUCTION: {
        "date": "2026-11-20",
        "shift": "MORNING",
        "operation": "CRU-PRO",
        "material": "AGG-G1",
        "quantity": "12.5",
        "notes": "ok",
    },
    Module.DISPATCH: {
        "date": "2026-11-20",
        "reference": "DR-1",
        "material": "AGG-G1",
        "quantity": "3",
        "trips": "2",
        "owner": "Acme",
        "operation": "CRU-DIS",
        "fate": "SALE",
        "notes": "",
    },
    Module.RECEIVED: {
        "date": "2026-11-20",
        "material": "RAW-MIXED",
        "quantity": "4",
        "source": "Site B",
        "vehicle_ref": "TRK-9",
        "notes": "",
    },
    Module.EQUIPMENT: {
        "date": "2026-11-20",
        "shift": "NIGHT",
        "equipment": "CRUSHER-01",
        "hours": "7.5",
        "count": "1",
        "status": "OPERATIONAL",
        "notes": "",
    },
    Module.MANPOWER: {
        "date": "2026-11-20",
        "shift": "AFTERNOON",
        "role": "LABORER",
        "headcount": "12",
        "hours": "8",
        "notes": "",
    },
    Module.ADJUSTMENTS: {
        "date": "2026-11-20",
        "material": "AGG-G1",
        "quantity": "-2.5",
        "reason": "STOCK_COUNT",
        "notes": "",
    },
    Module.FEED: {
        "date": "2026-11-20",
        "shift": "MORNING",
        "material": "RAW-MIXED",
        "quantity": "6",
        "equipment": "CRUSHER-01",
        "notes": "",
    },
}


def check(module: Module, **changes: Any) -> dict[str, Any]:
    return validate_record(SPECS[module], {**VALID[module], **changes}, REFS, TODAY)


def problems(module: Module, **changes: Any) -> dict[str, str]:
    with pytest.raises(ValidationError) as info:
        check(module, **changes)
    return {p.field: p.message for p in info.value.problems}


# ------------------------------------------------------------------ whole records
@pytest.mark.parametrize("module", list(RECORD_MODULES))
def test_valid_record_of_every_module_is_cleaned(module: Module) -> None:
    clean = check(module)
    assert clean["date"] == date(2026, 11, 20)
    ref_column = SPECS[module].reference_field.column
    assert clean[ref_column] in {"m-g1", "m-raw", "e-c1", "r-lab"}
    assert set(clean) == {f.column for f in SPECS[module].fields}


def test_clean_values_have_exact_types() -> None:
    production = check(Module.PRODUCTION)
    assert production == {
        "date": date(2026, 11, 20),
        "shift": "MORNING",
        "operation": "CRU-PRO",
        "material_id": "m-g1",
        "quantity": Decimal("12.500"),
        "notes": "ok",
    }
    equipment = check(Module.EQUIPMENT)
    assert equipment["hours"] == Decimal("7.50")
    assert equipment["count"] == 1
    dispatch = check(Module.DISPATCH, trips="")
    assert dispatch["trips"] is None
    assert dispatch["owner"] == "Acme"
    adjustment = check(Module.ADJUSTMENTS)
    assert adjustment["quantity"] == Decimal("-2.500")


def test_all_problems_are_reported_at_once_with_field_names() -> None:
    with pytest.raises(ValidationError) as info:
        check(
            Module.PRODUCTION,
            date="2026-02-30",
            shift="EVENING",
            operation="MIXING",
            material="NOPE",
            quantity="12,5t",
            notes="x" * 501,
        )
    found = {p.field: p.message for p in info.value.problems}
    assert set(found) == {"date", "shift", "operation", "material", "quantity", "notes"}
    assert "YYYY-MM-DD" in found["date"]
    assert "MORNING" in found["shift"]
    assert "CRU-PRO" in found["operation"]
    assert found["material"] == "unknown material code 'NOPE'"
    assert "'12,5t' is not a number" in found["quantity"]
    assert "at most 500 characters" in found["notes"]
    # The exception text names every field so a CLI can print it as is.
    text = str(info.value)
    for field in found:
        assert f"{field}:" in text
    assert info.value.for_field("quantity") == [found["quantity"]]


def test_required_fields_are_reported_together() -> None:
    with pytest.raises(ValidationError) as info:
        validate_record(SPECS[Module.EQUIPMENT], {"notes": "only notes"}, REFS, TODAY)
    assert {(p.field, p.message) for p in info.value.problems} == {
        ("date", "is required"),
        ("equipment", "is required"),
        ("hours", "is required"),
        ("count", "is required"),
    }


def test_blank_optional_fields_become_empty() -> None:
    clean = check(Module.PRODUCTION, shift="  ", notes=None)
    assert clean["shift"] == ""
    assert clean["notes"] == ""


def test_problems_carry_the_row_number_for_imports() -> None:
    with pytest.raises(ValidationError) as info:
        validate_record(
            SPECS[Module.RECEIVED], {**VALID[Module.RECEIVED], "quantity": "0"}, REFS, TODAY, row=7
        )
    assert info.value.problems == (Problem("quantity", "must be greater than 0", 7),)
    assert str(info.value) == "row 7, quantity: must be greater than 0"


# ------------------------------------------------------------------ dates
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("2026-11-27", date(2026, 11, 27)),  # today (site zone) is allowed
        ("2000-01-01", date(2000, 1, 1)),
        (" 2024-02-29 ", date(2024, 2, 29)),  # leap day
        ("2024-03-01 00:00:00", date(2024, 3, 1)),  # spreadsheet text of a date cell
        ("2024-03-01T00:00:00", date(2024, 3, 1)),
        (date(2025, 5, 5), date(2025, 5, 5)),
        (datetime(2025, 5, 5), date(2025, 5, 5)),  # xlsx date cell
    ],
)
def test_dates_accepted(raw: object, expected: date) -> None:
    assert v.parse_date(raw, today=TODAY) == expected
    assert check(Module.RECEIVED, date=raw)["date"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("2026-11-28", "must not be in the future (today is 2026-11-27)"),
        (date(2027, 1, 1), "must not be in the future"),
        ("1999-12-31", "must not be before 2000-01-01"),
        ("2023-02-29", "not a date"),  # not a leap year
        ("2026-13-01", "not a date"),
        ("2026-04-31", "not a date"),
        ("27/11/2026", "not a date"),
        ("11/27/2026", "not a date"),
        ("20261127", "not a date"),
        ("2026-W48-1", "not a date"),  # ISO week date: fromisoformat would take it
        ("2026-331", "not a date"),  # ordinal date
        ("2026-11-2", "not a date"),
        ("yesterday", "not a date"),
        ("2026-11-20 08:30", "not a date"),
        (datetime(2026, 11, 20, 8, 30), "without a time of day"),
        (45000, "not a date"),  # an Excel serial number is not silently turned into a date
        (True, "not a date"),
    ],
)
def test_dates_refused(raw: object, message: str) -> None:
    with pytest.raises(v.FieldError, match=re.escape(message)):
        v.parse_date(raw, today=TODAY)
    assert message in problems(Module.PRODUCTION, date=raw)["date"]


def test_future_is_judged_in_the_sites_zone() -> None:
    # The service passes the site's calendar date; the rule is "not after that date".
    assert v.parse_date("2026-11-28", today=date(2026, 11, 28)) == date(2026, 11, 28)
    with pytest.raises(v.FieldError):
        v.parse_date("2026-11-28", today=date(2026, 11, 27))


# ------------------------------------------------------------------ quantities
@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12.5", "12.500"),
        ("0.001", "0.001"),
        ("999999.999", "999999.999"),
        ("999,999.999", "999999.999"),
        ("1,234.5", "1234.500"),
        ("1,234,567"[:5], "1234.000"),  # "1,234"
        (" 7 ", "7.000"),
        ("+3", "3.000"),
        (".5", "0.500"),
        ("5.", "5.000"),
        ("12.500", "12.500"),
        ("12.5000", "12.500"),  # trailing zeros are not extra precision
        (12, "12.000"),
        (12.5, "12.500"),  # xlsx numeric cell
        (0.1, "0.100"),
        (123.456, "123.456"),
        (Decimal("4.25"), "4.250"),
    ],
)
def test_quantities_accepted(raw: object, expected: str) -> None:
    result = v.parse_quantity(raw)
    assert result == Decimal(expected)
    assert str(result) == expected  # always 3 places, exact
    assert check(Module.PRODUCTION, quantity=raw)["quantity"] == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "greater than 0"),
        ("0.000", "greater than 0"),
        ("-1", "greater than 0"),
        (0, "greater than 0"),
        ("0.0001", "at most 3 decimals"),
        ("1.2345", "at most 3 decimals"),
        (0.1 + 0.2, "at most 3 decimals"),  # binary float noise is refused, not rounded
        ("1000000", "at most 999,999.999"),
        ("999999.9991", "at most"),
        ("1" + "0" * 30, "at most 999,999.999"),  # no decimal.InvalidOperation leaks out
        (1e300, "at most 999,999.999"),
        ("12,5t", "not a number"),
        ("12,5", "not a number"),  # decimal comma is ambiguous: refused
        ("12t", "not a number"),
        ("1e3", "not a number"),
        ("1E3", "not a number"),
        ("NaN", "not a number"),
        ("nan", "not a number"),
        ("inf", "not a number"),
        ("-Infinity", "not a number"),
        ("", "not a number"),
        ("1 000", "not a number"),
        ("1,23.5", "not a number"),
        ("0x10", "not a number"),
        ("1_000", "not a number"),
        ("--1", "not a number"),
        (float("nan"), "finite"),
        (float("inf"), "finite"),
        (Decimal("NaN"), "finite"),
        (Decimal("-Infinity"), "finite"),
        (Decimal("sNaN"), "finite"),
        (True, "must be a number"),
        (None, "must be a number"),
        ([1], "must be a number"),
    ],
)
def test_quantities_refused(raw: object, message: str) -> None:
    with pytest.raises(v.FieldError, match=re.escape(message)):
        v.parse_quantity(raw)


def test_blank_quantity_is_required_in_a_record() -> None:
    assert problems(Module.PRODUCTION, quantity="")["quantity"] == "is required"
    assert problems(Module.PRODUCTION, quantity="   ")["quantity"] == "is required"
    assert problems(Module.PRODUCTION, quantity=None)["quantity"] == "is required"


def test_record_quantity_messages() -> None:
    assert problems(Module.DISPATCH, quantity="12,5t") == {
        "quantity": "'12,5t' is not a number (use digits and '.', e.g. 12.5)"
    }
    assert problems(Module.RECEIVED, quantity="-4") == {"quantity": "must be greater than 0"}


# ------------------------------------------------------------------ signed adjustments
@pytest.mark.parametrize(
    ("raw", "expected"), [("-2.5", "-2.500"), ("3", "3.000"), ("-999999.999", "-999999.999")]
)
def test_signed_adjustments_accepted(raw: str, expected: str) -> None:
    assert v.parse_quantity(raw, signed=True) == Decimal(expected)
    assert check(Module.ADJUSTMENTS, quantity=raw)["quantity"] == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "must not be 0"),
        ("-0.000", "must not be 0"),
        ("-1000000", "at most 999,999.999"),
        ("-0.0005", "at most 3 decimals"),
        ("-1e3", "not a number"),
    ],
)
def test_signed_adjustments_refused(raw: str, message: str) -> None:
    with pytest.raises(v.FieldError, match=re.escape(message)):
        v.parse_quantity(raw, signed=True)
    assert message in problems(Module.ADJUSTMENTS, quantity=raw)["quantity"]


# ------------------------------------------------------------------ hours, counts, trips
@pytest.mark.parametrize(
    ("raw", "expected"), [("0", "0.00"), ("24", "24.00"), ("7.25", "7.25"), (8.5, "8.50")]
)
def test_hours_accepted(raw: object, expected: str) -> None:
    assert v.parse_hours(raw) == Decimal(expected)
    assert check(Module.MANPOWER, hours=raw)["hours"] == Decimal(expected)
    assert check(Module.EQUIPMENT, hours=raw)["hours"] == Decimal(expected)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("24.01", "between 0 and 24"),
        ("-0.5", "between 0 and 24"),
        ("7.125", "at most 2 decimals"),
        ("8h", "not a number"),
        ("9" * 40, "between 0 and 24"),
        ("NaN", "not a number"),
    ],
)
def test_hours_refused(raw: str, message: str) -> None:
    with pytest.raises(v.FieldError, match=re.escape(message)):
        v.parse_hours(raw)
    assert message in problems(Module.EQUIPMENT, hours=raw)["hours"]
    assert message in problems(Module.MANPOWER, hours=raw)["hours"]


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", 0), ("100", 100), (3, 3), (3.0, 3), (Decimal("4"), 4), (" 5 ", 5)]
)
def test_count_accepted(raw: object, expected: int) -> None:
    assert check(Module.EQUIPMENT, count=raw)["count"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("101", "between 0 and 100"),
        ("-1", "between 0 and 100"),
        ("1.5", "whole number"),
        (2.5, "whole number"),
        ("two", "whole number"),
        (float("nan"), "whole number"),
        (Decimal("NaN"), "whole number"),
        (Decimal("Infinity"), "whole number"),
        (True, "whole number"),
    ],
)
def test_count_refused(raw: object, message: str) -> None:
    assert message in problems(Module.EQUIPMENT, count=raw)["count"]


@pytest.mark.parametrize(
    ("raw", "ok"), [("0", True), ("500", True), ("501", False), ("-3", False), ("12.5", False)]
)
def test_headcount_range(raw: str, ok: bool) -> None:
    if ok:
        assert check(Module.MANPOWER, headcount=raw)["headcount"] == int(raw)
    else:
        assert problems(Module.MANPOWER, headcount=raw)["headcount"] in (
            "must be between 0 and 500",
            "must be a whole number",
        )


@pytest.mark.parametrize(("raw", "expected"), [("1", 1), ("250", 250), (7, 7), ("", None)])
def test_trips_accepted(raw: object, expected: int | None) -> None:
    assert check(Module.DISPATCH, trips=raw)["trips"] == expected


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("0", "at least 1"),
        ("-2", "at least 1"),
        ("1.5", "whole number"),
        ("3 trips", "whole number"),
    ],
)
def test_trips_refused(raw: str, message: str) -> None:
    assert message in problems(Module.DISPATCH, trips=raw)["trips"]


# ------------------------------------------------------------------ text lengths
@pytest.mark.parametrize(
    ("module", "field", "limit"),
    [
        (Module.PRODUCTION, "notes", 500),
        (Module.DISPATCH, "notes", 500),
        (Module.RECEIVED, "notes", 500),
        (Module.EQUIPMENT, "notes", 500),
        (Module.MANPOWER, "notes", 500),
        (Module.ADJUSTMENTS, "notes", 500),
        (Module.DISPATCH, "owner", 200),
        (Module.RECEIVED, "source", 200),
        (Module.DISPATCH, "reference", 100),
        (Module.RECEIVED, "vehicle_ref", 100),
    ],
)
def test_text_lengths(module: Module, field: str, limit: int) -> None:
    assert check(module, **{field: "é" * limit})[field] == "é" * limit
    assert check(module, **{field: "  padded  "})[field] == "padded"
    message = problems(module, **{field: "x" * (limit + 1)})[field]
    assert message == f"must be at most {limit} characters (has {limit + 1})"


# ------------------------------------------------------------------ reference data
@pytest.mark.parametrize(
    ("module", "field", "code", "expected_id"),
    [
        (Module.PRODUCTION, "material", "agg-g1", "m-g1"),  # case-insensitive
        (Module.PRODUCTION, "material", "AGG-G1 – G1", "m-g1"),  # combo-box label
        (Module.RECEIVED, "material", " RAW-MIXED - MIXED C&D DEBRIS", "m-raw"),
        (Module.EQUIPMENT, "equipment", "crusher-01", "e-c1"),
        (Module.MANPOWER, "role", "Laborer", "r-lab"),
    ],
)
def test_reference_codes_accepted(module: Module, field: str, code: str, expected_id: str) -> None:
    column = SPECS[module].field(field).column
    assert check(module, **{field: code})[column] == expected_id


@pytest.mark.parametrize(
    ("module", "field", "code", "message"),
    [
        (Module.PRODUCTION, "material", "AGG-X", "unknown material code 'AGG-X'"),
        (Module.ADJUSTMENTS, "material", "AGG-OLD", "material AGG-OLD is inactive"),
        (Module.EQUIPMENT, "equipment", "CRUSHER-77", "unknown equipment code 'CRUSHER-77'"),
        (Module.EQUIPMENT, "equipment", "CRUSHER-99", "equipment CRUSHER-99 is inactive"),
        (Module.MANPOWER, "role", "PILOT", "unknown role code 'PILOT'"),
        (Module.MANPOWER, "role", "WATCHMAN", "role WATCHMAN is inactive"),
        (
            Module.PRODUCTION,
            "material",
            "CRUSHER-01",
            "unknown material code 'CRUSHER-01'",
        ),  # wrong kind
    ],
)
def test_unknown_or_inactive_references_refused(
    module: Module, field: str, code: str, message: str
) -> None:
    assert problems(module, **{field: code})[field] == message


# ------------------------------------------------------------------ closed vocabularies
@pytest.mark.parametrize(
    ("module", "field", "raw", "expected"),
    [
        (Module.PRODUCTION, "shift", "morning", "MORNING"),
        (Module.EQUIPMENT, "shift", " Night ", "NIGHT"),
        (Module.PRODUCTION, "operation", "cru-op", "CRU-OP"),
        (Module.PRODUCTION, "operation", "Crushing – Production", "CRU-PRO"),
        (Module.PRODUCTION, "operation", "crushing - disposal", "CRU-DIS"),
        (Module.DISPATCH, "operation", "SEG-OP", "SEG-OP"),
        (Module.EQUIPMENT, "status", "breakdown", "BREAKDOWN"),
        (Module.EQUIPMENT, "status", "", ""),
        (Module.ADJUSTMENTS, "reason", "opening_balance", "OPENING_BALANCE"),
        (Module.ADJUSTMENTS, "reason", "LOSS", "LOSS"),
    ],
)
def test_choices_accepted(module: Module, field: str, raw: str, expected: str) -> None:
    assert check(module, **{field: raw})[field] == expected


@pytest.mark.parametrize(
    ("module", "field", "raw", "listed"),
    [
        (Module.PRODUCTION, "shift", "EVENING", "MORNING, AFTERNOON, NIGHT"),
        (Module.PRODUCTION, "operation", "CRUSHING", "CRU-PRO, CRU-DIS, SEG-OP, CRU-OP"),
        (Module.EQUIPMENT, "status", "BROKEN", "OPERATIONAL, MAINTENANCE, BREAKDOWN, IDLE"),
        (Module.ADJUSTMENTS, "reason", "THEFT", "OPENING_BALANCE, STOCK_COUNT, CORRECTION, LOSS"),
    ],
)
def test_choices_refused_listing_the_options(
    module: Module, field: str, raw: str, listed: str
) -> None:
    assert problems(module, **{field: raw})[field] == f"'{raw}' is not one of {listed}"


def test_required_choices() -> None:
    assert problems(Module.PRODUCTION, operation="")["operation"] == "is required"
    assert problems(Module.ADJUSTMENTS, reason=None)["reason"] == "is required"
    assert check(Module.DISPATCH, operation="")["operation"] == ""  # optional on dispatch


# ------------------------------------------------------------------ parse_decimal edge cases
def test_parse_decimal_keeps_the_users_number_exactly() -> None:
    assert v.parse_decimal("0.1") == Decimal("0.1")
    assert v.parse_decimal(0.1) == Decimal("0.1")  # shortest repr, not 0.1000000000000000055...
    assert v.parse_decimal("-1,000,000.25") == Decimal("-1000000.25")
    assert v.parse_decimal(10**20) == Decimal(10**20)


def test_is_blank() -> None:
    assert v.is_blank(None)
    assert v.is_blank("")
    assert v.is_blank(" \t")
    assert not v.is_blank(0)
    assert not v.is_blank("0")


# ------------------------------------------------------------------ feed and fate
def test_feed_takes_raw_feed_and_an_optional_crusher() -> None:
    clean = check(Module.FEED)
    assert (clean["material_id"], clean["quantity"], clean["equipment_id"]) == (
        "m-raw",
        Decimal("6.000"),
        "e-c1",
    )
    assert check(Module.FEED, equipment="")["equipment_id"] is None  # a NULL key, not ""
    assert problems(Module.FEED, material="AGG-G1") == {
        "material": "AGG-G1 is not a raw feed material"
    }
    assert problems(Module.FEED, equipment="LOADER-01") == {
        "equipment": "LOADER-01 is not a crushing screening equipment"
    }
    assert problems(Module.FEED, equipment="CRUSHER-99") == {
        "equipment": "equipment CRUSHER-99 is inactive"
    }


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        ("SALE", "SALE"),
        ("disposal", "DISPOSAL"),
        ("Landfill", "DISPOSAL"),
        ("by-product", "BY_PRODUCT"),
        ("used on site", "USED_ON_SITE"),
        ("Transfer to another site", "TRANSFER"),
    ],
)
def test_fate_accepts_codes_and_names(typed: str, stored: str) -> None:
    assert check(Module.DISPATCH, fate=typed)["fate"] == stored


def test_fate_is_required_but_defaults_when_the_caller_predates_it() -> None:
    assert problems(Module.DISPATCH, fate="") == {"fate": "is required"}
    assert problems(Module.DISPATCH, fate="GIFT") == {
        "fate": "'GIFT' is not one of SALE, TRANSFER, DISPOSAL, BY_PRODUCT, USED_ON_SITE"
    }
    older = {k: v for k, v in VALID[Module.DISPATCH].items() if k != "fate"}
    assert validate_record(SPECS[Module.DISPATCH], older, REFS, TODAY)["fate"] == "SALE"
