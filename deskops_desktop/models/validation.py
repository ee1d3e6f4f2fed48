"""Field rules shared by forms, imports, paste and the CLI (DOMAIN.md, "Validation").

Each ``parse_*`` returns the clean value or raises ``FieldError`` with a message a clerk can act
on. Nothing is silently coerced: "12,5t", NaN, infinities and exponents are errors. Input may be
text (forms, csv, CLI) or a typed value (xlsx cells, Python callers); both go through the same
rules so that a value accepted in one place is accepted everywhere.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

MIN_DATE = date(2000, 1, 1)
MAX_QUANTITY = Decimal("999999.999")

_PLAIN_NUMBER = re.compile(r"^[+-]?(\d+(\.\d*)?|\.\d+)$")
_GROUPED_NUMBER = re.compile(r"^[+-]?\d{1,3}(,\d{3})+(\.\d+)?$")
_INTEGER = re.compile(r"^[+-]?\d+$")
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")


class FieldError(ValueError):
    """One field's problem; the message names no field (the caller knows which one)."""


def is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and value.strip() == "")


def parse_date(value: object, *, today: date) -> date:
    if isinstance(value, datetime):
        if (value.hour, value.minute, value.second, value.microsecond) != (0, 0, 0, 0):
            raise FieldError("must be a date without a time of day")
        result = value.date()
    elif isinstance(value, date):
        result = value
    elif isinstance(value, str):
        text = value.strip()
        if len(text) > 10 and text[10:].strip() in ("00:00:00", "T00:00:00", "00:00"):
            text = text[:10]
        # Only YYYY-MM-DD: fromisoformat alone would also take week dates such as 2024-W01-1.
        if not _ISO_DATE.match(text):
            raise FieldError(f"'{value.strip()}' is not a date; use YYYY-MM-DD")
        try:
            result = date.fromisoformat(text)
        except ValueError:
            raise FieldError(f"'{value.strip()}' is not a date; use YYYY-MM-DD") from None
    else:
        raise FieldError("is not a date; use YYYY-MM-DD")
    if result < MIN_DATE:
        raise FieldError("must not be before 2000-01-01")
    if result > today:
        raise FieldError(f"must not be in the future (today is {today.isoformat()})")
    return result


def parse_decimal(value: object) -> Decimal:
    """Any exact decimal the user meant, or ``FieldError``; range checks come later."""
    if isinstance(value, bool):
        raise FieldError("must be a number")
    if isinstance(value, int):
        return Decimal(value)
    if isinstance(value, float):
        if math.isnan(value) or math.isinf(value):
            raise FieldError("must be a finite number")
        # repr gives the shortest string that round-trips: 12.5 stays 12.5, not 12.4999...
        return Decimal(repr(value))
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise FieldError("must be a finite number")
        return value
    if not isinstance(value, str):
        raise FieldError("must be a number")
    text = value.strip()
    if _GROUPED_NUMBER.match(text):
        text = text.replace(",", "")
    elif not _PLAIN_NUMBER.match(text):
        raise FieldError(f"'{value.strip()}' is not a number (use digits and '.', e.g. 12.5)")
    try:
        return Decimal(text)
    except InvalidOperation:  # pragma: no cover - the regex admits only valid literals
        raise FieldError(f"'{text}' is not a number") from None


def _check_places(number: Decimal, places: int) -> None:
    if number != number.quantize(Decimal(1).scaleb(-places)):
        raise FieldError(f"must have at most {places} decimals")


def parse_quantity(value: object, *, signed: bool = False) -> Decimal:
    """Tons or loads: > 0 (or non-zero when ``signed``), ≤ 3 decimals, |q| ≤ 999,999.999."""
    number = parse_decimal(value)
    # Range before places: quantizing a huge value (1e30) would raise InvalidOperation.
    if signed:
        if number == 0:
            raise FieldError("must not be 0")
    elif number <= 0:
        raise FieldError("must be greater than 0")
    if abs(number) > MAX_QUANTITY:
        raise FieldError("must be at most 999,999.999")
    _check_places(number, 3)
    return number.quantize(Decimal("0.001"))


def parse_hours(value: object) -> Decimal:
    number = parse_decimal(value)
    if number < 0 or number > 24:
        raise FieldError("must be between 0 and 24")
    _check_places(number, 2)
    return number.quantize(Decimal("0.01"))


def parse_int(value: object, *, low: int, high: int | None) -> int:
    if isinstance(value, bool):
        raise FieldError("must be a whole number")
    if isinstance(value, int):
        number = value
    elif isinstance(value, float | Decimal):
        if not (math.isfinite(value) if isinstance(value, float) else value.is_finite()):
            raise FieldError("must be a whole number")
        if value != int(value):
            raise FieldError("must be a whole number")
        number = int(value)
    elif isinstance(value, str) and _INTEGER.match(value.strip()):
        number = int(value.strip())
    else:
        raise FieldError("must be a whole number")
    if number < low or (high is not None and number > high):
        if high is None:
            raise FieldError(f"must be at least {low}")
        raise FieldError(f"must be between {low} and {high}")
    return number


def parse_text(value: object, *, max_length: int) -> str:
    if value is None:
        return ""
    text = str(value).strip()
    if len(text) > max_length:
        raise FieldError(f"must be at most {max_length} characters (has {len(text)})")
    return text


def parse_choice(
    value: object, choices: Iterable[str], aliases: dict[str, str] | None = None
) -> str:
    """Match a closed vocabulary case-insensitively (also by display name via ``aliases``)."""
    options = list(choices)
    text = str(value).strip()
    for option in options:
        if option.upper() == text.upper():
            return option
    if aliases:
        for alias, option in aliases.items():
            if alias.casefold() == text.casefold():
                return option
    raise FieldError(f"'{text}' is not one of {', '.join(options)}")
