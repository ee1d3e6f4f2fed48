"""``from_attributes``: a value built from a row's same-named attributes."""

from __future__ import annotations

from dataclasses import dataclass
from types import SimpleNamespace

import pytest

from deskops_desktop.models.copying import from_attributes


@dataclass(frozen=True)
class _Value:
    code: str
    name: str
    count: int = 0


def test_copies_every_field_and_the_given_ones_win() -> None:
    row = SimpleNamespace(code="AGG-G1", name="Aggregate", count=3, other="not a field")
    assert from_attributes(_Value, row) == _Value("AGG-G1", "Aggregate", 3)
    assert from_attributes(_Value, row, count=7, name="Given") == _Value("AGG-G1", "Given", 7)


def test_a_field_the_source_lacks_fails_loudly_even_with_a_default() -> None:
    with pytest.raises(AttributeError, match="count"):
        from_attributes(_Value, SimpleNamespace(code="A", name="B"))
