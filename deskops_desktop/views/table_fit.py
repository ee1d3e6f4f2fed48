"""Column widths that fit a table's width: every column visible, none scrolled off sideways.

Text columns (names, notes, customers) give up width in proportion to what they have, never
below ``minimum`` (their text elides with "…", whole in the tooltip); codes, dates and numbers
keep theirs — a quantity cut off is the one thing a clerk cannot read around.
"""

from __future__ import annotations

from collections.abc import Sequence

MIN_TEXT_WIDTH = 70


def fit_widths(
    widths: Sequence[int],
    shrinkable: Sequence[bool],
    target: int,
    minimum: int = MIN_TEXT_WIDTH,
) -> list[int]:
    """``widths`` shrunk to add up to ``target`` where the shrinkable columns allow it."""
    out = list(widths)
    excess = sum(out) - target
    if excess <= 0:
        return out
    give = [max(w - minimum, 0) if s else 0 for w, s in zip(out, shrinkable, strict=True)]
    room = sum(give)
    if room == 0:
        return out
    share = min(excess, room) / room
    for i, spare in enumerate(give):
        out[i] -= int(spare * share + 0.999)  # round up: the sum must not exceed the target
    return out


def minimum_total(
    widths: Sequence[int], shrinkable: Sequence[bool], minimum: int = MIN_TEXT_WIDTH
) -> int:
    """The narrowest the columns can be (shrinkable ones at ``minimum``)."""
    return sum(min(w, minimum) if s else w for w, s in zip(widths, shrinkable, strict=True))
