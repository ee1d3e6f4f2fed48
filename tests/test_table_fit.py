"""``views.table_fit``: columns fit the table's width; text gives way, numbers never do."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deskops_desktop.views.table_fit import MIN_TEXT_WIDTH, fit_widths, minimum_total


def test_text_columns_give_way_in_proportion() -> None:
    widths = [90, 200, 80, 260]
    text = [False, True, False, True]
    fitted = fit_widths(widths, text, 500)
    assert sum(fitted) <= 500
    assert (fitted[0], fitted[2]) == (90, 80)  # the date and the quantity keep their width
    assert fitted[3] < 260
    assert fitted[1] < 200
    assert fit_widths(widths, text, 1000) == widths  # room enough: nothing changes
    assert minimum_total(widths, text) == 90 + MIN_TEXT_WIDTH + 80 + MIN_TEXT_WIDTH


@given(
    st.lists(st.tuples(st.integers(20, 400), st.booleans()), min_size=1, max_size=14),
    st.integers(0, 3000),
)
def test_never_wider_than_asked_when_possible_never_below_the_minimum(
    columns: list[tuple[int, bool]], target: int
) -> None:
    widths = [w for w, _ in columns]
    text = [s for _, s in columns]
    fitted = fit_widths(widths, text, target)
    if sum(widths) <= target:
        assert fitted == widths
    elif target >= minimum_total(widths, text):
        assert sum(fitted) <= target
    for before, after, shrinks in zip(widths, fitted, text, strict=True):
        assert after <= before
        assert after == before or (shrinks and after >= min(before, MIN_TEXT_WIDTH))
