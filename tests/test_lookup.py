"""``models.lookup.resolve``: what a clerk meant by part of a code or a name (pure)."""

from __future__ import annotations

import pytest

from deskops_desktop.models import reference_data as ref
from deskops_desktop.models.lookup import Choice, resolve

MATERIALS = [Choice(m.code, m.name) for m in ref.MATERIALS]
EQUIPMENT = [Choice(e.code, e.name) for e in ref.EQUIPMENT]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("AGG-G1", "AGG-G1"),
        ("g1", "AGG-G1"),  # the name "G1", exactly
        (" G1 ", "AGG-G1"),
        ("4 inch", "AGG-4INCH"),
        ("4inch", "AGG-4INCH"),
        ("washed", "FINE-WASHED"),
        ("3/4", "AGG-3/4"),
        ("recycled", "BASE-RECYCLED"),
        ("AGG-G1 – G1", "AGG-G1"),  # the completion's own label
        ("concrete", "RAW-CONCRETE"),
    ],
)
def test_part_of_a_code_or_a_name_resolves(typed: str, code: str) -> None:
    assert resolve(MATERIALS, typed).code == code


def test_several_matches_stay_an_error_that_lists_them() -> None:
    found = resolve(MATERIALS, "sand")
    assert found.code is None
    assert found.ambiguous
    assert [c.code for c in found.candidates] == ["FINE-WASHED", "FINE-NATURAL", "SPEC-BEDDING"]
    assert found.message("material") == (
        "'sand' matches 3 materials: FINE-WASHED – WASHED SAND, FINE-NATURAL – NATURAL SAND,"
        " SPEC-BEDDING – BEDDING SAND; type more"
    )
    crushers = resolve(EQUIPMENT, "crusher")
    assert crushers.ambiguous
    assert resolve(EQUIPMENT, "jaw").code == "CRUSHER-01"
    assert resolve(EQUIPMENT, "crusher-02").code == "CRUSHER-02"


def test_nothing_and_blank() -> None:
    none = resolve(MATERIALS, "zzz")
    assert (none.code, none.candidates, none.ambiguous) == (None, (), False)
    assert none.message("material") == "no material matches 'zzz'"
    assert resolve(MATERIALS, "  ").code is None


def test_an_exact_code_wins_over_names_and_contained_codes() -> None:
    choices = [Choice("G1", "Gravel one"), Choice("AGG-G1", "G1")]
    assert resolve(choices, "g1").code == "G1"
    many = [Choice("S1", "Sand"), Choice("S10", "Sand ten")]
    assert resolve(many, "s1").code == "S1"  # equal beats contains


def test_a_name_that_only_spells_the_code_is_shown_alone() -> None:
    assert Choice("MAINTENANCE_WORKER", "Maintenance Worker").label == "Maintenance Worker"
    assert Choice("AGG-G1", "G1").label == "AGG-G1 – G1"
    roles = [Choice("MAINTENANCE_WORKER", "Maintenance Worker"), Choice("LABORER", "Laborer")]
    assert resolve(roles, "maintenance").code == "MAINTENANCE_WORKER"
    assert resolve(roles, "Maintenance Worker").code == "MAINTENANCE_WORKER"  # its label
